"""In-fold PCA of CNN embedding columns: k principal components out, every other column through.

Part of the in-fold pipeline, so the components are fitted on each fold's training rows only.
The fitted loadings (``components_``) are what the CNN saliency map projects the embedding with.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from radiopipe.models.params import ARRAY_LIKE, Interval, check_params


class EmbeddingPCA(TransformerMixin, BaseEstimator):
    """Replace the embedding columns by their first ``n_components`` principal components.

    With :math:`E` the training rows' embedding columns and :math:`\\bar e` their mean, the
    centred matrix is decomposed as :math:`E - \\bar e = U S V^T`; a row's component scores are
    :math:`z = (e - \\bar e) V_k` with :math:`V_k` the first k right singular vectors. Each
    loading vector's sign is fixed so that its largest absolute entry is positive, which makes
    the output deterministic. The other columns pass through unchanged, before the components.

    Parameters
    ----------
    n_components : int >= 1
        k; fewer when the training rows or embedding columns allow fewer
        (:math:`\\min(k, n_{rows}, n_{columns})`).
    columns : list of str or int, or None
        The embedding columns, by name (DataFrame input) or by position; None takes every
        column.
    prefix : str
        Components are named ``f"{prefix}{i}"`` for i = 1..k (radiopipe uses
        ``cnn__{backbone}__pc``).

    Attributes
    ----------
    mean_ : numpy.ndarray of shape (n_embedding,)
        Training mean of the embedding columns.
    components_ : numpy.ndarray of shape (k, n_embedding)
        Unit-norm loadings, one row per component.
    explained_variance_ratio_ : numpy.ndarray of shape (k,)
        Share of the training rows' total variance per component (0 when there is none).
    embedding_indices_ : numpy.ndarray of int
        Positions of the embedding columns in the input.
    n_features_in_, feature_names_in_
        As in scikit-learn.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0, 5.0], [2.0, 3.0, 5.0], [4.0, 5.0, 6.0]])
    >>> EmbeddingPCA(n_components=1, columns=[0, 1]).fit_transform(X).shape
    (3, 2)
    """

    _parameter_rules: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "columns": [ARRAY_LIKE, None],
        "prefix": [str],
    }

    def __init__(self, n_components: int = 8, columns=None, prefix: str = "pc"):
        self.n_components = n_components
        self.columns = columns
        self.prefix = prefix

    def fit(self, X, y=None):
        """Fit the components on the training rows' embedding columns."""
        check_params(self, self._parameter_rules)
        X = validate_data(self, X, dtype=np.float64)
        self.embedding_indices_ = self._embedding_indices(X.shape[1])
        embedding = X[:, self.embedding_indices_]
        self.mean_ = embedding.mean(axis=0)
        k = min(self.n_components, *embedding.shape)
        _, singular, loadings = np.linalg.svd(embedding - self.mean_, full_matrices=False)
        loadings = loadings[:k]
        signs = np.sign(loadings[np.arange(k), np.abs(loadings).argmax(axis=1)])
        self.components_ = loadings * np.where(signs == 0, 1.0, signs)[:, None]
        variance = singular**2
        total = variance.sum()
        # No variance on the training rows (one row, or identical rows): no share to report.
        self.explained_variance_ratio_ = variance[:k] / total if total > 0 else np.zeros(k)
        return self

    def transform(self, X):
        """Other columns unchanged, then the component scores."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        scores = (X[:, self.embedding_indices_] - self.mean_) @ self.components_.T
        return np.hstack([X[:, self._kept()], scores])

    def get_feature_names_out(self, input_features=None):
        """Passed-through names, then ``prefix1 .. prefixk``."""
        check_is_fitted(self)
        if input_features is None:
            input_features = getattr(
                self, "feature_names_in_", [f"x{i}" for i in range(self.n_features_in_)]
            )
        names = np.asarray(input_features, dtype=object)
        if len(names) != self.n_features_in_:
            raise ValueError(
                f"input_features should have length {self.n_features_in_}; got {len(names)}"
            )
        components = [f"{self.prefix}{i + 1}" for i in range(len(self.components_))]
        return np.asarray([*names[self._kept()], *components], dtype=object)

    def _kept(self) -> np.ndarray:
        return np.setdiff1d(np.arange(self.n_features_in_), self.embedding_indices_)

    def _embedding_indices(self, n_columns: int) -> np.ndarray:
        if self.columns is None:
            return np.arange(n_columns)
        wanted = list(self.columns)
        if not wanted:
            raise ValueError(
                "The 'columns' parameter of EmbeddingPCA must name at least one column."
            )
        if all(isinstance(c, str) for c in wanted):
            names = getattr(self, "feature_names_in_", None)
            if names is None:
                raise ValueError("EmbeddingPCA columns given by name need a DataFrame input")
            position = {name: i for i, name in enumerate(names)}
            missing = [c for c in wanted if c not in position]
            if missing:
                raise ValueError(f"embedding columns missing from the input: {missing[:3]}")
            return np.asarray([position[c] for c in wanted])
        indices = np.asarray(wanted)
        if indices.dtype.kind not in "iu" or indices.min() < 0 or indices.max() >= n_columns:
            raise ValueError(f"'columns' must be names or positions below {n_columns}")
        return indices
