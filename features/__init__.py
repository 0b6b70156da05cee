"""The feature catalogue: one YAML file per family (data, not code).

Installed as ``radiopipe.catalogue`` so that radiopipe can read it at run time; see
``radiopipe/features/catalogue.py``.
"""
