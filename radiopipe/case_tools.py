"""One case, computed now from its files, nothing written: its features
(:func:`extract_case`), several backends side by side (:func:`compare_backends`), a report's
feature maps over one slice (:func:`feature_maps`), pyradiomics' voxel-based maps over the whole
ROI (:func:`voxel_maps`), and which backend runs here (:func:`backend_status`). Re-exported by
:mod:`radiopipe.api`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from radiopipe.config import LoadedConfig
from radiopipe.config_tools import Section, make_config, section_dict
from radiopipe.extraction import compute_features
from radiopipe.manifest import Case
from radiopipe.results import BackendChoice, FeatureMaps


def extract_case(
    image: str | Path,
    mask: str | Path | None = None,
    *,
    features: Section = None,
    mask_label: int = 1,
    channel_policy: str | None = None,
    roi: str | None = None,
) -> pd.Series:
    """The features of one image and mask, computed now (nothing is written).

    Parameters
    ----------
    image : str or Path
        Image file or DICOM series folder.
    mask : str or Path, optional
        Mask file (label map, DICOM RTSTRUCT or SEG); None makes the whole image the region of
        interest.
    features : dict or FeatureConfig, optional
        Feature settings (the config's ``features`` section); pyradiomics' defaults if omitted.
    mask_label : int
        Mask value of the region of interest.
    channel_policy : str, optional
        How colour images become grey ('luminance', 'mean', 'red', 'green', 'blue').
    roi : str, optional
        The structure of an RTSTRUCT or SEG mask (exact name, segment number or pattern).

    Returns
    -------
    pandas.Series
        Values keyed ``{image_type}__{family}__{feature}``, named after the image file.

    Raises
    ------
    CaseError
        When the image or mask cannot be read or do not fit together.

    Examples
    --------
    >>> values = extract_case("ct.nrrd", "mask.nrrd", features={"bin_width": 10})  # doctest: +SKIP
    >>> values["original__firstorder__Mean"]  # doctest: +SKIP
    """
    settings = _case_settings(features, mask_label, channel_policy).config
    case = _single_case(image, mask, roi)
    values = compute_features(case, settings.features, settings.data)
    return pd.Series(values, name=case.case_id, dtype="float64")


def compare_backends(
    image: str | Path,
    mask: str | Path | None = None,
    *,
    features: Section = None,
    backends: tuple[str, ...] = ("native", "pyradiomics"),
) -> pd.DataFrame:
    """One case's features from several backends side by side, with their differences.

    Parameters
    ----------
    image, mask : str or Path
        As for :func:`extract_case`.
    features : dict or FeatureConfig, optional
        Feature settings; each backend runs them with its name substituted.
    backends : tuple of str
        The backends to run; the first is the one differences are measured against.

    Returns
    -------
    pandas.DataFrame
        Indexed by feature column: one column per backend, then ``abs_difference`` and
        ``rel_difference`` of the last backend against the first (NaN where one lacks the
        feature: the native engine adds IBSI columns pyradiomics lacks).

    Examples
    --------
    >>> compare_backends("ct.nrrd", "lesion.nrrd").sort_values("rel_difference")  # doctest: +SKIP
    """
    base = section_dict(features)
    columns = {
        name: extract_case(image, mask, features={**base, "backend": name}) for name in backends
    }
    table = pd.DataFrame(columns)
    first, last = table[backends[0]], table[backends[-1]]
    table["abs_difference"] = (last - first).abs()
    scale = pd.concat([first.abs(), last.abs()], axis=1).max(axis=1)
    table["rel_difference"] = (table["abs_difference"] / scale).where(scale > 0, 0.0)
    return table.rename_axis("feature")


def feature_maps(
    image: str | Path,
    mask: str | Path | None,
    features: list[str],
    *,
    settings: Section = None,
    window: int = 5,
    max_windows: int = 400,
    min_coverage: float = 0.5,
) -> FeatureMaps:
    """Voxel-wise maps of some features over one case's largest ROI slice.

    Each ROI voxel (every ``stride``-th one) gets the feature of the ``window``-voxel cube
    centred there, where at least ``min_coverage`` of the window lies in the ROI: by the
    voxel-wise engine's masked kernels (:func:`voxel_maps`' values, radius ``window // 2``) for
    the features it covers, by the extraction's family code on the window otherwise (each map's
    ``engine`` says which); sums over voxels such as Energy are shown per voxel (see
    :mod:`radiopipe.explain.feature_maps`).

    Parameters
    ----------
    image, mask : str or Path
        As for :func:`extract_case`.
    features : list of str
        Feature columns to map (texture, first-order or histogram features).
    settings : dict or FeatureConfig, optional
        Feature settings.
    window : int
        Window side in voxels (odd).
    max_windows : int
        Windows per map at most.
    min_coverage : float
        Fraction of a window that must lie in the ROI for it to be shown (1: wholly inside).

    Returns
    -------
    FeatureMaps
        ``.plot()`` draws them; ``.frame()`` is the table behind.

    Examples
    --------
    >>> maps = feature_maps("ct.nrrd", "lesion.nrrd", ["original__glcm__Idm"])  # doctest: +SKIP
    >>> maps.plot()  # doctest: +SKIP
    """
    from radiopipe.explain.feature_maps import feature_maps as compute_maps
    from radiopipe.io import Volume, read_case

    config = _case_settings(settings, 1, None).config
    image_read, mask_read = read_case(_single_case(image, mask), config.data)
    maps = compute_maps(Volume.from_sitk(image_read), Volume.from_sitk(mask_read), features,
                        config.features, window=window, max_windows=max_windows,
                        min_coverage=min_coverage)
    return FeatureMaps(maps)


def voxel_maps(
    image,
    mask,
    features: list[str],
    *,
    kernel_radius: int = 1,
    masked_kernel: bool = True,
    init_value: float = float("nan"),
    settings: Section = None,
    mask_label: int = 1,
    extent: str = "roi",
) -> dict:
    """Voxel-wise maps of some features over one case's whole 3D ROI (pyradiomics' voxel-based
    extraction, computed for every kernel at once).

    Each ROI voxel gets the features of the cube of side ``2 * kernel_radius + 1`` around it,
    with pyradiomics' semantics (see :mod:`radiopipe.voxelwise`): with ``masked_kernel`` only
    ROI voxels of the cube count and the grey levels are discretised over the whole ROI. Unlike
    :func:`feature_maps` (a report's view of one slice, windows screened by coverage, extensive
    features per voxel, the same kernels at its centres) the values are pyradiomics' own, over
    every ROI voxel.

    Parameters
    ----------
    image, mask : str, Path or SimpleITK.Image
        The case: files (as for :func:`extract_case`) or images on one grid.
    features : list of str
        Feature columns of the first-order, GLCM, GLRLM, GLSZM, GLDM and NGTDM families
        (``radiopipe.voxelwise.maps.mappable_features()`` on 'original'), on the original
        image or on a filtered image the settings' ``image_types`` make
        (``log-sigma-1-0-mm-3D__glcm__Idm``, ``wavelet-LLH__firstorder__Mean``).
    kernel_radius : int
        pyradiomics' ``kernelRadius``.
    masked_kernel : bool
        pyradiomics' ``maskedKernel``.
    init_value : float
        Value outside the ROI: NaN by default (pyradiomics' ``initValue`` is 0).
    settings : dict or FeatureConfig, optional
        Feature settings (preparation, discretisation); ``definitions`` must be 'pyradiomics'.
        A family whose kernels ignore one of its settings (``distances`` other than [1], an
        aggregation other than 3D, ``gldm_a``) is refused: its maps would not show the
        extracted feature.
    mask_label : int
        The ROI's label in ``mask``.
    extent : {'roi', 'image'}
        The maps' grid: the ROI's bounding box widened by the kernel radius, as pyradiomics'
        maps (the default), or the whole image's.

    Returns
    -------
    dict of str to SimpleITK.Image
        Column -> float64 map on the image's grid or its part around the ROI (the resampled
        grid when the settings resample), placed in space as the image is.

    Examples
    --------
    >>> maps = voxel_maps("ct.nrrd", "lesion.nrrd", ["original__glcm__Idm"])  # doctest: +SKIP
    >>> sitk.WriteImage(maps["original__glcm__Idm"], "idm.nrrd")  # doctest: +SKIP
    """
    import SimpleITK as sitk

    from radiopipe.io import Volume, read_case
    from radiopipe.voxelwise.maps import voxel_maps as compute_maps

    config = _case_settings(settings, mask_label, None).config
    if isinstance(image, sitk.Image) and isinstance(mask, sitk.Image):
        image_read, mask_read = image, sitk.Cast(mask == mask_label, sitk.sitkUInt8)
    else:
        image_read, mask_read = read_case(_single_case(image, mask), config.data)
    return compute_maps(Volume.from_sitk(image_read), Volume.from_sitk(mask_read), features,
                        config.features, kernel_radius=kernel_radius,
                        masked_kernel=masked_kernel, init_value=init_value, extent=extent)


def backend_status(backend: str = "auto") -> BackendChoice:
    """Which feature backend ``backend`` runs here, and what the GPU probe found.

    Examples
    --------
    >>> backend_status("native").backend
    'native'
    """
    from radiopipe import gpu
    from radiopipe.backends import get_backend

    chosen = get_backend(backend).name
    reason = gpu.unavailable_reason() if chosen != "cupy" and backend in ("auto", "cupy") else ""
    return BackendChoice(backend, chosen, reason)


def _case_settings(features: Section, mask_label: int, channel_policy: str | None) -> LoadedConfig:
    """Feature and reading settings validated as a config's sections (same messages)."""
    data = {"manifest": "single-case", "mask_label": mask_label, "channel_policy": channel_policy}
    return make_config("single-case", data=data, features=section_dict(features))


def _single_case(image: str | Path, mask: str | Path | None, roi: str | None = None) -> Case:
    image = Path(image)
    name = image.name.split(".")[0] or "case"
    return Case(case_id=name, image=image, mask=None if mask is None else Path(mask),
                label="", patient_id=name, roi=roi)
