"""The IBSI-2 filters a feature config can name (``features.ibsi_filters``).

Each entry is one filter with its IBSI-2 parameters (lengths in mm, sizes in voxels, angles in
degrees), told apart by ``type``: ``ibsi_mean``, ``ibsi_log``, ``laws``, ``gabor``,
``ibsi_wavelet``, ``simoncelli``, ``riesz``. An entry gives one filtered image, whose name
(:meth:`image_name`, the feature columns' image-type part) encodes every parameter, and a
sentence for the report's methods (:meth:`describe`). The filters themselves are
``radiopipe.filters.ibsi2``; ``radiopipe.filters.ibsi2.response`` computes an entry.

Examples
--------
>>> entry = IBSI_FILTER.validate_python(
...     {"type": "laws", "kernel": "L5E5E5", "rotation_invariant": True, "energy_distance": 7})
>>> entry.image_name()
'laws-L5E5E5-ri-max-energy-7-3D-mirror'
>>> entry.describe()  # doctest: +NORMALIZE_WHITESPACE
'Laws L5E5E5, energy distance 7, rotation invariant (max pooling over 24 rotations), 3D,
 mirror padding'
"""

from __future__ import annotations

import difflib
import re
import typing
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter, field_validator, model_validator

from radiopipe.settings.base import Strict

BOUNDARIES = ("constant", "nearest", "periodic", "mirror")
"""IBSI boundary conditions: constant (zero) padding, nearest value, periodic, mirror (the edge
voxel repeated)."""
LAWS_1D = ("L3", "E3", "S3", "L5", "E5", "S5", "R5", "W5")
"""The 1D Laws kernels a Laws kernel name joins."""
_LAWS_PART = re.compile(r"[LESRW][35]")
_ROTATIONS = {2: 4, 3: 24}


def _number(value: float) -> str:
    """A number in an image name: ``1.5 -> '1-5'``, ``4.0 -> '4'``."""
    return f"{value:g}".replace(".", "-")


def _text(value: float) -> str:
    return f"{value:g}"


class _Entry(Strict):
    """What every entry has: its ``type`` (narrowed by each entry) and whether it filters in the
    axial plane (2) or the volume (3)."""

    type: str
    dims: Literal[2, 3] = 3


class _Filter(_Entry):
    """A spatial filter: also how the image is extended beyond its border."""

    boundary: Literal[BOUNDARIES] = "mirror"  # type: ignore[valid-type]

    def _tail(self) -> list[str]:
        return [f"{self.dims}D", self.boundary]

    def _described_tail(self) -> str:
        return f"{self.dims}D, {self.boundary} padding"


class MeanFilter(_Filter):
    """IBSI-2 mean filter over ``support`` voxels along each filtered axis."""

    type: Literal["ibsi_mean"]
    support: int = Field(ge=1)

    @field_validator("support")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError("'support' must be an odd number of voxels")
        return value

    def image_name(self) -> str:
        """The filtered image's name, e.g. ``ibsi_mean-support-5-3D-mirror``."""
        return "-".join(["ibsi_mean", "support", str(self.support), *self._tail()])

    def describe(self) -> str:
        """The filter and its parameters in prose."""
        return f"mean, support {self.support} voxels, {self._described_tail()}"


class LoGFilter(_Filter):
    """IBSI-2 Laplacian of Gaussian: ``sigma`` in mm, the kernel cut off at ``cutoff`` sigma."""

    type: Literal["ibsi_log"]
    sigma: float = Field(gt=0)
    cutoff: float = Field(4.0, gt=0)

    def image_name(self) -> str:
        """The filtered image's name, e.g. ``ibsi_log-sigma-1-5-mm-cutoff-4-3D-mirror``."""
        return "-".join(["ibsi_log", "sigma", _number(self.sigma), "mm", "cutoff",
                         _number(self.cutoff), *self._tail()])

    def describe(self) -> str:
        """The filter and its parameters in prose."""
        return (f"Laplacian of Gaussian (IBSI), sigma {_text(self.sigma)} mm, cut-off "
                f"{_text(self.cutoff)} sigma, {self._described_tail()}")


