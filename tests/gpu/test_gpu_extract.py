"""The batched extraction equals the native engine's: IBSI digital phantom, real cases, batches.

With ``xp`` = NumPy these run the batched code on the CPU; with CuPy (``gpu``) the kernels.
Every feature is compared, with the tolerances of `gpu_helpers`. LoG images are float32 on both
paths; on the device they come from ``recursive_laplacian_of_gaussian`` (CuPy's ``lfilter``),
which equals SimpleITK's LoG to ~1e-7 relative (tests/filters/test_log.py). A voxel that close to
a bin edge can fall into another bin, so the CuPy comparison pins the native side to the same
recursive algorithm: it checks the feature stage, the filter having its own tests.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from gpu_helpers import assert_same_features, random_roi
from reference_data import ibsi_phantom, ibsi_references, pyradiomics_case

from radiopipe.config import FeatureConfig
from radiopipe.features.catalogue import ibsi_tag_index
from radiopipe.features.engine import extract_features as native_extract
from radiopipe.features.family import settings_aggregation
from radiopipe.features.registry import FAMILIES
from radiopipe.filters import log as log_filter
from radiopipe.gpu.extract import extract_batch
from radiopipe.gpu.families import BATCHED
from radiopipe.gpu.packing import RoiItem, pack
from radiopipe.io import Volume
from radiopipe.preprocess.crop import crop_slices
from radiopipe.xp import to_numpy

ALL_FAMILIES = [
    "firstorder", "shape", "glcm", "glrlm", "glszm", "gldm", "ngtdm", "gldzm", "ngldm",
    "intensity_histogram", "intensity_volume", "local_intensity",
]
GEOMETRY = ((0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))


@pytest.fixture
def pinned_log(monkeypatch, xp):
    """On the device, make the native LoG the recursive algorithm the device runs."""
    if xp is not np:
        def recursive(image, spacing, sigma, *, region=None):
            filtered = log_filter.recursive_laplacian_of_gaussian(image, spacing, sigma)
            return filtered if region is None else filtered[region]

        monkeypatch.setattr(log_filter, "laplacian_of_gaussian", recursive)


@pytest.mark.reference
@pytest.mark.parametrize("aggregation", ["2D_avg", "2_5D_comb", "3D_avg", "3D_comb"])
def test_digital_phantom_equals_native(xp, aggregation):
    phantom = ibsi_phantom()
    settings = FeatureConfig(
        definitions="ibsi", families=ALL_FAMILIES, discretisation="fixed_bin_size",
        bin_width=1.0, aggregation=aggregation,
    )
    ours = extract_batch([(phantom.image, phantom.mask)], settings, xp=xp)[0]
    native = native_extract(phantom.image, phantom.mask, settings)
    assert_same_features(ours, native, xp, f"digital phantom {aggregation}")


@pytest.mark.reference
def test_digital_phantom_reference_values(xp):
    """Every IBSI digital-phantom value of the batched families, computed in ``xp``."""
    phantom = ibsi_phantom()
    box = crop_slices(phantom.mask.array)
    roi = phantom.mask.array[box]
    values = phantom.image.array[box][roi]
    levels = values.astype(np.int64)  # the phantom's grey levels are its intensities, 1..6
    item = RoiItem(roi, values, levels, int(levels.max()), 1.0)
    batch = pack([item], pad=1, xp=xp)
    index = ibsi_tag_index()
    tables: dict = {}
    checked, failed = Counter(), []
    for reference in ibsi_references().values():
        family, name = index.get(reference.stem, (None, None))
        if family not in BATCHED:
            continue  # shape, histograms, local intensity: host families (native tests)
        key = (family, reference.aggregation)
        if key not in tables:
            tables[key] = _batched_values(batch, family, reference.aggregation)
        checked[reference.aggregation or "none"] += 1
        if not reference.passes(tables[key][name]):
            failed.append(f"{reference.tag}: {tables[key][name]} vs {reference.value}")
    assert sum(checked.values()) >= 150, checked
    assert not failed, failed


def _batched_values(batch, family: str, aggregation: str | None) -> dict[str, float]:
    """IBSI-mode values of one batched family for the batch's single ROI."""
    # The voxel volume (1) scales only first order's TotalEnergy, which has no IBSI tag.
    settings = FeatureConfig(
        definitions="ibsi", aggregation=settings_aggregation(aggregation or "3D")
    )
    table = BATCHED[family](batch, settings)
    return dict(zip(FAMILIES[family].feature_names, to_numpy(table)[0].tolist()))


@pytest.mark.reference
@pytest.mark.slow
@pytest.mark.parametrize(
    "settings",
    [
        FeatureConfig(image_types=["original", "log", "wavelet"]),
        FeatureConfig(definitions="ibsi", families=ALL_FAMILIES[:-1], aggregation="2D_comb",
                      discretisation="fixed_bin_number", bin_count=16),
    ],
    ids=["pyradiomics-defaults-log-wavelet", "ibsi-2D-fbn"],
)
def test_real_cases_in_one_batch_equal_native(xp, pinned_log, settings):
    cases = [pyradiomics_case(name).volumes() for name in ("brain1", "breast1", "lung1")]
    ours = extract_batch(cases, settings, xp=xp)
    for name, (image, mask), values in zip(("brain1", "breast1", "lung1"), cases, ours):
        assert_same_features(values, native_extract(image, mask, settings), xp, name)


def test_random_2d_and_3d_rois_in_one_batch_equal_native(xp):
    rng = np.random.default_rng(11)
    cases = []
    for shape in [(40, 30), (12, 20, 16), (1, 18, 18), (25, 25), (6, 9, 7), (3, 3)]:
        image = rng.normal(100.0, 40.0, shape).round()
        mask = random_roi(rng, (1, *shape) if len(shape) == 2 else shape, 2)[1]
        mask = mask[0] if len(shape) == 2 else mask
        spacing = tuple(rng.uniform(0.5, 2.0, len(shape)))
        cases.append((Volume(image, spacing, *GEOMETRY), Volume(mask.astype(np.uint8), spacing,
                                                               *GEOMETRY)))
    for settings in (
        FeatureConfig(bin_width=10.0),
        FeatureConfig(definitions="ibsi", families=ALL_FAMILIES[:-1], aggregation="2_5D_avg",
                      bin_width=15.0),
    ):
        ours = extract_batch(cases, settings, xp=xp)
        for k, ((image, mask), values) in enumerate(zip(cases, ours)):
            assert_same_features(values, native_extract(image, mask, settings), xp, f"case {k}")
