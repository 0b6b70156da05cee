"""Array namespace dispatch: the same feature formulas run on NumPy (CPU) and CuPy (GPU) arrays.

CuPy is imported lazily and only when an array is a CuPy array, so CPU-only installs never
import it.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np


def get_namespace(*arrays) -> ModuleType:
    """Return ``cupy`` if any argument is a CuPy array, else ``numpy``.

    Examples
    --------
    >>> get_namespace(np.zeros(3)).__name__
    'numpy'
    """
    for array in arrays:
        if type(array).__module__.startswith("cupy"):
            import cupy

            return cupy
    return np


def to_numpy(array) -> np.ndarray:
    """Copy a CuPy array to the host; NumPy arrays pass through."""
    if type(array).__module__.startswith("cupy"):
        return array.get()
    return np.asarray(array)
