"""The IBSI-2 phase-1 configurations (one per reference response map); both phases compute
through the filter table of ``radiopipe.filters.ibsi2.response``, as the extraction does.

Arrays are in the reference maps' voxel order ``(i, j, k)`` (NIfTI x, y, z): 3D filters act
along axes (0, 1, 2), 2D filters in the (i, j) plane of every k slice. Lengths in the parameters
are in millimetres and are divided by the phantoms' spacing (2 mm).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from radiopipe.filters.ibsi2.response import FILTERS, FilterSpec

__all__ = ["FILTERS", "PHASE_1", "FilterConfiguration"]


@dataclass(frozen=True)
class FilterConfiguration:
    """One IBSI-2 configuration.

    Attributes
    ----------
    id : str
        IBSI id, e.g. ``'2.b'``; the reference map is ``<id with '_'>-ValidCRM.nii.gz``.
    phantom : str
        Phantom name (``'checkerboard'``, ``'impulse'``, ``'sphere'``, ``'pattern_1'``, or the
        phase-2 CT phantom).
    filter : str
        Filter name, a key of :data:`FILTERS` (or a filter radiopipe lacks).
    dims : int
        2 (slice-wise in the (i, j) plane) or 3.
    boundary : str or None
        IBSI boundary condition; None for Fourier filters that use the image as it is.
    parameters : mapping
        Filter parameters as the IBSI states them (lengths in mm).
    """

    id: str
    phantom: str
    filter: str
    dims: int
    boundary: str | None
    parameters: Mapping = field(default_factory=dict)

    @property
    def map_name(self) -> str:
        """File name of the reference response map."""
        return f"{self.id.replace('.', '_')}-ValidCRM.nii.gz"

    @property
    def spec(self) -> FilterSpec:
        """The filter and its parameters, as ``radiopipe.filters.ibsi2.response`` computes
        them."""
        return FilterSpec(self.filter, self.dims, self.boundary, self.parameters)

    def describe(self) -> str:
        """Parameters as one short text, e.g. ``3D sigma=3.0 zero``."""
        values = " ".join(f"{k}={_short(v)}" for k, v in self.parameters.items())
        return " ".join(p for p in (f"{self.dims}D", values, self.boundary or "") if p)


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _c(id_, phantom, filter_, dims, boundary, **parameters) -> FilterConfiguration:
    return FilterConfiguration(id_, phantom, filter_, dims, boundary,
                               MappingProxyType(parameters))


_LAWS_3A = {"kernel": "E5L5S5"}
_LAWS_3B = {"kernel": "E3W5R5"}
_LAWS_3C = {"kernel": "L5S5"}
_GABOR_A = {"sigma_mm": 10.0, "wavelength_mm": 4.0, "gamma": 0.5}
_GABOR_B = {"sigma_mm": 20.0, "wavelength_mm": 8.0, "gamma": 2.5}

PHASE_1: tuple[FilterConfiguration, ...] = (
    _c("1.a.1", "checkerboard", "mean", 3, "zero", support=15),
    _c("1.a.2", "checkerboard", "mean", 3, "nearest", support=15),
    _c("1.a.3", "checkerboard", "mean", 3, "periodic", support=15),
    _c("1.a.4", "checkerboard", "mean", 3, "mirror", support=15),
    _c("1.b.1", "impulse", "mean", 2, "zero", support=15),
    _c("2.a", "impulse", "log", 3, "zero", sigma_mm=3.0),
    _c("2.b", "checkerboard", "log", 3, "mirror", sigma_mm=5.0),
    _c("2.c", "checkerboard", "log", 2, "mirror", sigma_mm=5.0),
    _c("3.a.1", "impulse", "laws", 3, "zero", **_LAWS_3A, rotation_invariant=False),
    _c("3.a.2", "impulse", "laws", 3, "zero", **_LAWS_3A, rotation_invariant=True),
    _c("3.a.3", "impulse", "laws", 3, "zero", **_LAWS_3A, rotation_invariant=True,
       energy_distance=7),
    _c("3.b.1", "checkerboard", "laws", 3, "mirror", **_LAWS_3B, rotation_invariant=False),
    _c("3.b.2", "checkerboard", "laws", 3, "mirror", **_LAWS_3B, rotation_invariant=True),
    _c("3.b.3", "checkerboard", "laws", 3, "mirror", **_LAWS_3B, rotation_invariant=True,
       energy_distance=7),
    _c("3.c.1", "checkerboard", "laws", 2, "mirror", **_LAWS_3C, rotation_invariant=False),
    _c("3.c.2", "checkerboard", "laws", 2, "mirror", **_LAWS_3C, rotation_invariant=True),
    _c("3.c.3", "checkerboard", "laws", 2, "mirror", **_LAWS_3C, rotation_invariant=True,
       energy_distance=7),
    _c("4.a.1", "impulse", "gabor", 2, "zero", **_GABOR_A, theta=math.pi / 3),
    _c("4.a.2", "impulse", "gabor", 3, "zero", **_GABOR_A, theta_step=math.pi / 4),
    _c("4.b.1", "sphere", "gabor", 2, "mirror", **_GABOR_B, theta=5 * math.pi / 4),
    _c("4.b.2", "sphere", "gabor", 3, "mirror", **_GABOR_B, theta_step=math.pi / 8),
    _c("5.a.1", "impulse", "wavelet", 3, "zero", wavelet="db2", band="LHL", level=1,
       rotation_invariant=False),
    _c("5.a.2", "impulse", "wavelet", 3, "zero", wavelet="db2", band="LHL", level=1,
       rotation_invariant=True),
    _c("6.a.1", "sphere", "wavelet", 3, "periodic", wavelet="coif1", band="HHL", level=1,
       rotation_invariant=False),
    _c("6.a.2", "sphere", "wavelet", 3, "periodic", wavelet="coif1", band="HHL", level=1,
       rotation_invariant=True),
    _c("7.a.1", "checkerboard", "wavelet", 3, "mirror", wavelet="haar", band="LLL", level=2,
       rotation_invariant=True),
    _c("7.a.2", "checkerboard", "wavelet", 3, "mirror", wavelet="haar", band="HHH", level=2,
       rotation_invariant=True),
    _c("8.a.1", "checkerboard", "simoncelli", 3, None, level=1),
    _c("8.a.2", "checkerboard", "simoncelli", 3, None, level=2),
    _c("8.a.3", "checkerboard", "simoncelli", 3, None, level=3),
    _c("9.a", "impulse", "riesz_log", 3, "zero", sigma_mm=3.0, order="100"),
    _c("9.b.1", "sphere", "riesz_log", 3, "zero", sigma_mm=3.0, order="020"),
    _c("10.b.1", "pattern_1", "riesz_simoncelli", 3, "nearest", level=1, order="020"),
)
"""Every phase-1 configuration that has a reference map (33), in IBSI order."""
