"""The run's Dask cluster: the one listening at ``compute.address``, or a LocalCluster started
for the run (``n_workers`` processes of one thread each) and closed after it.

``distributed`` is imported only here, and only when engine 'dask' runs (the ``dask`` extra).
The client never becomes Dask's global default: code that needs it as the current client (the
Dask estimators) enters :meth:`distributed.Client.as_current` for the duration of one call.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from uuid import uuid4

from radiopipe import __version__
from radiopipe.config import ComputeConfig
from radiopipe.errors import ConfigError

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'radiopipe[dask]'"
WORKER_WAIT = 60.0  # seconds a cluster at an address may take to have its first worker

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(frozen=True)
class DaskCluster:
    """A connected Dask cluster.

    Attributes
    ----------
    client : distributed.Client
        Connected to the scheduler; not Dask's default client.
    local : bool
        True for a LocalCluster radiopipe started for this run.
    """

    client: Any
    local: bool

    @property
    def address(self) -> str:
        """The scheduler's address (what ``compute.address`` or a Dask estimator connects to)."""
        return self.client.scheduler.address

    def workers(self) -> list[str]:
        """Addresses of the workers connected now."""
        return sorted(self.client.scheduler_info(n_workers=-1)["workers"])

    def check_workers(self, *, readable: Path, writable: Path, what: str) -> None:
        """Fail before any task runs when the workers cannot do the run's work.

        Every worker must run this radiopipe version, read ``readable`` (a case's image) and
        write into ``writable`` (the run folder): a remote cluster needs the data and the run
        folder on a filesystem shared at the same paths.

        Parameters
        ----------
        readable : Path
            A file every worker must read.
        writable : Path
            A folder every worker must write into.
        what : str
            What ``readable`` is, for the message (never its path).

        Raises
        ------
        ConfigError
            Naming the worker and what it lacks.
        """
        try:
            self.client.wait_for_workers(1, timeout=WORKER_WAIT)
        except TimeoutError:
            raise ConfigError(
                f"no Dask worker joined the cluster at {self.address} within {WORKER_WAIT:.0f} s; "
                f"start workers with 'dask worker {self.address}'"
            ) from None
        try:
            found = self.client.run(_worker_state, str(readable), str(writable))
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"the Dask workers cannot import radiopipe ({exc}); install radiopipe "
                f"{__version__} in every worker's environment"
            ) from None
        for worker, (version, can_read, can_write) in sorted(found.items()):
            if version != __version__:
                raise ConfigError(
                    f"Dask worker {worker} runs radiopipe {version}, this machine {__version__}; "
                    "install the same version on every worker"
                )
            if not (can_read and can_write):
                lacks = f"read {what}" if not can_read else "write into the run folder"
                raise ConfigError(
                    f"Dask worker {worker} cannot {lacks}; the workers need the data and the run "
                    "folder on a shared filesystem, at the same paths as on this machine"
                )

    def joblib_backend(self) -> AbstractContextManager:
        """joblib's Dask backend on this cluster (distributed's joblib integration): inside the
        context, every ``joblib.Parallel`` with ``n_jobs != 1`` runs its calls as tasks on the
        workers; ``n_jobs=-1`` uses them all."""
        from joblib import parallel_config

        return parallel_config(backend="dask", client=self.client)

    def map_unordered(
        self,
        function: Callable[..., Result],
        items: Iterable[Item],
        *args,
        task: str,
        name: Callable[[Item], str],
        on_error: Callable[[Item, BaseException], Result],
    ) -> Iterator[Result]:
        """Run ``function(item, *args)`` as one task per item; yield results as they finish.

        A task on a worker that dies is run again on another (up to the scheduler's
        ``distributed.scheduler.allowed-failures`` times); a task that still fails, or that
        raises, gives ``on_error(item, exception)`` instead of its result.

        Parameters
        ----------
        function : callable
            Importable on the workers (a module-level function of radiopipe).
        items : iterable
            One task each.
        *args
            Further arguments of every call.
        task : str
            What the tasks do, one lowercase word: their group in Dask's dashboard.
        name : callable
            An item's label (e.g. its case id), ending its task's key.
        on_error : callable
            The result standing in for a task that failed.
        """
        from distributed import as_completed

        batch = uuid4().hex[:8]  # keys radiopipe-<task>-<batch>-<item>: Dask groups by the prefix
        futures = {
            self.client.submit(
                function, item, *args, key=f"radiopipe-{task}-{batch}-{name(item)}", pure=False
            ): item
            for item in items
        }
        for future in as_completed(futures, loop=self.client.loop):
            item = futures.pop(future)
            try:
                result = future.result()
            except Exception as exc:  # a task that raised or whose workers kept dying
                result = on_error(item, exc)
            future.release()  # its result has arrived: the worker may free it
            yield result


@contextmanager
def dask_cluster(compute: ComputeConfig) -> Iterator[DaskCluster]:
    """Connect to ``compute.address``, or start a LocalCluster; close what was opened on exit.

    Parameters
    ----------
    compute : ComputeConfig
        With engine 'dask'.

    Yields
    ------
    DaskCluster

    Raises
    ------
    ConfigError
        When ``distributed`` is not installed or the scheduler cannot be reached.

    Examples
    --------
    >>> from radiopipe.config import ComputeConfig
    >>> with dask_cluster(ComputeConfig(engine="dask", n_workers=2)) as cluster:  # doctest: +SKIP
    ...     print(len(cluster.workers()))
    2
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ConfigError(
            f"compute.engine 'dask' needs Dask's distributed scheduler ({exc}); install it with "
            f"{INSTALL_HINT}"
        ) from None
    if compute.address is not None:
        try:
            # The connect timeout is Dask's own setting (distributed.comm.timeouts.connect).
            client = Client(compute.address, set_as_default=False)
        except OSError as exc:
            raise ConfigError(
                f"cannot reach the Dask scheduler at compute.address '{compute.address}' ({exc}); "
                f"start one with 'dask scheduler' and its workers with 'dask worker ADDRESS', or "
                "fix the address"
            ) from None
        with client:
            logger.info("dask: connected to the cluster at %s", compute.address)
            yield DaskCluster(client, local=False)
        return
    n_workers = compute.n_workers or os.cpu_count() or 1
    with (
        # Dashboard and HTTP routes on a free port: the default 8787 may be taken by another
        # cluster on this machine.
        LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        logger.info("dask: started a LocalCluster of %d worker process(es); dashboard at %s",
                    n_workers, cluster.dashboard_link)
        yield DaskCluster(client, local=True)


def compute_cluster(compute: ComputeConfig) -> AbstractContextManager[DaskCluster | None]:
    """The Dask cluster of engine 'dask' (see :func:`dask_cluster`); None for engine 'joblib'."""
    return dask_cluster(compute) if compute.engine == "dask" else nullcontext()


def _worker_state(readable: str, writable: str) -> tuple[str, bool, bool]:
    """Run on each worker: its radiopipe version, and whether it can read and write there."""
    return __version__, os.access(readable, os.R_OK), os.access(writable, os.W_OK)
