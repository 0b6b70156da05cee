"""pyradiomics parameters -> radiopipe feature settings (``radiopipe.from_pyradiomics``).

A pyradiomics parameter file (YAML with ``setting``, ``imageType`` and ``featureClass``
sections) or a flat dict of its settings (``{'binWidth': 25, 'resampledPixelSpacing': [2, 2,
2], ...}``, as pyradiomics records them in ``diagnostics_Configuration_Settings``) becomes the
``features`` section of a radiopipe config: the native engine with ``definitions: pyradiomics``,
which then gives pyradiomics' values. A setting radiopipe cannot express is refused with one line
naming it; settings that change no feature value (``additionalInfo``, ``preCrop``,
``minimumROIDimensions``, ...) are accepted and dropped.

pyradiomics' reading settings ``correctMask`` and ``geometryTolerance`` decide how a mask is read,
which radiopipe's ``data`` section holds: ``from_pyradiomics`` accepts them and
:func:`pyradiomics_reading` translates them (``data.correct_mask``, ``data.geometry_tolerance``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from radiopipe.errors import ConfigError
from radiopipe.image_types import IMAGE_TYPES
from radiopipe.settings.inputs import FeatureConfig

# Settings that change no feature value radiopipe computes: diagnostics, a validity check of the
# ROI's size, and cropping before the filters (bit for bit the same features); and the reading
# settings, which the data section holds (see pyradiomics_reading).
_NO_EFFECT = frozenset({
    "additionalInfo", "enableCExtensions", "minimumROIDimensions", "minimumROISize", "preCrop",
    "correctMask", "geometryTolerance",
})
_INTERPOLATORS = {
    "sitkNearestNeighbor": "nearest", 1: "nearest",
    "sitkLinear": "linear", 2: "linear",
    "sitkBSpline": "bspline", 3: "bspline",
}
_IMAGE_TYPES = {t.pyradiomics: name for name, t in IMAGE_TYPES.items()}
_FAMILIES = {"shape2D": "shape"}


def from_pyradiomics(params: Mapping[str, Any] | str | Path) -> FeatureConfig:
    """The radiopipe feature settings equal to pyradiomics parameters.

    Parameters
    ----------
    params : dict, str or Path
        A pyradiomics parameter file (YAML), its parsed content (``setting``, ``imageType``,
        ``featureClass``), or a flat dict of pyradiomics settings.

    Returns
    -------
    FeatureConfig
        ``backend: native``, ``definitions: pyradiomics`` and the translated settings.

    Raises
    ------
    ConfigError
        A setting radiopipe cannot express, named in one line.

    Examples
    --------
    >>> from_pyradiomics({"binWidth": 5, "force2D": True}).aggregation
    '2_5D_avg'
    """
    if isinstance(params, (str, Path)):
        params = yaml.safe_load(Path(params).read_text(encoding="utf-8")) or {}
    sections = {"setting", "imageType", "featureClass", "voxelSetting"}
    if set(params) & sections:
        unknown = sorted(set(params) - sections)
        if unknown:
            raise ConfigError(f"pyradiomics parameter section '{unknown[0]}' is unknown")
        if params.get("voxelSetting"):
            raise ConfigError("pyradiomics 'voxelSetting' (voxel-based maps) is not supported")
        fields = _settings(params.get("setting") or {})
        fields.update(_image_types(params.get("imageType")))
        fields.update(_families(params.get("featureClass")))
    else:
        fields = _settings(params)
    try:
        return FeatureConfig(backend="native", definitions="pyradiomics", **fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f"pyradiomics parameters give an invalid '{key}': {first['msg']}"
        ) from None


def pyradiomics_reading(params: Mapping[str, Any] | str | Path) -> dict[str, Any]:
    """The radiopipe ``data`` settings of pyradiomics' reading settings.

    Parameters
    ----------
    params : dict, str or Path
        As for :func:`from_pyradiomics`.

    Returns
    -------
    dict
        ``correct_mask`` (pyradiomics' ``correctMask``) and ``geometry_tolerance``
        (``geometryTolerance``), where given: keys of the config's ``data`` section.

    Examples
    --------
    >>> pyradiomics_reading({"correctMask": True, "geometryTolerance": 1e-3, "binWidth": 5})
    {'correct_mask': True, 'geometry_tolerance': 0.001}
    """
    if isinstance(params, (str, Path)):
        params = yaml.safe_load(Path(params).read_text(encoding="utf-8")) or {}
    sections = {"setting", "imageType", "featureClass", "voxelSetting"}
    settings = (params.get("setting") or {}) if set(params) & sections else params
    fields: dict[str, Any] = {}
    if settings.get("correctMask") is not None:
        fields["correct_mask"] = bool(settings["correctMask"])
    if settings.get("geometryTolerance") is not None:
        fields["geometry_tolerance"] = float(settings["geometryTolerance"])
    return fields


def _settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The FeatureConfig fields of pyradiomics' ``setting`` section."""
    fields: dict[str, Any] = {}
    for key, value in settings.items():
        if key in _NO_EFFECT:
            continue
        translate = _TRANSLATORS.get(key)
        if translate is None:
            raise ConfigError(f"pyradiomics setting '{key}' ({value!r}) cannot be expressed")
        fields.update(translate(value, settings))
    return fields


def _refuse_unless(default: Any) -> Callable[[str], Callable]:
    """A translator that accepts only pyradiomics' default value of a setting."""

    def named(key: str) -> Callable:
        def translate(value, _settings) -> dict:
            if value != default and value is not None:
                raise ConfigError(
                    f"pyradiomics setting '{key}' ({value!r}) cannot be expressed; only "
                    f"{default!r} is supported"
                )
            return {}

        return translate

    return named


def _bin_width(value, _settings) -> dict:
    return {"bin_width": float(value)}


def _bin_count(value, settings) -> dict:
    if value is None:
        return {}
    return {"discretisation": "fixed_bin_number", "bin_count": int(value)}


def _force_2d(value, settings) -> dict:
    return _aggregation(bool(value), settings.get("weightingNorm"))


def _weighting_norm(value, settings) -> dict:
    return _aggregation(bool(settings.get("force2D")), value)


def _aggregation(force_2d: bool, weighting_norm) -> dict:
    """The aggregation (and direction weighting) of pyradiomics' force2D and weightingNorm."""
    if weighting_norm not in (None, "no_weighting", "manhattan", "euclidean", "infinity"):
        raise ConfigError(
            f"pyradiomics setting 'weightingNorm' ({weighting_norm!r}) cannot be expressed; use "
            "None, 'no_weighting', 'manhattan', 'euclidean' or 'infinity'"
        )
    dims = "2_5D" if force_2d else "3D"
    if weighting_norm is None:
        return {"aggregation": f"{dims}_avg"}
    weighting = None if weighting_norm == "no_weighting" else weighting_norm
    return {"aggregation": f"{dims}_comb", "direction_weighting": weighting}


def _resampled_spacing(value, settings) -> dict:
    if value is None:
        return {}
    fields = {"resampled_spacing": [float(s) or None for s in value]}
    interpolator = settings.get("interpolator", "sitkBSpline")
    if interpolator not in _INTERPOLATORS:
        raise ConfigError(
            f"pyradiomics setting 'interpolator' ({interpolator!r}) cannot be expressed; use "
            "sitkNearestNeighbor, sitkLinear or sitkBSpline"
        )
    fields["interpolator"] = _INTERPOLATORS[interpolator]
    return fields


def _interpolator(value, settings) -> dict:
    return {}  # read with resampledPixelSpacing: pyradiomics interpolates only to resample


def _resegment_range(value, settings) -> dict:
    if value is None:
        return {}
    mode = settings.get("resegmentMode", "absolute")
    bounds = [float(v) for v in value]
    if mode == "absolute":
        return {"resegment_range": [bounds[0], bounds[1] if len(bounds) > 1 else None]}
    if mode == "sigma" and len(bounds) == 2 and bounds[0] == -bounds[1] and bounds[1] > 0:
        return {"resegment_outliers": bounds[1]}
    raise ConfigError(
        f"pyradiomics setting 'resegmentRange' ({value!r}) with resegmentMode {mode!r} cannot "
        "be expressed; use mode 'absolute', or 'sigma' with a symmetric range [-n, n]"
    )


def _resegment_mode(value, settings) -> dict:
    if value not in ("absolute", "sigma"):
        raise ConfigError(f"pyradiomics setting 'resegmentMode' ({value!r}) cannot be expressed")
    return {}  # read with resegmentRange


def _normalize(value, settings) -> dict:
    return {"normalize": bool(value)}


def _label(value, settings) -> dict:
    if value != 1:
        raise ConfigError(
            f"pyradiomics setting 'label' ({value!r}) belongs to the data section: set "
            "data.mask_label instead"
        )
    return {}


def _sigma(value, settings) -> dict:
    return {"log_sigmas": [float(s) for s in value]} if value else {}


def _wavelet(value, settings) -> dict:
    return {"wavelet": str(value)}


_TRANSLATORS: dict[str, Callable[[Any, Mapping], dict]] = {
    "binWidth": _bin_width,
    "binCount": _bin_count,
    "force2D": _force_2d,
    "weightingNorm": _weighting_norm,
    "resampledPixelSpacing": _resampled_spacing,
    "interpolator": _interpolator,
    "resegmentRange": _resegment_range,
    "resegmentMode": _resegment_mode,
    "normalize": _normalize,
    "label": _label,
    "sigma": _sigma,
    "wavelet": _wavelet,
    "start_level": _refuse_unless(0)("start_level"),
    "normalizeScale": lambda value, _: {"normalize_scale": float(value)},
    "removeOutliers": lambda value, _: {} if value is None else {"normalize_outliers": value},
    "voxelArrayShift": lambda value, _: {"voxel_array_shift": float(value)},
    "distances": lambda value, _: {"distances": [int(d) for d in value]},
    "gldm_a": lambda value, _: {"gldm_a": int(value)},
    "force2Ddimension": lambda value, _: {"slice_axis": int(value)},
    "padDistance": lambda value, _: {"pad_distance": int(value)},
    "level": _refuse_unless(1)("level"),
    "lbp2DRadius": lambda value, _: {"lbp2d_radius": float(value)},
    "lbp2DSamples": lambda value, _: {"lbp2d_samples": int(value)},
    "lbp2DMethod": lambda value, _: {"lbp2d_method": value},
    "lbp3DLevels": lambda value, _: {"lbp3d_levels": int(value)},
    "lbp3DIcosphereRadius": lambda value, _: {"lbp3d_icosphere_radius": float(value)},
    "lbp3DIcosphereSubdivision": lambda value, _: {"lbp3d_icosphere_subdivision": int(value)},
    "symmetricalGLCM": _refuse_unless(True)("symmetricalGLCM"),
}


def _image_types(image_types) -> dict[str, Any]:
    """FeatureConfig fields of pyradiomics' ``imageType`` section."""
    if not image_types:
        return {}
    fields: dict[str, Any] = {"image_types": []}
    for name, options in image_types.items():
        if name not in _IMAGE_TYPES:
            raise ConfigError(f"pyradiomics image type '{name}' cannot be expressed")
        fields["image_types"].append(_IMAGE_TYPES[name])
        fields.update(_settings(options or {}))
    return fields


def _families(feature_classes) -> dict[str, Any]:
    """FeatureConfig fields of pyradiomics' ``featureClass`` section."""
    if not feature_classes:
        return {}
    families = []
    for name, features in feature_classes.items():
        if features:
            raise ConfigError(
                f"pyradiomics featureClass '{name}' lists single features; radiopipe computes "
                "whole families: give it an empty value"
            )
        family = _FAMILIES.get(name, name)
        if family not in families:
            families.append(family)
    return {"families": families}
