"""pyradiomics as a feature backend: the reference implementation radiopipe is checked against.

Beside the features it keeps pyradiomics' own ``diagnostics_*`` values of every case (versions,
settings, image and mask hashes, spacing, ROI voxel count, ...), which the extraction stores as
``pyradiomics__diagnostics_*`` columns: diagnostics of the run, never model features.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import SimpleITK as sitk

from radiopipe.config import FeatureConfig
from radiopipe.errors import ConfigError
from radiopipe.image_types import IMAGE_TYPES

_INTERPOLATORS = {
    "nearest": sitk.sitkNearestNeighbor,
    "linear": sitk.sitkLinear,
    "bspline": sitk.sitkBSpline,
}


def _radiomics():
    try:
        import radiomics
        from radiomics import featureextractor
    except ImportError:
        raise ConfigError(
            "backend 'pyradiomics' needs the reference extra: pip install 'radiopipe[reference]'"
        ) from None
    # pyradiomics prints to stderr through a handler of its own, once per case and warning (e.g.
    # "GLCM is symmetrical ..."); in a cohort run that floods the console. Its documented switch
    # keeps errors only.
    radiomics.setVerbosity(logging.ERROR)
    return radiomics, featureextractor


class PyradiomicsBackend:
    """Features computed by pyradiomics (all seven classes, settings mapped from the config).

    Two-dimensional images are passed as they are, with the 2D shape class: pyradiomics then
    filters them in their plane (2D LoG, four wavelet sub-bands) and reads in-plane texture.
    """

    name = "pyradiomics"

    def version(self) -> str:
        """The installed pyradiomics version."""
        radiomics, _ = _radiomics()
        return str(radiomics.__version__)

    def extract(
        self, image: sitk.Image, mask: sitk.Image, settings: FeatureConfig
    ) -> dict[str, float]:
        """Compute the configured features of one region of interest.

        Parameters
        ----------
        image, mask : SimpleITK.Image
            Scalar image and binary mask (label 1) on the same grid.
        settings : FeatureConfig
            Families, image types and discretisation settings.

        Returns
        -------
        dict
            ``{image_type}__{family}__{feature}`` -> value.
        """
        return self._execute(image, mask, settings, diagnostics=False)[0]

    def extract_described(
        self, image: sitk.Image, mask: sitk.Image, settings: FeatureConfig
    ) -> tuple[dict[str, float], dict[str, Any]]:
        """The features and pyradiomics' ``diagnostics_*`` values of one region of interest.

        Returns
        -------
        (dict, dict)
            The features as :meth:`extract` gives them, and pyradiomics' diagnostics keyed as
            pyradiomics keys them (``diagnostics_Mask-original_VoxelNum``): numbers stay numbers,
            text stays text, tuples and settings become JSON text.
        """
        return self._execute(image, mask, settings, diagnostics=True)

    def _execute(self, image, mask, settings: FeatureConfig, *, diagnostics: bool):
        _, featureextractor = _radiomics()
        planar = image.GetDimension() == 2
        # A 2D image stays 2D: its texture is in-plane already, force2D (which drops the axis
        # force2Ddimension) would drop one of its two axes.
        force_2d = not planar and settings.aggregation.startswith("2_5D")
        params = self._params(settings, force_2d)
        params["additionalInfo"] = diagnostics
        if planar and "resampledPixelSpacing" in params:
            params["resampledPixelSpacing"] = params["resampledPixelSpacing"][:2]
        extractor = featureextractor.RadiomicsFeatureExtractor(**params)
        extractor.disableAllFeatures()
        for family in settings.families:
            extractor.enableFeatureClassByName(
                "shape2D" if (planar and family == "shape") else family
            )
        extractor.disableAllImageTypes()
        for image_type in settings.image_types:
            extractor.enableImageTypeByName(IMAGE_TYPES[image_type].pyradiomics)
        raw = extractor.execute(image, mask, label=1)
        features, found = {}, {}
        for key, value in raw.items():
            if key.startswith("diagnostics_"):
                found[key] = _plain(value)
                continue
            image_type, family, feature = key.split("_", 2)
            family = "shape" if family == "shape2D" else family
            features[f"{image_type}__{family}__{feature}"] = float(np.asarray(value))
        return features, found

    @staticmethod
    def _params(settings: FeatureConfig, force_2d: bool) -> dict:
        params = {
            "interpolator": _INTERPOLATORS[settings.interpolator],
            "normalize": settings.normalize,
            "normalizeScale": settings.normalize_scale,
            "voxelArrayShift": settings.voxel_array_shift,
            "gldm_a": settings.gldm_a,
            "distances": list(settings.distances),
            "padDistance": settings.pad_distance,
            "removeOutliers": settings.normalize_outliers,
            "force2D": force_2d,
            # A merged aggregation is pyradiomics' weightingNorm: its directions summed, weighted.
            "weightingNorm": (
                (settings.direction_weighting or "no_weighting")
                if settings.aggregation.endswith("_comb") else None
            ),
            "force2Ddimension": settings.slice_axis,
            "sigma": list(settings.log_sigmas),
            "wavelet": settings.wavelet,
            "lbp2DRadius": settings.lbp2d_radius,
            "lbp2DSamples": settings.lbp2d_samples,
            "lbp2DMethod": settings.lbp2d_method,
            "lbp3DLevels": settings.lbp3d_levels,
            "lbp3DIcosphereRadius": settings.lbp3d_icosphere_radius,
            "lbp3DIcosphereSubdivision": settings.lbp3d_icosphere_subdivision,
        }
        if settings.discretisation == "fixed_bin_number":
            params["binCount"] = settings.bin_count
        else:
            params["binWidth"] = settings.bin_width
        if settings.resampled_spacing is not None:
            params["resampledPixelSpacing"] = [s or 0 for s in settings.resampled_spacing]
        if settings.resegment_range is not None:
            low, high = settings.resegment_range  # the config refuses an open lower bound here
            params["resegmentRange"] = [low] if high is None else [low, high]
        return params


def _plain(value: Any) -> Any:
    """A diagnostic value as a parquet cell: a number, or text (tuples and dicts as JSON)."""
    if isinstance(value, np.ndarray) and value.ndim == 0 or isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, default=str, sort_keys=True)