class LawsFilter(_Filter):
    """IBSI-2 Laws kernels: one 1D kernel per filtered axis (x first), optionally pooled over
    the right-angle rotations and turned into an energy map over ``2 energy_distance + 1``
    voxels."""

    type: Literal["laws"]
    kernel: str
    rotation_invariant: bool = False
    pooling: Literal["max", "mean"] = "max"
    energy_distance: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _kernel(self) -> LawsFilter:
        parts = _LAWS_PART.findall(self.kernel)
        if "".join(parts) != self.kernel or any(p not in LAWS_1D for p in parts):
            raise ValueError(
                f"'kernel' must join one 1D Laws kernel per filtered axis from {LAWS_1D} "
                f"(e.g. 'L5E5E5')")
        if len(parts) != self.dims:
            raise ValueError(
                f"'kernel' {self.kernel!r} names {len(parts)} 1D kernels; dims {self.dims} "
                f"needs {self.dims}")
        return self

    def image_name(self) -> str:
        """The filtered image's name, e.g. ``laws-L5E5E5-ri-max-energy-7-3D-mirror``."""
        parts = ["laws", self.kernel]
        if self.rotation_invariant:
            parts += ["ri", self.pooling]
        if self.energy_distance is not None:
            parts += ["energy", str(self.energy_distance)]
        return "-".join(parts + self._tail())

    def describe(self) -> str:
        """The filter and its parameters in prose."""
        parts = [f"Laws {self.kernel}"]
        if self.energy_distance is not None:
            parts.append(f"energy distance {self.energy_distance}")
        if self.rotation_invariant:
            parts.append(f"rotation invariant ({self.pooling} pooling over "
                         f"{_ROTATIONS[self.dims]} rotations)")
        return ", ".join(parts + [self._described_tail()])


class GaborFilter(_Filter):
    """IBSI-2 Gabor filter: the modulus of the in-plane kernel (``sigma`` and ``wavelength`` in
    mm, aspect ratio ``gamma``), averaged over the orientations (degrees): the given
    ``orientations``, or 0, ``orientation_step``, ... below 360 (rotation invariance). ``dims``
    3 averages the axial, coronal and sagittal planes."""

    type: Literal["gabor"]
    sigma: float = Field(gt=0)
    wavelength: float = Field(gt=0)
    gamma: float = Field(gt=0)
    orientations: list[Annotated[float, Field(ge=0, lt=360)]] | None = Field(None, min_length=1)
    orientation_step: float | None = Field(None, gt=0, le=180)

    @model_validator(mode="after")
    def _one_orientation_rule(self) -> GaborFilter:
        if (self.orientations is None) == (self.orientation_step is None):
            raise ValueError(
                "give exactly one of 'orientations' (angles in degrees) or 'orientation_step' "
                "(degrees; rotation invariance over 0..360)")
        if self.orientation_step is not None and abs(
                360 / self.orientation_step - round(360 / self.orientation_step)) > 1e-9:
            raise ValueError("'orientation_step' must divide 360 degrees")
        return self

    def angles(self) -> list[float]:
        """The orientations in degrees."""
        if self.orientations is not None:
            return list(self.orientations)
        count = round(360 / self.orientation_step)
        return [k * self.orientation_step for k in range(count)]

    def image_name(self) -> str:
        """The filtered image's name, e.g.
        ``gabor-sigma-5-mm-wavelength-2-mm-gamma-1-5-step-22-5-deg-2D-mirror``."""
        parts = ["gabor", "sigma", _number(self.sigma), "mm", "wavelength",
                 _number(self.wavelength), "mm", "gamma", _number(self.gamma)]
        if self.orientation_step is not None:
            parts += ["step", _number(self.orientation_step), "deg"]
        else:
            parts += ["theta", *(_number(a) for a in self.orientations), "deg"]
        return "-".join(parts + self._tail())

    def describe(self) -> str:
        """The filter and its parameters in prose."""
        if self.orientation_step is not None:
            how = (f"rotation invariant (average over {len(self.angles())} orientations, step "
                   f"{_text(self.orientation_step)} degrees)")
        else:
            angles = ", ".join(_text(a) for a in self.orientations)
            how = f"orientations {angles} degrees" + (" (averaged)" if len(self.angles()) > 1
                                                      else "")
        planes = ", averaged over the three orthogonal planes" if self.dims == 3 else ""
        return (f"Gabor, sigma {_text(self.sigma)} mm, wavelength {_text(self.wavelength)} mm, "
                f"gamma {_text(self.gamma)}, {how}{planes}, {self._described_tail()}")


