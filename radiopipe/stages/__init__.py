"""The run's stages, side by side: extract, train, explain, report, and predict for new cases.

Each stage reads what it needs from the run folder (:mod:`radiopipe.run_folder`) and writes its own
outputs there; no stage imports another. Each knows the settings and inputs it reads, and reruns
only when they changed (``stages/<stage>.json`` in the run folder, :mod:`radiopipe.stage_reuse`).
:mod:`radiopipe.api` runs them in order.
"""
