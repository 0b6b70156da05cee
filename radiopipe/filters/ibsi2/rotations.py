"""Rotation invariance: a filter applied under every right-angle rotation, then pooled.

Rotating the image, filtering and rotating back equals filtering with the rotated kernel. The
rotations of ``n`` axes are the signed permutations with determinant +1: 4 in a plane, 24 in a
volume.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from radiopipe.xp import get_namespace

POOLINGS = ("max", "mean")


def rotations(n_axes: int) -> list[tuple[tuple[int, ...], tuple[bool, ...]]]:
    """Every proper right-angle rotation of ``n_axes`` axes as (permutation, flips).

    Examples
    --------
    >>> len(rotations(2)), len(rotations(3))
    (4, 24)
    """
    found = []
    for perm in itertools.permutations(range(n_axes)):
        inversions = sum(perm[i] > perm[j] for i, j in itertools.combinations(range(n_axes), 2))
        for flips in itertools.product((False, True), repeat=n_axes):
            if (inversions + sum(flips)) % 2 == 0:
                found.append((perm, flips))
    return found


def _rotate(image, axes, perm, flips, *, inverse: bool):
    xp = get_namespace(image)
    order = list(range(image.ndim))
    moved = [axes[p] for p in perm]
    for target, source in zip(axes, moved, strict=True):
        order[target] = source
    flipped = tuple(a for a, f in zip(axes, flips, strict=True) if f)
    if inverse:
        undo = [0] * image.ndim
        for position, source in enumerate(order):
            undo[source] = position
        image = xp.flip(image, axis=flipped) if flipped else image
        return xp.transpose(image, undo)
    image = xp.transpose(image, order)
    return xp.flip(image, axis=flipped) if flipped else image


def pooled(filter_fn: Callable, image, axes: Sequence[int], pooling: str):
    """``filter_fn(image)`` under every rotation of ``axes``, pooled voxel-wise.

    Parameters
    ----------
    filter_fn : callable
        Array -> array of the same shape.
    image : array
    axes : sequence of int
        The axes rotated (two: in-plane rotations; three: rotations of the volume).
    pooling : {'max', 'mean'}

    Returns
    -------
    array
    """
    if pooling not in POOLINGS:
        raise ValueError(
            f"The 'pooling' parameter must be one of {POOLINGS}. Got {pooling!r} instead.")
    xp = get_namespace(image)
    result = None
    all_rotations = rotations(len(axes))
    for perm, flips in all_rotations:
        rotated = _rotate(image, axes, perm, flips, inverse=False)
        response = _rotate(filter_fn(rotated), axes, perm, flips, inverse=True)
        if result is None:
            result = response
        elif pooling == "max":
            result = xp.maximum(result, response)
        else:
            result = result + response
    return result / len(all_rotations) if pooling == "mean" else result
