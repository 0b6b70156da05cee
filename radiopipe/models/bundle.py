"""Model bundles: a folder that predicts new cases safely, or is refused.

Contents: ``estimator.skops`` (the fitted pipeline through skops, loaded only with an explicit
list of trusted types, never an unchecked pickle), one native file per booster
(``booster-<i>.ubj``: XGBoost's UBJSON; ``booster-<i>.txt``: LightGBM's text model) and
``bundle.json``: file hashes, library versions, the feature column order, the classes and the
settings that made the features. Loading checks versions, hashes, the manifest's own hash and
the column order before it returns a model.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import platform
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from radiopipe.errors import RadiopipeError
from radiopipe.models.boosters import XGBoostClassifier, _BoosterClassifier
from radiopipe.models.stability import StabilityFilter
from radiopipe.models.walk import fitted_parts
from radiopipe.records import BUNDLE_FORMAT, BUNDLE_SCHEMA, BundleManifest, RecordError
from radiopipe.storage import current_umask, file_sha256

MANIFEST_FILE = "bundle.json"
ESTIMATOR_FILE = "estimator.skops"
PACKAGES = (
    "radiopipe",
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "xgboost",
    "lightgbm",
    "imbalanced-learn",
    "skops",
)
# Types skops may rebuild besides its defaults: radiopipe's own estimators, imbalanced-learn's
# pipeline and SMOTE, numpy dtypes, and scikit-learn's internal classes (prefix rule).
_TRUSTED_EXACT = frozenset(
    {
        "imblearn.over_sampling._smote.base.SMOTE",
        "imblearn.pipeline.Pipeline",
        "numpy.dtype",
        "radiopipe.models.boosters.LightGBMClassifier",
        "radiopipe.models.boosters.XGBoostClassifier",
        "radiopipe.models.bundle.NativeBoosterFile",
        "radiopipe.models.calibration.GroupedCalibratedClassifier",
        "radiopipe.models.combat.ComBatHarmoniser",
        "radiopipe.models.ensembles.SoftVotingEnsemble",
        "radiopipe.models.embedding.EmbeddingPCA",
        "radiopipe.models.ensembles.StackingEnsemble",
        "radiopipe.models.reduction.CorrelationFilter",
        "radiopipe.models.reduction.NearConstantFilter",
        "radiopipe.models.selection.LassoSelector",
        "radiopipe.models.selection.MRMRSelector",
        "radiopipe.models.selection.UnivariateSelector",
        "radiopipe.models.stability.StabilityFilter",
    }
)
_TRUSTED_PREFIX = "sklearn."


class BundleError(RadiopipeError):
    """A model bundle is missing, modified, or made for another environment."""


class NativeBoosterFile:
    """Stands in a saved estimator for a booster stored in its library's own file format.

    Parameters
    ----------
    file : str
        File name inside the bundle.
    library : {'xgboost', 'lightgbm'}
    """

    def __init__(self, file: str, library: str):
        self.file = file
        self.library = library


@dataclass(frozen=True)
class Bundle:
    """A loaded, verified bundle.

    Attributes
    ----------
    estimator : estimator
        The fitted model; ``predict_proba`` takes a DataFrame with ``feature_columns``.
    manifest : BundleManifest
        Content of ``bundle.json``.
    """

    estimator: object
    manifest: BundleManifest

    @property
    def feature_columns(self) -> list[str]:
        """Input columns in the order the model was fitted on."""
        return list(self.manifest.feature_columns)

    @property
    def classes(self) -> list[str]:
        """Class labels in the order of the probability columns."""
        return list(self.manifest.classes)


def environment_versions() -> dict[str, str]:
    """Python (major.minor) and the installed versions of the packages a bundle depends on."""
    versions = {"python": ".".join(platform.python_version_tuple()[:2])}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def save_bundle(folder: Path, estimator, manifest: BundleManifest) -> Path:
    """Write a bundle folder (replacing an earlier one only once the new one is complete).

    Parameters
    ----------
    folder : Path
        Target folder.
    estimator : fitted estimator
        Fitted on a DataFrame whose columns are ``manifest.feature_columns``.
    manifest : BundleManifest
        The bundle's facts; its ``versions``, ``files`` and ``manifest_sha256`` are filled in
        here.

    Returns
    -------
    Path
        ``folder``.
    """
    import skops.io as sio

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    os.chmod(staging, 0o777 & ~current_umask())  # mkdtemp's 0700 would hide the bundle
    try:
        shell = copy.deepcopy(estimator)
        for selector in fitted_parts(shell, StabilityFilter, "perturbed"):
            selector.perturbed = None  # fitted or template: predicting reads support_ alone
        boosters = _boosters(shell)
        for i, model in enumerate(boosters):
            model.dask_address = None  # the run's Dask cluster ends with it; bundles predict here
            if isinstance(model, XGBoostClassifier):
                name = f"booster-{i}.ubj"
                model.booster_.save_model(str(staging / name))
                model.booster_ = NativeBoosterFile(name, "xgboost")
            else:
                name = f"booster-{i}.txt"
                model.booster_.save_model(str(staging / name))
                model.booster_ = NativeBoosterFile(name, "lightgbm")
        sio.dump(shell, staging / ESTIMATOR_FILE, compression=zipfile.ZIP_DEFLATED)
        files = {p.name: file_sha256(p) for p in sorted(staging.iterdir())}
        body = dataclasses.replace(manifest, versions=environment_versions(), files=files,
                                   manifest_sha256="").to_json()
        body["manifest_sha256"] = _manifest_hash(body)
        (staging / MANIFEST_FILE).write_text(json.dumps(body, indent=2) + "\n", "utf-8")
        _replace_folder(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def load_bundle(folder: Path) -> Bundle:
    """Load a bundle after checking it; refuse it with a :class:`BundleError` otherwise.

    Checks, in order: the manifest is a radiopipe bundle; the library versions equal this
    environment's; every file's SHA-256 matches; the manifest's own hash matches; skops finds
    only trusted types; the model's input columns equal the manifest's feature columns.

    Parameters
    ----------
    folder : Path

    Returns
    -------
    Bundle
    """
    import skops.io as sio

    folder = Path(folder)
    body = _read_manifest(folder)
    try:
        manifest = BundleManifest.from_json(body, f"bundle '{folder.name}': {MANIFEST_FILE}")
    except RecordError as exc:
        raise BundleError(str(exc)) from None
    _check_versions(manifest, folder.name)
    _check_files(manifest, folder)
    if manifest.manifest_sha256 != _manifest_hash(body):
        raise BundleError(
            f"bundle '{folder.name}': {MANIFEST_FILE} was edited after the bundle was written "
            "(its hash does not match); rebuild the bundle with 'radiopipe train'"
        )
    path = folder / ESTIMATOR_FILE
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
        raise BundleError(
            f"bundle '{folder.name}': {ESTIMATOR_FILE} is not a skops file "
            f"({type(exc).__name__}); rebuild the bundle with 'radiopipe train'"
        ) from None
    refused = [
        t for t in untrusted if t not in _TRUSTED_EXACT and not t.startswith(_TRUSTED_PREFIX)
    ]
    if refused:
        raise BundleError(
            f"bundle '{folder.name}': {ESTIMATOR_FILE} holds types radiopipe does not trust "
            f"({', '.join(refused[:5])}); refusing to load it"
        )
    estimator = sio.load(path, trusted=untrusted)
    for model in _boosters(estimator):
        model.booster_ = _load_booster(folder, model.booster_)
    names = _input_names(estimator)
    if names is not None and names != list(manifest.feature_columns):
        raise BundleError(
            f"bundle '{folder.name}': the feature columns in {MANIFEST_FILE} differ from those "
            "the model was fitted on; the bundle was modified"
        )
    return Bundle(estimator=estimator, manifest=manifest)


def _read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise BundleError(
            f"'{folder.name}' is not a model bundle ({MANIFEST_FILE} is missing); pass the "
            "'model' folder that 'radiopipe train' writes"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BundleError(f"bundle '{folder.name}': {MANIFEST_FILE} is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"bundle '{folder.name}': {MANIFEST_FILE} is not a radiopipe bundle")
    if manifest.get("format_version") != BUNDLE_SCHEMA:
        raise BundleError(
            f"bundle '{folder.name}' has format version {manifest.get('format_version')}; this "
            f"radiopipe reads version {BUNDLE_SCHEMA}"
        )
    return manifest


def _check_versions(manifest: BundleManifest, name: str) -> None:
    here = environment_versions()
    saved = manifest.versions
    differ = [
        f"{pkg} {saved.get(pkg, 'unknown')} (here {here[pkg]})"
        for pkg in here
        if saved.get(pkg) != here[pkg]
    ]
    if differ:
        raise BundleError(
            f"bundle '{name}' was saved with other library versions: {', '.join(differ)}; "
            "install the bundle's versions or retrain"
        )


def _check_files(manifest: BundleManifest, folder: Path) -> None:
    files = manifest.files
    if ESTIMATOR_FILE not in files:
        raise BundleError(f"bundle '{folder.name}': {MANIFEST_FILE} lists no {ESTIMATOR_FILE}")
    for name, digest in files.items():
        path = folder / name
        if Path(name).name != name or not path.is_file():
            raise BundleError(f"bundle '{folder.name}': file '{name}' is missing")
        if file_sha256(path) != digest:
            raise BundleError(
                f"bundle '{folder.name}': file '{name}' does not match its SHA-256 in "
                f"{MANIFEST_FILE}; the bundle was modified after it was written"
            )


def _manifest_hash(manifest: dict) -> str:
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _load_booster(folder: Path, ref):
    if not isinstance(ref, NativeBoosterFile) or ref.library not in ("xgboost", "lightgbm"):
        raise BundleError(f"bundle '{folder.name}': a booster reference is malformed")
    path = folder / Path(ref.file).name
    if ref.library == "xgboost":
        import xgboost

        booster = xgboost.Booster()
        booster.load_model(str(path))
        return booster
    import lightgbm

    return lightgbm.Booster(model_file=str(path))


def _boosters(root) -> list[_BoosterClassifier]:
    """Every booster wrapper inside a (fitted) estimator tree, in a stable order."""
    return fitted_parts(root, _BoosterClassifier, "booster_")


def _input_names(estimator) -> list[str] | None:
    """The column names a fitted estimator was fitted on, where it records them."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None and hasattr(estimator, "calibrated_classifiers_"):
        names = getattr(estimator.calibrated_classifiers_[0].estimator, "feature_names_in_", None)
    return None if names is None else [str(n) for n in np.asarray(names)]


def _replace_folder(staging: Path, folder: Path) -> None:
    """Move the finished staging folder onto ``folder``; an older bundle goes only afterwards."""
    old = None
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        folder.rename(old)
    staging.rename(folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
