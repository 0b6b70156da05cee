"""Scale-out on Dask: the run's cluster, extraction as one task per case, and booster fits
through the libraries' Dask estimators (``compute.engine: dask``; the ``dask`` extra)."""

from radiopipe.scaleout.cluster import DaskCluster, compute_cluster, dask_cluster

__all__ = ["DaskCluster", "compute_cluster", "dask_cluster"]
