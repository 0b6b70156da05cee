"""The CUDA device behind ``backend: cupy``: whether one is usable, and a clear error if not.

CuPy is imported lazily, only here and in the modules that run on the device, so a CPU-only
install never imports it. ``is_available`` is cached: the probe (import, device count, a tiny
allocation) runs once per process.

Examples
--------
>>> from radiopipe import gpu
>>> isinstance(gpu.is_available(), bool)
True
"""

from __future__ import annotations

from functools import cache

from radiopipe.errors import ConfigError

INSTALL_HINT = "pip install 'radiopipe[gpu]'"


@cache
def _probe() -> str | None:
    """None when a CUDA device works through CuPy, else what was found instead."""
    try:
        import cupy
    except ImportError as exc:
        return f"CuPy is not installed ({exc}); install it with {INSTALL_HINT}"
    try:
        n_devices = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CuPy raises its own CUDARuntimeError, or ImportError for libcudart
        return f"no usable CUDA driver ({type(exc).__name__}: {exc})"
    if n_devices < 1:
        return "no CUDA device found"
    try:
        probe = cupy.arange(4, dtype=cupy.float64)
        if float(probe.sum()) != 6.0:
            return "the CUDA device returned a wrong result for a test sum"
    except Exception as exc:  # a broken device fails at the first allocation or launch
        return f"the CUDA device failed a test allocation ({type(exc).__name__}: {exc})"
    return None


def is_available() -> bool:
    """Whether CuPy is installed and a CUDA device really works (cached per process)."""
    return _probe() is None


def unavailable_reason() -> str:
    """What the probe found when no device is usable; empty when one is."""
    return _probe() or ""


def require() -> None:
    """Raise unless a CUDA device is usable.

    Raises
    ------
    ConfigError
        Naming what was found (CuPy missing, no device, a driver error) and how to install.
    """
    reason = _probe()
    if reason is not None:
        raise ConfigError(
            f"backend 'cupy' needs an NVIDIA GPU with CuPy: {reason}. "
            f"Install the GPU extra with {INSTALL_HINT} on a machine with a CUDA device, "
            "or use backend 'native' (or 'auto', which falls back to it)."
        )
