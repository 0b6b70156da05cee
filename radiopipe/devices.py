"""Whether the devices a config names exist on this machine, checked when the config is loaded.

A GPU asked for by name (feature backend 'cupy', XGBoost device 'cuda', LightGBM device 'gpu' or
'cuda') on a machine without one is a config error, so a run stops before any work with the
reason and the fix: otherwise XGBoost falls back to the CPU with a warning repeated at every fit
and LightGBM stops mid-training. ``features.backend: auto`` is the way to use a GPU where there
is one; it logs what it chose, and why, once per process.
"""

from __future__ import annotations

import json
import logging
import warnings
from functools import cache

from radiopipe.config import LoadedConfig, ModelConfig
from radiopipe.errors import ConfigError

logger = logging.getLogger(__name__)


def check_devices(loaded: LoadedConfig) -> None:
    """Raise a :class:`ConfigError` listing every unusable device the config asks for.

    Parameters
    ----------
    loaded : LoadedConfig

    Raises
    ------
    ConfigError
        Naming each setting, what was found instead, and what to set.
    """
    config = loaded.config
    problems = []
    if config.features.backend == "cupy":
        from radiopipe import gpu

        if not gpu.is_available():
            problems.append(f"features.backend 'cupy': {gpu.unavailable_reason()}; use 'auto' "
                            "(GPU where there is one) or 'native'")
    elif config.features.backend == "auto":
        _log_auto_choice()
    used = _boosters_used(config.model)
    if "xgboost" in used and config.model.xgboost.device == "cuda":
        reason = _xgboost_cuda_problem()
        if reason is not None:
            problems.append(f"model.xgboost.device 'cuda': {reason}; set it to 'cpu'")
    if "lightgbm" in used and config.model.lightgbm.device != "cpu":
        reason = _lightgbm_gpu_problem(config.model.lightgbm.device)
        if reason is not None:
            problems.append(f"model.lightgbm.device '{config.model.lightgbm.device}': {reason}; "
                            "set it to 'cpu'")
    if problems:
        raise ConfigError(f"{loaded.source}: " + "; ".join(problems))


def _boosters_used(model: ModelConfig) -> set[str]:
    """The zoo models a config fits: its candidates and the members of its ensembles."""
    names = set(model.candidates)
    for ensemble in model.ensembles:
        if ensemble.name in names:
            names.update(ensemble.members)
    return names


@cache
def _log_auto_choice() -> None:
    from radiopipe import gpu

    if gpu.is_available():
        logger.info("features.backend 'auto': a CUDA device works, so features run on the GPU "
                    "('cupy')")
    else:
        logger.info("features.backend 'auto': running on the CPU ('native'): %s",
                    gpu.unavailable_reason())


@cache
def _xgboost_cuda_problem() -> str | None:
    """None when XGBoost trains on a CUDA device here, else what happened instead."""
    import numpy as np
    import xgboost

    if not xgboost.build_info().get("USE_CUDA"):
        return "this XGBoost build has no CUDA support"
    data = xgboost.DMatrix(np.zeros((2, 1)), label=[0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fallback warning is what this probe detects
        booster = xgboost.train({"device": "cuda", "tree_method": "hist"}, data, 1)
    device = json.loads(booster.save_config())["learner"]["generic_param"]["device"]
    return None if device.startswith("cuda") else "XGBoost finds no visible GPU"


@cache
def _lightgbm_gpu_problem(device: str) -> str | None:
    """None when LightGBM trains with ``device_type=device`` here, else its error."""
    import lightgbm
    import numpy as np

    rng = np.random.default_rng(0)
    data = lightgbm.Dataset(rng.random((20, 2)), label=np.arange(20) % 2)
    try:
        lightgbm.train({"device_type": device, "verbose": -1}, data, num_boost_round=1)
    except lightgbm.basic.LightGBMError as exc:
        return f"LightGBM cannot train there ({str(exc).strip() or 'no device'})"
    return None
