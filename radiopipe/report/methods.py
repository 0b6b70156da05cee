"""The methods appendix, filled from the resolved config: the IBSI reporting items of the image
processing and feature extraction, the model and its validation, the explanations, and the
software versions."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from radiopipe.columns import split_column
from radiopipe.config import FeatureConfig
from radiopipe.explain.map_captions import engines_text
from radiopipe.features.catalogue import load_catalogue, load_image_types
from radiopipe.image_types import IMAGE_TYPES, image_type_of
from radiopipe.records import ValidationRecord
from radiopipe.report.layout import save_csv, table
from radiopipe.report.performance import interval_name
from radiopipe.report.robustness import feature_iccs
from radiopipe.report.templating import render
from radiopipe.settings.ibsi_filters import IBSI_FILTER
from radiopipe.table import feature_columns

SECTION_ID = "methods"
_EXTRA_PACKAGES = ("lightgbm", "shap", "PyWavelets", "scikit-image", "numba", "matplotlib")
_AGGREGATIONS = {
    "3D_avg": "3D, features computed per direction (13) and averaged",
    "3D_comb": "3D, one matrix merged over the 13 directions",
    "2_5D_avg": "2.5D, per direction merged over slices, features averaged over directions",
    "2_5D_comb": "2.5D, one matrix merged over slices and directions",
    "2D_avg": "2D, per slice and direction, features averaged",
    "2D_comb": "2D, per slice with directions merged, features averaged over slices",
}
_DISCRETISATION = {
    "fixed_bin_size": "IBSI fixed bin size (bins from the lower bound)",
    "fixed_bin_size_pyradiomics": "fixed bin size, pyradiomics binWidth (bins aligned to 0)",
    "fixed_bin_number": "IBSI fixed bin number",
}
# Under pyradiomics definitions the bin number is pyradiomics' binCount (numpy.histogram's edges).
_PYRADIOMICS_BIN_NUMBER = "fixed bin number, pyradiomics binCount (numpy.histogram edges)"


def methods_section(config: dict, record: ValidationRecord, features: pd.DataFrame,
                    run_dir: Path, robustness: pd.DataFrame | None = None,
                    compute_seconds: dict[str, float] | None = None) -> Markup:
    """The appendix: IBSI reporting items, model and validation, explanations, compute time.

    ``compute_seconds``: each stage's wall-clock seconds when it last ran (its stage record),
    shown with the number of images the extraction read.

    Writes ``report_feature_catalogue.csv``: each feature column with its IBSI identifier,
    pyradiomics name, any documented deviation from IBSI, the image it was computed on and, with
    a robustness run (``robustness``, its ICC table), its lowest ICC over the perturbation kinds
    (of the kind ``model.preprocessing.stability_icc`` names).
    """
    catalogue = catalogue_rows(feature_columns(features), config["features"])
    if robustness is not None:
        iccs = feature_iccs(robustness, config["model"]["preprocessing"]["stability_icc"])
        catalogue["icc"] = catalogue["feature"].map(iccs.set_index("feature")["icc"])
    save_csv(run_dir / "report_feature_catalogue.csv", catalogue, index=False)
    deviating = int(catalogue["deviation"].fillna("").astype(bool).sum())
    return render(
        "methods.html.j2", section_id=SECTION_ID,
        ibsi=table(["item", "setting"], _ibsi_rows(config, record, catalogue, deviating)),
        model=table(["item", "setting"],
                    _model_rows(config["model"], record, config["data"]["grouping_unit"])),
        explain=table(["item", "setting"], _explain_rows(config)),
        compute=_compute_table(compute_seconds or {}, config, features),
    )


# Stage -> what its time covers, in run order.
STAGE_WORK = {
    "extract": "feature extraction",
    "robustness": "perturbed versions and their features",
    "controls": "negative-control images and their features",
    "train": "validation, comparisons, controls and the final refit",
    "explain": "explanations and case pages' data",
}


def _compute_table(seconds: dict[str, float], config: dict, features: pd.DataFrame) -> str:
    """Each stage's wall time; the extraction's row counts the images it read."""
    n_images = len(features) * max(1, len(config["features"].get("modalities") or {}))
    rows = []
    for stage, work in STAGE_WORK.items():
        if stage not in seconds:
            continue
        if stage == "extract":
            work += f" ({n_images} images of {len(features)} cases)"
        rows.append([work, f"{seconds[stage]:.1f} s"])
    return table(["work", "wall-clock time"], rows) if rows else ""


def software_section(versions: dict) -> Markup:
    """Versions of the software that produced the run (and of the explanation libraries)."""
    rows = dict(versions)
    for name in _EXTRA_PACKAGES:
        try:
            rows.setdefault(name, metadata.version(name))
        except metadata.PackageNotFoundError:
            continue
    return render("software.html.j2", listing=table(["package", "version"],
                                                    [[name, v] for name, v in rows.items()]))


def _discretisation(features: dict) -> str:
    """The discretisation scheme in words, as the definitions make it."""
    scheme = features["discretisation"]
    if scheme == "fixed_bin_number" and features["definitions"] == "pyradiomics":
        return _PYRADIOMICS_BIN_NUMBER
    return _DISCRETISATION[scheme]


def _ibsi_rows(config: dict, record: ValidationRecord, catalogue: pd.DataFrame,
               deviating: int) -> list:
    features = config["features"]
    data = config["data"]
    resampling = "none (native voxel spacing)"
    if features["resampled_spacing"]:
        spacing = " x ".join("native" if not s else f"{s:g}" for s in features["resampled_spacing"])
        resampling = (f"to {spacing} mm (x, y, z), {features['interpolator']} interpolation, "
                      f"{features['grid_alignment']} grid alignment")
    if features["discretisation"] == "fixed_bin_number":
        bins = f"{features['bin_count']} bins"
    else:
        bins = f"bin width {features['bin_width']:g}"
    reseg = []
    if features["resegment_range"]:
        low, high = features["resegment_range"]
        reseg.append(f"range [{'-inf' if low is None else f'{low:g}'}, "
                     f"{'inf' if high is None else f'{high:g}'}]")
    if features["resegment_outliers"]:
        reseg.append(f"outliers beyond {features['resegment_outliers']:g} SD removed")
    definitions = features["definitions"]
    compliance = (
        "IBSI definitions; radiopipe's engine reproduces every IBSI-1 reference value "
        "(digital phantom and CT configurations A-E; 'radiopipe compliance')"
        if definitions == "ibsi" else
        f"pyradiomics 3.1.4 definitions (equal to pyradiomics on every feature); {deviating} of "
        f"the {len(catalogue)} features deviate from IBSI as documented in the feature catalogue "
        "(report_feature_catalogue.csv)"
    )
    with_id = int(catalogue["ibsi_id"].notna().sum())
    engine = record.features
    return [
        ["region of interest", f"mask label {data['mask_label']}; whole image where no mask"],
        ["feature engine", f"{engine.backend} {engine.backend_version}"],
        ["definitions and IBSI compliance", compliance],
        ["intensity normalisation", "yes (pyradiomics normalize)" if features["normalize"]
         else "no"],
        ["interpolation / resampling", resampling],
        ["re-segmentation", "; ".join(reseg) or "none"],
        ["image types (filters)", "; ".join(image_type_descriptions(features))],
        ["discretisation", f"{_discretisation(features)}, {bins}"],
        ["texture aggregation", _AGGREGATIONS[features["aggregation"]]
         + "; neighbourhood distance 1 (Chebyshev)"],
        ["feature families", ", ".join(features["families"])],
        ["number of features", f"{len(catalogue)} ({with_id} with an IBSI identifier)"],
    ]


def image_type_descriptions(features: dict) -> list[str]:
    """Each configured image type in prose, the IBSI-2 filters with every parameter and the
    image name their columns start with.

    Parameters
    ----------
    features : dict
        The resolved config's ``features`` section.

    Examples
    --------
    >>> image_type_descriptions({"image_types": ["original"], "log_sigmas": [1.0],
    ...     "wavelet": "coif1", "ibsi_filters": [{"type": "ibsi_mean", "support": 5}]})[-1]
    'IBSI-2 mean, support 5 voxels, 3D, mirror padding (ibsi_mean-support-5-3D-mirror)'
    """
    described = []
    for kind in features["image_types"]:
        text = IMAGE_TYPES[kind].label
        if kind == "log":
            text += " (sigma " + ", ".join(f"{s:g}" for s in features["log_sigmas"]) + " mm)"
        elif kind == "wavelet":
            text += f" ({features['wavelet']}, 8 sub-bands)"
        described.append(text)
    for raw in features["ibsi_filters"]:
        entry = IBSI_FILTER.validate_python(raw)
        described.append(f"IBSI-2 {entry.describe()} ({entry.image_name()})")
    return described


def catalogue_rows(columns: list[str], features: dict) -> pd.DataFrame:
    """The rows of ``report_feature_catalogue.csv``: per feature column its IBSI identifier,
    pyradiomics name, documented deviation and the image it was computed on (an IBSI-2 filter
    with its parameters, else the image type's label).

    Parameters
    ----------
    columns : list of str
        Feature columns.
    features : dict
        The resolved config's ``features`` section.
    """
    described = {}
    for raw in features["ibsi_filters"]:
        entry = IBSI_FILTER.validate_python(raw)
        described[entry.image_name()] = f"IBSI-2 {entry.describe()}"
    image_types = load_image_types()
    entries = {
        (family.family, f.name): f for family in load_catalogue().values() for f in family.features
    }
    rows = []
    for column in columns:
        image, family, name = split_column(column)
        entry = entries.get((family, name))
        if entry is None and family == "shape":  # planar ROIs report shape2d under 'shape'
            entry = entries.get(("shape2d", name))
        rows.append({
            "feature": column,
            "ibsi_id": entry.ibsi_id if entry else None,
            "pyradiomics": entry.pyradiomics if entry else None,
            "deviation": entry.deviations if entry else None,
            "image": described.get(image) or _image_label(image, image_types),
        })
    return pd.DataFrame(rows, columns=["feature", "ibsi_id", "pyradiomics", "deviation", "image"])


def _image_label(image: str, image_types: dict) -> str | None:
    kind = image_type_of(image)
    return None if kind is None else f"{image_types[kind].label} ({image})"


def _model_rows(model: dict, record: ValidationRecord, unit: str) -> list[list[str]]:
    """Primary model, compared models, ensembles, in-fold preprocessing and validation."""
    ensembles = {e["name"]: e for e in model["ensembles"]}
    searched = model["search"]["n_iter"] > 0

    def describe(name: str) -> str:
        if name in ensembles:
            e = ensembles[name]
            how = (f"weights: {e['weights']}" if e["method"] == "soft_voting"
                   else "logistic meta-learner on inner out-of-fold probabilities")
            return (f"{name}: {e['method']} of {', '.join(e['members'])} (members with their "
                    f"configured hyperparameters; {how})")
        if searched:
            return f"{name} (hyperparameters from the random search in every training fold)"
        return f"{name} ({', '.join(f'{k}={v}' for k, v in model[name].items())})"

    steps = model["preprocessing"]
    preprocessing = [
        f"{steps['impute']} imputation",
        "ComBat by site" if steps["harmonise"] == "combat" else "",
        f"near-constant removal ({steps['near_constant']})" if steps["near_constant"] else "",
        f"correlation filter (|r| >= {steps['correlation_threshold']})"
        if steps["correlation_threshold"] else "",
        f"{steps['scaler']} scaling",
        f"{steps['selection']} selection of {steps['n_features']} features"
        if steps["selection"] != "none" else "",
        "balanced class weights" if steps["class_weight"] == "balanced" else "",
        "SMOTE" if steps["smote"] else "",
        f"{steps['calibration']} calibration" if steps["calibration"] != "none" else "",
    ]
    rows = [["primary model", describe(model["name"])]]
    others = [describe(name) for name in model["compare"] if name != model["name"]]
    if others:
        rows.append(["compared", "; ".join(others)])
    if record.features.clinical:
        rows.append(["clinical covariates", ", ".join(record.features.clinical)])
    rows.append(["in-fold preprocessing", ", ".join(s for s in preprocessing if s)])
    validation = record.validation
    rows.append([
        "validation",
        f"{validation['scheme']}; seed {validation['seed']}; every metric is computed on "
        "predictions for cases the model never saw",
    ])
    rows.append(["confidence intervals",
                 f"{interval_name(record)} intervals by bootstrap over {unit} (the manifest's "
                 f"patient_id), {model['bootstrap']['n_resamples']} resamples"])
    return rows


def _explain_rows(config: dict) -> list[list[str]]:
    explain = config["explain"]
    if not explain["enabled"]:
        return [["SHAP", "not computed (explain.enabled: false)"]]
    maps = explain["feature_maps"]
    return [
        ["rows explained", "held-out rows only, each by the validated model of the fold that "
         "tested it (kept from validation, not refitted)"],
        ["tree models", "exact tree SHAP (XGBoost, LightGBM: log-odds / raw scores; random "
         "forest: probability)"],
        ["logistic regression", "exact linear SHAP against the model's typical training case"],
        ["SVM, ensembles, calibrated models",
         f"permutation SHAP on probabilities, {explain['max_evals']} evaluations per row, at "
         f"most {explain['max_rows']} rows plus the case pages"],
        ["feature maps", "off" if not maps["enabled"] else
         f"top {maps['top_features']} features per case, {maps['window']}-voxel window, at most "
         f"{maps['max_windows']} windows per map, on the ROI's largest slice; a window is shown "
         f"where at least {maps['min_coverage']:.0%} of it lies in the ROI; sums over voxels "
         "(e.g. Energy) per voxel; a contribution map in log-odds by the case's own model"],
        *([["feature map values",
            engines_text(FeatureConfig.model_validate(config["features"]), maps["window"])]]
          if maps["enabled"] else []),
    ]
