"""One IBSI-2 filter response: the filter table the compliance run and the extraction share.

A :class:`FilterSpec` names a filter of :data:`FILTERS` with its IBSI parameters (lengths in
mm); :func:`filter_response` computes it on an ``(x, y, z)`` array (the IBSI reference maps'
voxel order) and :func:`filter_volume` on the engine's ``(z, y, x)`` arrays, after checking
that the voxels are isotropic along the filtered axes. :func:`filter_spec` turns a config entry
(``features.ibsi_filters``, :mod:`radiopipe.settings.ibsi_filters`) into a spec, so a config
entry and an IBSI-2 compliance configuration run the same code. Every step is array-namespace
generic (NumPy or CuPy).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from radiopipe.filters.ibsi2.gabor import gabor_orthogonal_planes, gabor_response
from radiopipe.filters.ibsi2.laws import laws_response
from radiopipe.filters.ibsi2.log import laplacian_of_gaussian
from radiopipe.filters.ibsi2.mean import mean_filter
from radiopipe.filters.ibsi2.padding import extended
from radiopipe.filters.ibsi2.riesz import riesz_transform
from radiopipe.filters.ibsi2.simoncelli import simoncelli_response
from radiopipe.filters.ibsi2.wavelets import wavelet_response
from radiopipe.settings.ibsi_filters import IBSIFilter
from radiopipe.xp import get_namespace

AXES_3D, AXES_2D = (0, 1, 2), (0, 1)
RIESZ_EXTENSION = 32
"""Voxels the image is extended by (with the boundary condition) before a Riesz transform."""
_BOUNDARY = {"constant": "zero", "nearest": "nearest", "periodic": "periodic",
             "mirror": "mirror"}


@dataclass(frozen=True)
class FilterSpec:
    """One IBSI-2 filter with its parameters.

    Attributes
    ----------
    filter : str
        A key of :data:`FILTERS` (or a filter radiopipe lacks).
    dims : int
        2 (slice-wise in the (x, y) plane) or 3.
    boundary : str or None
        IBSI boundary condition (``zero``, ``nearest``, ``periodic``, ``mirror``); None for
        Fourier filters that use the image as it is.
    parameters : mapping
        Filter parameters as the IBSI states them (lengths in mm).
    """

    filter: str
    dims: int
    boundary: str | None
    parameters: Mapping = field(default_factory=dict)


def _axes(spec: FilterSpec) -> tuple[int, ...]:
    return AXES_3D if spec.dims == 3 else AXES_2D


def _original(image, spec, spacing):
    return image


def _mean(image, spec, spacing):
    return mean_filter(image, spec.parameters["support"], _axes(spec), spec.boundary)


def _log(image, spec, spacing):
    sigma = spec.parameters["sigma_mm"] / spacing
    cutoff = spec.parameters.get("cutoff", 4.0)
    return laplacian_of_gaussian(image, sigma, _axes(spec), spec.boundary, cutoff)


def _laws(image, spec, spacing):
    p = spec.parameters
    return laws_response(image, p["kernel"], _axes(spec), spec.boundary,
                         rotation_invariant=p["rotation_invariant"],
                         energy_distance=p.get("energy_distance"),
                         pooling=p.get("pooling", "max"))


def _gabor(image, spec, spacing):
    p = spec.parameters
    sigma, wavelength = p["sigma_mm"] / spacing, p["wavelength_mm"] / spacing
    if "thetas" in p:
        thetas = list(p["thetas"])
    elif "theta" in p:
        thetas = [p["theta"]]
    else:
        count = round(2 * math.pi / p["theta_step"])
        thetas = [k * p["theta_step"] for k in range(count)]
    if spec.dims == 3:
        return gabor_orthogonal_planes(image, sigma, wavelength, p["gamma"], thetas,
                                       spec.boundary)
    return gabor_response(image, sigma, wavelength, p["gamma"], thetas, AXES_2D, spec.boundary)


def _wavelet(image, spec, spacing):
    p = spec.parameters
    return wavelet_response(image, p["wavelet"], p["band"], _axes(spec), spec.boundary,
                            level=p["level"], rotation_invariant=p["rotation_invariant"],
                            pooling=p.get("pooling", "mean"))


def _simoncelli(image, spec, spacing):
    return simoncelli_response(image, spec.parameters["level"], _axes(spec))


def _riesz_log(image, spec, spacing):
    p, axes = spec.parameters, _axes(spec)
    order = [int(c) for c in p["order"]]

    def chain(array):
        log = laplacian_of_gaussian(array, p["sigma_mm"] / spacing, axes, spec.boundary)
        return riesz_transform(log, order, axes)

    return extended(chain, image, RIESZ_EXTENSION, axes, spec.boundary)


def _riesz_simoncelli(image, spec, spacing):
    p, axes = spec.parameters, _axes(spec)
    order = [int(c) for c in p["order"]]

    def chain(array):
        return riesz_transform(simoncelli_response(array, p["level"], axes), order, axes)

    return extended(chain, image, RIESZ_EXTENSION, axes, spec.boundary)


FILTERS: Mapping[str, Callable] = MappingProxyType({
    "original": _original, "mean": _mean, "log": _log, "laws": _laws, "gabor": _gabor,
    "wavelet": _wavelet, "simoncelli": _simoncelli, "riesz_log": _riesz_log,
    "riesz_simoncelli": _riesz_simoncelli,
})
"""Filter name -> ``f(image, spec, spacing_mm)`` returning the response map of an ``(x, y,
z)`` array."""


def filter_response(image, spec: FilterSpec, spacing: float):
    """The response of an ``(x, y, z)`` array with isotropic voxels of ``spacing`` mm.

    Raises
    ------
    KeyError
        When radiopipe lacks the filter (see :data:`FILTERS`).
    """
    return FILTERS[spec.filter](image, spec, spacing)


def filter_volume(image, spec: FilterSpec, spacing: tuple[float, ...]):
    """The response of a ``(z, y, x)`` array (the engine's order) of any namespace.

    The image is filtered along (x, y, z), so the first letter of a kernel name acts along x
    and 2D filters act in the axial plane of every slice. Lengths are divided by the x spacing.

    Parameters
    ----------
    image : array
        ``(z, y, x)`` image.
    spec : FilterSpec
    spacing : tuple of float
        ``(z, y, x)`` voxel size in mm.

    Raises
    ------
    ValueError
        When the voxels are not isotropic along the filtered axes, or a 3D filter is given a
        single slice.
    """
    filtered_axes = spacing[1:] if spec.dims == 2 else spacing
    if max(filtered_axes) - min(filtered_axes) > 1e-6:
        raise ValueError(
            f"IBSI-2 filter '{spec.filter}' ({spec.dims}D) needs isotropic voxels along its "
            f"axes; got spacing {tuple(spacing)} mm (z, y, x); set features.resampled_spacing "
            "to equal values")
    if spec.dims == 3 and image.shape[0] == 1:
        raise ValueError(f"IBSI-2 filter '{spec.filter}' is 3D and the image has one slice; "
                         "set dims: 2")
    xp = get_namespace(image)
    volume = xp.transpose(image.astype(xp.float64))  # (x, y, z)
    return xp.transpose(filter_response(volume, spec, spacing[-1]))


def filter_spec(entry: IBSIFilter) -> FilterSpec:
    """The spec of one ``features.ibsi_filters`` entry.

    Examples
    --------
    >>> from radiopipe.settings.ibsi_filters import IBSI_FILTER
    >>> filter_spec(IBSI_FILTER.validate_python({"type": "ibsi_log", "sigma": 1.5}))
    FilterSpec(filter='log', dims=3, boundary='mirror', parameters={'sigma_mm': 1.5, 'cutoff': 4.0})
    """
    kind = entry.type
    boundary = _BOUNDARY[entry.boundary] if hasattr(entry, "boundary") else None
    if kind == "ibsi_mean":
        return FilterSpec("mean", entry.dims, boundary, {"support": entry.support})
    if kind == "ibsi_log":
        return FilterSpec("log", entry.dims, boundary,
                          {"sigma_mm": entry.sigma, "cutoff": entry.cutoff})
    if kind == "laws":
        return FilterSpec("laws", entry.dims, boundary, {
            "kernel": entry.kernel, "rotation_invariant": entry.rotation_invariant,
            "energy_distance": entry.energy_distance, "pooling": entry.pooling})
    if kind == "gabor":
        return FilterSpec("gabor", entry.dims, boundary, {
            "sigma_mm": entry.sigma, "wavelength_mm": entry.wavelength, "gamma": entry.gamma,
            "thetas": tuple(math.radians(a) for a in entry.angles())})
    if kind == "ibsi_wavelet":
        return FilterSpec("wavelet", entry.dims, boundary, {
            "wavelet": entry.wavelet, "band": entry.decomposition, "level": entry.level,
            "rotation_invariant": entry.rotation_invariant, "pooling": entry.pooling})
    if kind == "simoncelli":
        return FilterSpec("simoncelli", entry.dims, None, {"level": entry.level})
    order = tuple(entry.order)
    if entry.base == "log":
        return FilterSpec("riesz_log", entry.dims, boundary,
                          {"sigma_mm": entry.sigma, "order": order})
    return FilterSpec("riesz_simoncelli", entry.dims, boundary,
                      {"level": entry.level, "order": order})
