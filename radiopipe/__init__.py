"""radiopipe: IBSI-compliant radiomics features and leak-free classical ML for medical images.

The public API (:mod:`radiopipe.api`) is available from the package itself, loaded on first use
so that ``import radiopipe`` stays light for worker processes::

    import radiopipe as rp
    config = rp.load_config("configs/demo.yaml")
    run = rp.run(config)

The package never configures logging itself; only the command line does. A ``NullHandler`` on
the package logger keeps library use silent unless the caller configures logging.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "__version__",
    "backend_status",
    "check_compliance",
    "check_filter_compliance",
    "cohort",
    "compare_backends",
    "default_output",
    "explain_case",
    "explain_heldout",
    "extract",
    "extract_case",
    "feature_maps",
    "from_pyradiomics",
    "from_pyradiomics_names",
    "import_features",
    "load_config",
    "make_config",
    "predict",
    "pyradiomics_reading",
    "robustness",
    "run",
    "to_pyradiomics_names",
    "train",
    "validate_config",
    "voxel_maps",
    "write_maps",
    "write_report",
]

# The public API's functions (radiopipe.api), imported on first access.
API = frozenset(__all__) - {"__version__"}


def __getattr__(name: str):
    """The public API's functions, imported from :mod:`radiopipe.api` on first access."""
    if name in API:
        from radiopipe import api

        return getattr(api, name)
    raise AttributeError(f"module 'radiopipe' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted({*globals(), *API})
