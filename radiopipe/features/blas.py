"""One BLAS thread while a case's features are computed.

The matrices of a feature stage are small (a GLCM stack is 13 x N_g x N_g): BLAS threads cost
more to wake than they save, and once woken they spin, taking a core from the rest of the
extraction (on two cores the native engine ran about 1.6x slower with OpenBLAS' default two
threads; see benchmarks/extract_vs_pyradiomics.py). Parallelism belongs one level up: one case
per worker (joblib, Dask), whose pools already limit BLAS to one thread.

OpenBLAS' thread count is process-wide, and threadpoolctl lets only the thread that changed it
change it back. Extractions may overlap in threads of one process (a threaded Dask worker), so
the limit is shared: the first extraction to start sets it, the last to finish restores it, and
both changes run on one dedicated thread, the owner threadpoolctl expects. Setting and restoring
cost about a millisecond, as much as the features of a small ROI: code that extracts many cases
in a row (the batch API, a cohort's local loop) holds the limit once around all of them, and each
extraction inside then only counts itself in.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache

from threadpoolctl import ThreadpoolController

_lock = threading.Lock()
_shared = {"users": 0, "limiter": None}


@cache
def _controller() -> ThreadpoolController:
    """The BLAS libraries of NumPy and SciPy (each ships its own), found once (about a
    millisecond): SciPy's linear algebra is imported first, so that its library is loaded."""
    import scipy.linalg  # noqa: F401

    return ThreadpoolController()


@cache
def _owner() -> ThreadPoolExecutor:
    """The one thread that sets and restores the limit."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="radiopipe-blas")


def _forget_in_forked_child() -> None:
    """A forked child has none of its parent's threads: it starts with no owner, no user."""
    global _lock
    _lock = threading.Lock()
    _owner.cache_clear()
    _shared.update(users=0, limiter=None)


os.register_at_fork(after_in_child=_forget_in_forked_child)


def _set_limit():
    limiter = _controller().limit(limits=1, user_api="blas")
    limiter.__enter__()
    return limiter


def _already_single_threaded() -> bool:
    """Whether every BLAS library runs one thread already (as in a joblib worker): then there
    is nothing to set or restore, and no hand-off to the owner thread (a microsecond's query
    instead; on a loaded machine the hand-off waits for the owner to be scheduled)."""
    return all(
        library.num_threads == 1
        for library in _controller().lib_controllers if library.user_api == "blas"
    )


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit NumPy's and SciPy's BLAS to one thread while any extraction runs in this process."""
    with _lock:
        if _shared["users"] == 0 and not _already_single_threaded():
            _shared["limiter"] = _owner().submit(_set_limit).result()
        _shared["users"] += 1
    try:
        yield
    finally:
        with _lock:
            _shared["users"] -= 1
            if _shared["users"] == 0 and _shared["limiter"] is not None:
                limiter, _shared["limiter"] = _shared["limiter"], None
                _owner().submit(limiter.__exit__, None, None, None).result()
