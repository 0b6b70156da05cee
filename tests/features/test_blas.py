"""The BLAS thread limit of an extraction: set while it runs, restored after, also from threads."""

from __future__ import annotations

import multiprocessing
import threading

import scipy.linalg  # noqa: F401 - load SciPy's BLAS as the extraction does
from threadpoolctl import threadpool_info

from radiopipe.features.blas import single_threaded_blas


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_limit_holds_inside_and_is_restored_after():
    before = _blas_threads()
    with single_threaded_blas():
        assert set(_blas_threads()) <= {1}
        with single_threaded_blas():
            assert set(_blas_threads()) <= {1}
        assert set(_blas_threads()) <= {1}
    assert _blas_threads() == before


def test_overlapping_threads_leave_no_limit_behind():
    """Two extractions whose limits overlap in time, the first to enter leaving first."""
    before = _blas_threads()
    first_inside, first_may_leave = threading.Event(), threading.Event()

    def first():
        with single_threaded_blas():
            assert set(_blas_threads()) <= {1}
            first_inside.set()
            first_may_leave.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    first_inside.wait(10)
    with single_threaded_blas():
        first_may_leave.set()
        thread.join(10)
    assert _blas_threads() == before
    with single_threaded_blas():  # and a later extraction limits again
        assert set(_blas_threads()) <= {1}
    assert _blas_threads() == before


def _limit_in_child(results):
    with single_threaded_blas():
        results.put(set(_blas_threads()) <= {1})


def test_a_forked_child_can_limit_again():
    """The owner thread does not survive a fork: the child makes its own instead of waiting."""
    with single_threaded_blas():
        pass
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_limit_in_child, args=(results,))
    child.start()
    child.join(30)
    if child.is_alive():
        child.kill()
        raise AssertionError("the forked child hung on the parent's BLAS owner thread")
    assert results.get(timeout=5) is True
