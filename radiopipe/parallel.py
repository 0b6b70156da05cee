"""joblib's results in completion order, their call ended as soon as the loop over them ends.

A generator returned by ``Parallel(return_as='generator_unordered')`` that is left unfinished
(the loop over it raised, or was interrupted: Ctrl-C in a notebook) aborts its call when it is
finalised, and the abort shuts down joblib's shared worker pool. Held by a traceback in a
reference cycle, the generator is finalised by the garbage collector at an arbitrary later
moment: possibly in the middle of another call that uses the same pool, which then fails ("The
executor underlying Parallel has been shutdown") or waits forever for results its killed
workers never send. :func:`unordered_results` closes the generator when the block that loops
over it exits, however it exits, so an abandoned call is aborted there and then.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


@contextmanager
def unordered_results(jobs: Iterable, n_jobs: int) -> Iterator[Iterator]:
    """joblib's results of ``jobs`` as they finish, closed when the ``with`` block exits.

    Parameters
    ----------
    jobs : iterable
        ``joblib.delayed`` calls.
    n_jobs : int
        Worker processes (-1 for all cores).

    Yields
    ------
    iterator
        Each job's return value, in completion order.

    Examples
    --------
    >>> from joblib import delayed
    >>> with unordered_results((delayed(abs)(-i) for i in range(3)), 1) as results:
    ...     sorted(results)
    [0, 1, 2]
    """
    from joblib import Parallel  # a cohort's tool: importing this module does not load joblib

    results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs)
    try:
        yield results
    finally:
        with warnings.catch_warnings():
            # joblib's advice on an abandoned call ("N tasks have been successfully executed but
            # not used ...") would only repeat, less clearly, the error the loop raised
            warnings.filterwarnings("ignore", message=".*tasks (have been|which were)",
                                    category=UserWarning)
            results.close()
