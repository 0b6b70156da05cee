"""The run config's ``robustness`` section: which perturbations of each case's image and mask
the robustness run extracts, and the ICC threshold that calls a feature robust.

Validated by :mod:`radiopipe.config`, which re-exports every name here. Every perturbation is
deterministic under ``seed`` (with the case id, the modality and the perturbation's name).
"""

from __future__ import annotations

from pydantic import Field, field_validator

from radiopipe.settings.base import Strict

# In the order they are applied: the geometry first, then the noise, then the mask.
PERTURBATION_KINDS = ("rotation", "translation", "noise", "volume", "contour")


def _threshold(value: float, key: str) -> float:
    """An ICC threshold lies in [0, 1]."""
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"an ICC threshold lies in [0, 1]: set {key} to a value such as 0.9")
    return value


class NoisePerturbation(Strict):
    """Additive Gaussian noise at the image's own estimated noise level (Immerkaer's method),
    drawn ``repetitions`` times."""

    repetitions: int = Field(2, ge=1, le=100)


class RotationPerturbation(Strict):
    """In-plane rotations about the ROI's centre, in degrees."""

    angles: list[float] = Field(min_length=1)

    @field_validator("angles")
    @classmethod
    def _in_range(cls, angles: list[float]) -> list[float]:
        if any(abs(a) > 360 for a in angles):
            raise ValueError("angles are degrees in [-360, 360]")
        return angles


class TranslationPerturbation(Strict):
    """Sub-voxel translations: each fraction of the voxel spacing, along every axis."""

    fractions: list[float] = Field(min_length=1)

    @field_validator("fractions")
    @classmethod
    def _sub_voxel(cls, fractions: list[float]) -> list[float]:
        if any(abs(f) >= 1 for f in fractions):
            raise ValueError("fractions of the voxel spacing lie in (-1, 1)")
        return fractions


class VolumePerturbation(Strict):
    """ROI volume adaptation: grow (> 0) or shrink (< 0) by each fraction of the ROI's volume."""

    fractions: list[float] = Field(min_length=1)

    @field_validator("fractions")
    @classmethod
    def _leaves_a_roi(cls, fractions: list[float]) -> list[float]:
        if any(f <= -1 or f > 10 for f in fractions):
            raise ValueError("volume fractions lie in (-1, 10]: -1 would remove the whole ROI; "
                             "use fractions such as -0.2 and 0.2")
        return fractions


class ContourPerturbation(Strict):
    """Contour randomisation: the ROI's boundary moved by a smooth random displacement
    (``amplitude`` voxels of standard deviation, correlated over ``smoothing`` voxels), drawn
    ``repetitions`` times."""

    repetitions: int = Field(2, ge=1, le=100)
    amplitude: float = Field(1.0, gt=0, le=5)
    smoothing: float = Field(2.0, gt=0, le=10)


class RobustnessConfig(Strict):
    """Perturbations of each case for the ICC of every feature (``radiopipe robustness``).

    Each chosen perturbation runs alone (one ICC per kind, over the original and that kind's
    versions); ``combine: true`` runs the cartesian product of the chosen ones instead, at most
    ``max_combinations`` of them (a subset drawn under ``seed`` when the product is larger).
    """

    seed: int = Field(0, ge=0)
    noise: NoisePerturbation | None = None
    rotation: RotationPerturbation | None = None
    translation: TranslationPerturbation | None = None
    volume: VolumePerturbation | None = None
    contour: ContourPerturbation | None = None
    combine: bool = False
    max_combinations: int = Field(20, ge=1, le=1000)
    threshold: float = 0.9  # a feature with ICC at or above it counts as robust
    write_images: bool = False  # perturbed images and masks under robustness/images/

    @field_validator("threshold")
    @classmethod
    def _icc_threshold(cls, value: float) -> float:
        return _threshold(value, "robustness.threshold")

    def chosen(self) -> list[str]:
        """The perturbation kinds set, in the order they are applied."""
        return [k for k in PERTURBATION_KINDS if getattr(self, k) is not None]