class WaveletFilter(_Filter):
    """IBSI-2 undecimated separable wavelet: PyWavelets ``wavelet``, one L/H letter per filtered
    axis in ``decomposition`` (x first), at ``level``; optionally pooled over the right-angle
    rotations."""

    type: Literal["ibsi_wavelet"]
    wavelet: str
    decomposition: str = Field(pattern=r"^[LH]+$")
    level: int = Field(1, ge=1)
    rotation_invariant: bool = False
    pooling: Literal["max", "mean"] = "mean"

    @model_validator(mode="after")
    def _valid(self) -> WaveletFilter:
        import pywt

        if self.wavelet not in pywt.wavelist(kind="discrete"):
            match = difflib.get_close_matches(self.wavelet, pywt.wavelist(kind="discrete"), n=1)
            hint = f"; did you mean '{match[0]}'?" if match else ""
            raise ValueError(
                f"'wavelet' must be a discrete PyWavelets name such as 'db3'{hint}")
        if len(self.decomposition) != self.dims:
            raise ValueError(
                f"'decomposition' {self.decomposition!r} needs one letter L or H per filtered "
                f"axis: {self.dims} for dims {self.dims}")
        return self

    def image_name(self) -> str:
        """The filtered image's name, e.g. ``ibsi_wavelet-db3-LLH-level-1-ri-mean-3D-mirror``."""
        parts = ["ibsi_wavelet", self.wavelet, self.decomposition, "level", str(self.level)]
        if self.rotation_invariant:
            parts += ["ri", self.pooling]
        return "-".join(parts + self._tail())

    def describe(self) -> str:
        """The filter and its parameters in prose."""
        parts = [f"wavelet {self.wavelet} {self.decomposition} (undecimated), level {self.level}"]
        if self.rotation_invariant:
            parts.append(f"rotation invariant ({self.pooling} pooling over "
                         f"{_ROTATIONS[self.dims]} rotations)")
        return ", ".join(parts + [self._described_tail()])


class SimoncelliFilter(_Entry):
    """IBSI-2 Simoncelli wavelet: the band-pass map at ``level``, in the Fourier domain (the
    image is periodic to it: no boundary to choose)."""

    type: Literal["simoncelli"]
    level: int = Field(1, ge=1)

    def image_name(self) -> str:
        """The filtered image's name, e.g. ``simoncelli-level-1-3D``."""
        return f"simoncelli-level-{self.level}-{self.dims}D"

    def describe(self) -> str:
        """The filter and its parameters in prose."""
        return f"Simoncelli wavelet band-pass map, level {self.level}, {self.dims}D"


class RieszFilter(_Filter):
    """IBSI-2 Riesz transform of ``order`` (one int per filtered axis, x first) of a LoG
    (``sigma`` in mm) or Simoncelli (``level``) response, on the image extended with
    ``boundary``."""

    type: Literal["riesz"]
    base: Literal["log", "simoncelli"]
    order: list[Annotated[int, Field(ge=0)]]
    sigma: float | None = Field(None, gt=0)
    level: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _valid(self) -> RieszFilter:
        if len(self.order) != self.dims:
            raise ValueError(f"'order' needs one int per filtered axis: {self.dims} for dims "
                             f"{self.dims}")
        needed, other = ("sigma", "level") if self.base == "log" else ("level", "sigma")
        if getattr(self, needed) is None or getattr(self, other) is not None:
            raise ValueError(f"base '{self.base}' takes '{needed}' (and not '{other}')")
        return self

    def image_name(self) -> str:
        """The filtered image's name, e.g. ``riesz-log-sigma-3-mm-order-1-0-0-3D-constant``."""
        if self.base == "log":
            parts = ["riesz", "log", "sigma", _number(self.sigma), "mm"]
        else:
            parts = ["riesz", "simoncelli", "level", str(self.level)]
        return "-".join(parts + ["order", *map(str, self.order)] + self._tail())

    def describe(self) -> str:
        """The filter and its parameters in prose."""
        base = (f"Laplacian of Gaussian (sigma {_text(self.sigma)} mm)" if self.base == "log"
                else f"Simoncelli band-pass (level {self.level})")
        order = ", ".join(map(str, self.order))
        return f"Riesz transform of order ({order}) of the {base}, {self._described_tail()}"


IBSIFilter = typing.Annotated[
    MeanFilter | LoGFilter | LawsFilter | GaborFilter | WaveletFilter | SimoncelliFilter
    | RieszFilter,
    Field(discriminator="type"),
]
"""One entry of ``features.ibsi_filters``, told apart by its ``type``."""
IBSI_FILTER = TypeAdapter(IBSIFilter)
"""Validates one entry (e.g. a resolved config's dict)."""
IBSI_FILTER_TYPES = ("ibsi_mean", "ibsi_log", "laws", "gabor", "ibsi_wavelet", "simoncelli",
                     "riesz")
"""The ``type`` names, in IBSI-2 order."""
