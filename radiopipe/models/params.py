"""Parameter and sample-weight checks of radiopipe's estimators, on public APIs only.

An estimator lists the accepted kinds of each parameter as a dict of rules (parameter name ->
list of rules: :class:`Interval`, :class:`Options`, :class:`HasMethods`, a type, ``None``, or one
of :data:`BOOLEAN`, :data:`RANDOM_STATE`, :data:`ARRAY_LIKE`) and calls :func:`check_params` at
the start of ``fit``, so ``__init__`` only stores parameters. A value no rule accepts raises
:class:`InvalidParameterError` with scikit-learn's wording::

    The 'n_splits' parameter of StackingEnsemble must be an int in the range [2, inf).
    Got 1 instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Number

import numpy as np
from sklearn.utils.validation import check_array, check_non_negative


class InvalidParameterError(ValueError, TypeError):
    """A parameter value that no rule accepts (a ValueError and a TypeError, as in scikit-learn)."""


@dataclass(frozen=True)
class Interval:
    """Numbers of one kind (``Integral`` or ``Real``) between two bounds (``None``: unbounded).

    ``closed`` is ``"left"``, ``"right"``, ``"both"`` or ``"neither"``. Booleans are no numbers
    here, and NaN lies in no interval.

    Examples
    --------
    >>> from numbers import Real
    >>> Interval(Integral, 2, None, closed="left").accepts(2)
    True
    >>> str(Interval(Real, 0, 1, closed="right"))
    'a float in the range (0, 1]'
    """

    kind: type
    low: float | None
    high: float | None
    closed: str

    def accepts(self, value) -> bool:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, self.kind):
            return False
        left = self.closed in ("left", "both")
        right = self.closed in ("right", "both")
        above = self.low is None or (value >= self.low if left else value > self.low)
        below = self.high is None or (value <= self.high if right else value < self.high)
        return bool(above and below)

    def __str__(self) -> str:
        kind = "an int" if self.kind is Integral else "a float"
        low = "-inf" if self.low is None else self.low
        high = "inf" if self.high is None else self.high
        opening = "[" if self.closed in ("left", "both") and self.low is not None else "("
        closing = "]" if self.closed in ("right", "both") and self.high is not None else ")"
        return f"{kind} in the range {opening}{low}, {high}{closing}"


@dataclass(frozen=True)
class Options:
    """One of a few strings.

    Examples
    --------
    >>> str(Options(frozenset({"sigmoid", "isotonic"})))
    "a str among {'isotonic', 'sigmoid'}"
    """

    values: frozenset[str]

    def accepts(self, value) -> bool:
        return isinstance(value, str) and value in self.values

    def __str__(self) -> str:
        return "a str among {" + ", ".join(repr(v) for v in sorted(self.values)) + "}"


@dataclass(frozen=True)
class HasMethods:
    """An object with these methods (an estimator: ``HasMethods(("fit",))``)."""

    methods: tuple[str, ...]

    def accepts(self, value) -> bool:
        return all(callable(getattr(value, name, None)) for name in self.methods)

    def __str__(self) -> str:
        return "an object implementing " + ", ".join(repr(m) for m in self.methods)


@dataclass(frozen=True)
class _Predicate:
    """A named test (booleans, random states, array-likes)."""

    description: str
    test: object

    def accepts(self, value) -> bool:
        return bool(self.test(value))

    def __str__(self) -> str:
        return self.description


BOOLEAN = _Predicate("an instance of 'bool'", lambda v: isinstance(v, (bool, np.bool_)))
"""``True`` or ``False`` (Python's or NumPy's)."""

RANDOM_STATE = _Predicate(
    "an int in the range [0, 4294967295], an instance of 'numpy.random.RandomState' or None",
    lambda v: v is None or isinstance(v, np.random.RandomState)
    or Interval(Integral, 0, 2**32 - 1, closed="both").accepts(v),
)
"""What :func:`sklearn.utils.check_random_state` takes: a seed, a ``RandomState`` or ``None``."""

ARRAY_LIKE = _Predicate(
    "an array-like",
    lambda v: not isinstance(v, (str, bytes, Number, Mapping))
    and (isinstance(v, Sequence) or hasattr(v, "__array__") or hasattr(v, "shape")),
)
"""A list, tuple, array or series (no string, number or mapping)."""


def _accepts(rule, value) -> bool:
    if rule is None:
        return value is None
    if isinstance(rule, type):
        return isinstance(value, rule)
    return rule.accepts(value)


def _describe(rule) -> str:
    if rule is None:
        return "None"
    if isinstance(rule, type):
        return f"an instance of {rule.__name__!r}"
    return str(rule)


def check_params(estimator, rules: Mapping[str, Sequence]) -> None:
    """Raise :class:`InvalidParameterError` for the first parameter that no rule accepts.

    Parameters
    ----------
    estimator : sklearn.base.BaseEstimator
        Its ``get_params(deep=False)`` gives the values.
    rules : mapping
        Parameter name -> the rules of which one must accept the value.

    Examples
    --------
    >>> from sklearn.base import BaseEstimator
    >>> class Smoother(BaseEstimator):
    ...     def __init__(self, width=3):
    ...         self.width = width
    >>> rules = {"width": [Interval(Integral, 1, None, closed="left")]}
    >>> check_params(Smoother(width=0), rules)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    radiopipe.models.params.InvalidParameterError: The 'width' parameter of Smoother must be ...
    """
    values = estimator.get_params(deep=False)
    for name, accepted in rules.items():
        value = values[name]
        if any(_accepts(rule, value) for rule in accepted):
            continue
        described = [_describe(rule) for rule in accepted]
        expected = (
            described[0] if len(described) == 1
            else ", ".join(described[:-1]) + " or " + described[-1]
        )
        raise InvalidParameterError(
            f"The {name!r} parameter of {type(estimator).__name__} must be {expected}. "
            f"Got {value!r} instead."
        )


def check_sample_weight(sample_weight, n_rows: int) -> np.ndarray:
    """Sample weights as a float64 array of ``n_rows`` non-negative values.

    A number gives every row that weight.

    Raises
    ------
    ValueError
        When the weights are not one per row, are not finite, or are negative.

    Examples
    --------
    >>> check_sample_weight(2, 3)
    array([2., 2., 2.])
    """
    if isinstance(sample_weight, Number):
        return np.full(n_rows, float(sample_weight))
    weight = check_array(sample_weight, ensure_2d=False, dtype=np.float64, order="C",
                         input_name="sample_weight")
    if weight.shape != (n_rows,):
        raise ValueError(
            f"sample_weight must hold one weight per row: shape {weight.shape}, expected "
            f"({n_rows},)"
        )
    check_non_negative(weight, "sample_weight")
    return weight
