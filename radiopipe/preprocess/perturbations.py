"""The perturbations a ``robustness`` section asks for, and one of them applied to an image.

:func:`plan` lists the versions of every case: the original first, then each chosen perturbation
alone (``kind`` its own), or with ``combine`` the cartesian product of the chosen ones (``kind``
``combined``, at most ``max_combinations``). :func:`apply` perturbs one image and mask with
:mod:`radiopipe.preprocess.perturb`, drawing its randomness from a generator seeded by the
section's seed, the case id, the modality and the version's name: the same settings give the
same perturbed images on every run and machine.
"""

from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from radiopipe.errors import CaseError
from radiopipe.preprocess.perturb import (
    adapt_volume,
    add_noise,
    estimate_noise,
    randomise_contour,
    rotate,
    translate,
)
from radiopipe.settings.robustness import PERTURBATION_KINDS, RobustnessConfig

ORIGINAL = "original"
COMBINED = "combined"


@dataclass(frozen=True)
class Step:
    """One perturbation: its kind and value (degrees, a fraction, or a repetition's number)."""

    kind: str
    value: float

    @property
    def name(self) -> str:
        """``rotation=15``, ``volume=-0.1``, ``noise#2``."""
        if self.kind in ("noise", "contour"):
            return f"{self.kind}#{int(self.value) + 1}"
        return f"{self.kind}={self.value:g}"


@dataclass(frozen=True)
class Perturbation:
    """One version of a case.

    Attributes
    ----------
    kind : str
        ``original``, a kind of :data:`PERTURBATION_KINDS`, or ``combined``.
    steps : tuple of Step
        In the order they are applied (none for the original).
    """

    kind: str
    steps: tuple[Step, ...] = ()

    @property
    def name(self) -> str:
        """``original``, ``rotation=15`` or ``rotation=15+noise#1``."""
        return "+".join(s.name for s in self.steps) or ORIGINAL


def plan(settings: RobustnessConfig) -> list[Perturbation]:
    """Every version of a case that ``settings`` asks for, the original first.

    Examples
    --------
    >>> from radiopipe.config import RobustnessConfig
    >>> settings = RobustnessConfig(rotation={"angles": [-5, 5]}, volume={"fractions": [0.1]})
    >>> [p.name for p in plan(settings)]
    ['original', 'rotation=-5', 'rotation=5', 'volume=0.1']
    """
    options = {kind: _steps(settings, kind) for kind in settings.chosen()}
    versions = [Perturbation(ORIGINAL)]
    if not settings.combine:
        return versions + [Perturbation(k, (s,)) for k, steps in options.items() for s in steps]
    product = list(itertools.product(*options.values()))
    if len(product) > settings.max_combinations:
        rng = np.random.default_rng(settings.seed)
        picked = np.sort(rng.choice(len(product), settings.max_combinations, replace=False))
        product = [product[i] for i in picked]
    return versions + [Perturbation(COMBINED, tuple(steps)) for steps in product]


def apply(perturbation: Perturbation, image: sitk.Image, mask: sitk.Image,
          settings: RobustnessConfig, *, case_id: str,
          modality: str | None = None) -> tuple[sitk.Image, sitk.Image]:
    """One image and mask perturbed (the inputs are left as they are).

    Raises
    ------
    CaseError
        When the perturbation leaves an empty ROI, naming the case, the version and the fix.
    """
    rng = np.random.default_rng(
        [settings.seed, zlib.crc32(case_id.encode()), zlib.crc32((modality or "").encode()),
         zlib.crc32(perturbation.name.encode())]
    )
    for step in perturbation.steps:
        if step.kind == "rotation":
            image, mask = rotate(image, mask, step.value)
        elif step.kind == "translation":
            image, mask = translate(image, mask, step.value)
        elif step.kind == "noise":
            image = add_noise(image, estimate_noise(sitk.GetArrayViewFromImage(image)), rng)
        elif step.kind == "volume":
            mask = adapt_volume(mask, step.value, case_id=case_id)
        else:
            contour = settings.contour
            mask = randomise_contour(mask, rng, amplitude=contour.amplitude,
                                     smoothing=contour.smoothing, case_id=case_id)
        if not sitk.GetArrayViewFromImage(mask).any():
            where = f" ({modality})" if modality else ""
            raise CaseError(case_id, f"robustness perturbation {perturbation.name}{where} left an "
                            f"empty ROI; remove it from robustness.{step.kind}")
    return image, mask


def _steps(settings: RobustnessConfig, kind: str) -> list[Step]:
    section = getattr(settings, kind)
    if kind in ("noise", "contour"):
        return [Step(kind, float(i)) for i in range(section.repetitions)]
    values = section.angles if kind == "rotation" else section.fractions
    return [Step(kind, float(v)) for v in values]


__all__ = ["COMBINED", "ORIGINAL", "PERTURBATION_KINDS", "Perturbation", "Step", "apply", "plan"]
