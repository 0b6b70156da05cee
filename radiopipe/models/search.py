"""Random search over the final classifier of an in-fold pipeline, with the preprocessing steps
fitted once per inner split instead of once per candidate.

When every searched hyperparameter belongs to the classifier, the steps before it (imputation,
filters, scaling, feature selection) see the same rows with the same settings for every candidate,
and fit to the same result. Fitting them once per inner split and the classifier once per
(candidate, split) gives the scores and the choice of scikit-learn's ``RandomizedSearchCV`` over
the whole pipeline (same candidates from ``ParameterSampler``, same scorer, same tie rule),
at a fraction of the cost: on a few dozen patients with hundreds of feature columns, the
preprocessing is nearly all of a pipeline fit.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import ParameterSampler
from sklearn.pipeline import Pipeline

from radiopipe.models.designs import Splits

CLASSIFIER = "classifier__"


def shares_preprocessing(estimator, space: dict) -> bool:
    """Whether :func:`classifier_search` applies: a scikit-learn ``Pipeline`` ending in the
    ``classifier`` step, searched over that step's hyperparameters only.

    imbalanced-learn's pipeline (SMOTE) is excluded: its sampler draws new training rows at
    every fit, which is part of what a candidate is scored on.
    """
    return (
        type(estimator) is Pipeline
        and estimator.steps[-1][0] == "classifier"
        and bool(space)
        and all(key.startswith(CLASSIFIER) for key in space)
    )


def classifier_search(
    pipeline: Pipeline, space: dict, X, y: np.ndarray, inner: Splits, *, n_iter: int,
    scoring: str, seed: int,
) -> tuple[dict, np.ndarray]:
    """The best of ``n_iter`` sampled classifier settings by mean inner-split score.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Unfitted; see :func:`shares_preprocessing`.
    space : dict
        Distributions or lists keyed ``classifier__<param>``.
    X : pandas.DataFrame
        The training rows.
    y : array of int
        Their class codes.
    inner : list of (train, test)
        Index arrays into ``X``.
    n_iter : int
        Candidates drawn by ``ParameterSampler(space, n_iter, random_state=seed)``.
    scoring : str
        A scikit-learn scorer name.
    seed : int

    Returns
    -------
    best_params : dict
        Keyed like ``space``; the first candidate with the highest mean score (a NaN mean ranks
        last), as ``RandomizedSearchCV.best_params_``.
    mean_scores : ndarray
        Mean score of every candidate over the inner splits, in sampling order.
    """
    candidates = list(ParameterSampler(space, n_iter, random_state=seed))
    scorer = check_scoring(pipeline, scoring=scoring)
    scores = np.empty((len(candidates), len(inner)))
    for j, (train, test) in enumerate(inner):
        preprocessing = clone(pipeline[:-1])
        train_X = preprocessing.fit_transform(X.iloc[train], y[train])
        test_X = preprocessing.transform(X.iloc[test])
        for i, params in enumerate(candidates):
            classifier = clone(pipeline[-1]).set_params(
                **{key.removeprefix(CLASSIFIER): value for key, value in params.items()}
            )
            classifier.fit(train_X, y[train])
            scores[i, j] = scorer(classifier, test_X, y[test])
    mean = scores.mean(axis=1)
    best = int(np.argmax(np.where(np.isnan(mean), -np.inf, mean))) if len(mean) else 0
    return candidates[best], mean
