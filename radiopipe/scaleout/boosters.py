"""One booster fit on a Dask cluster, through the library's own Dask estimator
(``xgboost.dask.DaskXGBClassifier``, ``lightgbm.DaskLGBMClassifier``).

The training rows are split into one partition per worker (rows in order), so every worker takes
part; the fitted estimator's booster is the library's ordinary ``Booster``, which predicts and
saves exactly as a locally trained one.
"""

from __future__ import annotations

import warnings

import numpy as np


def fit_on_dask(estimator, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None,
                address: str):
    """Fit a Dask estimator on rows held in this process.

    Parameters
    ----------
    estimator : xgboost.dask.DaskXGBClassifier or lightgbm.DaskLGBMClassifier
        Unfitted, with its hyperparameters set.
    X : numpy.ndarray of shape (n, p)
    y : numpy.ndarray of shape (n,)
        Class codes.
    sample_weight : numpy.ndarray of shape (n,) or None
    address : str
        The Dask scheduler's address.

    Returns
    -------
    estimator
        Fitted.

    Examples
    --------
    >>> from xgboost.dask import DaskXGBClassifier  # doctest: +SKIP
    >>> model = DaskXGBClassifier(n_estimators=10)  # doctest: +SKIP
    >>> fit_on_dask(model, X, y, None, "tcp://10.0.0.5:8786").get_booster()  # doctest: +SKIP
    """
    import dask.array as da
    from distributed import Client

    with Client(address, set_as_default=False) as client, client.as_current():
        n_workers = max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
        rows = -(-len(X) // min(n_workers, len(X)))  # ceil: one partition per worker
        X_parts = da.from_array(X, chunks=(rows, X.shape[1]))
        y_parts = da.from_array(y, chunks=rows)
        weight_parts = None if sample_weight is None else da.from_array(sample_weight, chunks=rows)
        with warnings.catch_warnings():
            # LightGBM's Dask estimator passes its own thread setting (n_jobs) to its training
            # function, which then warns that it ignores it (each worker uses its own threads).
            warnings.filterwarnings(
                "ignore", message=r"Parameter (n_jobs|num_threads) will be ignored",
                category=UserWarning,
            )
            return estimator.fit(X_parts, y_parts, sample_weight=weight_parts)
