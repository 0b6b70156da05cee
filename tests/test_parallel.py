"""A loop over joblib's unordered results that ends early ends its call there and then, so that
the shared worker pool is never shut down under a later call by the garbage collector."""

from __future__ import annotations

import gc
import time

import pytest
from joblib import delayed

from radiopipe.parallel import unordered_results


def _abandon_a_call_in_a_reference_cycle() -> dict:
    """Break out of a loop by an exception held in a cycle, as a kept traceback holds it."""
    try:
        with unordered_results((delayed(time.sleep)(0.05) for _ in range(12)), 2) as results:
            for _ in results:
                raise RuntimeError("the loop over the results failed")
    except RuntimeError as error:
        cycle = {"error": error}
        cycle["cycle"] = cycle  # the loop's frame now dies only in a garbage-collector pass
        return cycle
    pytest.fail("the loop did not raise")


def test_a_call_abandoned_earlier_leaves_the_worker_pool_to_the_next_call():
    cycle = _abandon_a_call_in_a_reference_cycle()
    finished = 0
    with unordered_results((delayed(time.sleep)(0.05) for _ in range(12)), 2) as results:
        for finished, _ in enumerate(results, start=1):
            if finished == 2:
                del cycle
                gc.collect()  # the abandoned loop's frame is finalised in the middle of this call
    assert finished == 12


def test_results_arrive_whole_in_completion_order():
    with unordered_results((delayed(pow)(i, 2) for i in range(6)), 2) as results:
        assert sorted(results) == [0, 1, 4, 9, 16, 25]
