"""The fitted parts of a fitted estimator tree (pipelines, calibrations, ensembles)."""

from __future__ import annotations

_WALKED_MODULES = ("sklearn", "imblearn", "radiopipe")


def fitted_parts(root, kind: type, fitted: str) -> list:
    """Every instance of ``kind`` inside ``root`` that holds the fitted attribute ``fitted``.

    Walks lists, tuples, dicts and the attributes of scikit-learn, imbalanced-learn and radiopipe
    objects, each object once, in a stable order; unfitted templates (an ensemble's or a
    calibration's parameters) hold no fitted attribute and are left out.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> pipeline = make_pipeline(StandardScaler()).fit([[0.0], [2.0]])
    >>> [type(p).__name__ for p in fitted_parts(pipeline, StandardScaler, "scale_")]
    ['StandardScaler']
    """
    found: list = []
    seen: set[int] = set()

    def walk(obj):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, kind):
            if fitted in vars(obj):
                found.append(obj)
            return
        if isinstance(obj, (list, tuple)):
            for item in obj:
                walk(item)
        elif isinstance(obj, dict):
            for item in obj.values():
                walk(item)
        elif hasattr(obj, "__dict__") and type(obj).__module__.split(".")[0] in _WALKED_MODULES:
            for item in vars(obj).values():
                walk(item)

    walk(root)
    return found
