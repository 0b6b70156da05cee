"""Shared fixtures: synthetic cohorts written in code, and the shared reference data.

The reference data's helpers (its folder, the IBSI-1 phantoms and tables, pyradiomics' cases) are
in reference_data.py.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import yaml
from reference_data import ibsi_references

from radiopipe.compliance.data import DIGITAL_PHANTOM
from radiopipe.compliance.reference import Reference

REPO = Path(__file__).resolve().parents[1]


def write_image(
    path: Path, array: np.ndarray, spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0)
) -> Path:
    """Write a (z, y, x) array as an image file; the format follows the suffix."""
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(tuple(float(s) for s in spacing))
    image.SetOrigin(tuple(float(o) for o in origin))
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path))
    return path


def write_dicom_series(
    folder: Path, array: np.ndarray, series_uid: str, *, study_uid: str,
    file_name: str = "slice{:02d}.dcm", slice_spacing: float = 1.0, tags: dict | None = None,
) -> Path:
    """Write a (z, y, x) array as one DICOM CT series, one int16 file per slice.

    ``file_name`` is formatted with the slice index; ``tags`` add to (or replace) the series'
    own tags on every slice, e.g. a patient's name or a series description.
    """
    folder.mkdir(parents=True, exist_ok=True)
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    for i, plane in enumerate(array):
        image = sitk.GetImageFromArray(plane.astype(np.int16))
        slice_tags = {
            "0008|0060": "CT",
            "0008|0018": f"{series_uid}.{i + 1}",
            "0020|000d": study_uid,
            "0020|000e": series_uid,
            "0020|0013": str(i + 1),
            "0020|0032": f"0\\0\\{i * slice_spacing}",
            "0020|0037": "1\\0\\0\\0\\1\\0",
            **(tags or {}),
        }
        for key, value in slice_tags.items():
            image.SetMetaData(key, value)
        writer.SetFileName(str(folder / file_name.format(i)))
        writer.Execute(image)
    return folder


def sphere_mask(shape=(12, 12, 12), radius=4.0) -> np.ndarray:
    """A centred ball of ones in a zero volume (uint8)."""
    grid = np.indices(shape).astype(float)
    centre = (np.asarray(shape, dtype=float) - 1) / 2
    distance = np.sqrt(((grid - centre[:, None, None, None]) ** 2).sum(axis=0))
    return (distance <= radius).astype(np.uint8)


def make_cohort(folder: Path, n_per_class: int = 12, seed: int = 0) -> Path:
    """Two classes of noisy spheres ('dark' and 'bright'), one patient per pair of cases.

    Returns the manifest path. Intensity differs between classes, so a model can learn it.
    """
    rng = np.random.default_rng(seed)
    mask = sphere_mask()
    rows = []
    for k, label in enumerate(("dark", "bright")):
        for i in range(n_per_class):
            case_id = f"{label}-{i:02d}"
            image = rng.normal(100 + 40 * k, 20, mask.shape).astype(np.float32)
            write_image(folder / "images" / f"{case_id}.nrrd", image)
            write_image(folder / "masks" / f"{case_id}.nrrd", mask)
            rows.append(
                {
                    "case_id": case_id,
                    "image": f"images/{case_id}.nrrd",
                    "mask": f"masks/{case_id}.nrrd",
                    "label": label,
                    "patient_id": f"p{k}-{i // 2}",
                }
            )
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def write_config(folder: Path, manifest: Path, **overrides) -> Path:
    """A small, fast run config over ``manifest``; top-level sections can be overridden."""
    config = {
        "name": "tiny",
        "output_dir": "run",
        "data": {"manifest": str(manifest.relative_to(folder))},
        "features": {"backend": "pyradiomics", "families": ["firstorder", "glcm"], "bin_width": 10},
        "model": {"cv": {"n_splits": 3, "seed": 0}, "xgboost": {"n_estimators": 50}},
    }
    config.update(overrides)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture(params=["numpy", pytest.param("cupy", marks=pytest.mark.gpu)])
def xp(request):
    """The array namespace of the GPU backend's tests: NumPy, and CuPy where a device is."""
    if request.param == "numpy":
        return np
    import cupy

    return cupy


@pytest.fixture
def cohort(tmp_path) -> Path:
    """Manifest of a 24-case synthetic two-class cohort in ``tmp_path/cohort``."""
    return make_cohort(tmp_path / "cohort")


@pytest.fixture
def config_file(tmp_path, cohort) -> Path:
    """A fast config over the synthetic cohort, writing into ``tmp_path/run``."""
    return write_config(tmp_path, cohort)


@pytest.fixture(scope="session")
def backends():
    """(native, pyradiomics) backends, compared on the same inputs; skips, naming the extra,
    without pyradiomics."""
    pytest.importorskip("radiomics", reason="pyradiomics (the reference extra) not installed")
    from radiopipe.backends import get_backend

    return get_backend("native"), get_backend("pyradiomics")


@pytest.fixture(scope="session")
def digital_phantom_references() -> dict[str, Reference]:
    """The IBSI-1 reference values of the digital phantom by tag; skips without them."""
    return ibsi_references(DIGITAL_PHANTOM)


def pytest_collection_modifyitems(config, items):
    """Skip ``gpu``-marked tests, with what was found, where no CUDA device is usable."""
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_items:
        return
    from radiopipe import gpu

    if gpu.is_available():
        return
    skip = pytest.mark.skip(reason=f"no CUDA device: {gpu.unavailable_reason()}")
    for item in gpu_items:
        item.add_marker(skip)
