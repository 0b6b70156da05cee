"""Voxel-wise maps: radiopipe against pyradiomics' voxel-based extraction, same ROI and kernel.

brain1's lesion on its three middle slices (about 1,700 ROI voxels), kernel radius 1, every
first-order, GLCM, GLRLM, GLSZM, GLDM and NGTDM feature. Prints ``voxel-maps: R.Rx``
(pyradiomics' CPU time over radiopipe's, CPU time being steadier than wall time on a shared
machine) and checks the maps are equal at 1e-6 relative (MCC and JointAverage apart, where
pyradiomics' voxel-based maps deviate: see tests/voxelwise/test_pyradiomics_parity.py).

Run: ``python benchmarks/voxel_maps.py`` from the project's root.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from radiomics import featureextractor

from radiopipe.config import FeatureConfig
from radiopipe.io import Volume
from radiopipe.voxelwise.maps import mappable_features, voxel_maps

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "pyradiomics_cases"
RADIUS = 1
DEVIATING = {"original__glcm__MCC", "original__glcm__JointAverage"}


def _case():
    image = sitk.ReadImage(str(DATA / "brain1_image.nrrd"))
    label = sitk.ReadImage(str(DATA / "brain1_label.nrrd"))
    slices = np.nonzero((sitk.GetArrayFromImage(label) == 1).any(axis=(1, 2)))[0]
    middle = int(slices[len(slices) // 2])
    return image[:, :, middle - 1:middle + 2], label[:, :, middle - 1:middle + 2]


def main() -> int:
    logging.getLogger("radiomics").setLevel(logging.CRITICAL)
    image, label = _case()
    n_voxels = int((sitk.GetArrayFromImage(label) == 1).sum())
    features = mappable_features()
    volumes = Volume.from_sitk(image), Volume.from_sitk(label)
    voxel_maps(*volumes, features[:1] + features[-1:], FeatureConfig())  # compile once
    start = time.process_time()
    ours = voxel_maps(*volumes, features, FeatureConfig(), kernel_radius=RADIUS)
    ours_seconds = time.process_time() - start
    extractor = featureextractor.RadiomicsFeatureExtractor(
        binWidth=25, kernelRadius=RADIUS, maskedKernel=True, initValue=np.nan)
    extractor.disableAllFeatures()
    extractor.enableFeaturesByName(firstorder=[], glcm=[], glrlm=[], glszm=[], gldm=[],
                                   ngtdm=[])
    start = time.process_time()
    theirs = extractor.execute(image, label, voxelBased=True)
    their_seconds = time.process_time() - start
    roi = sitk.GetArrayFromImage(label) == 1
    worst = 0.0
    for key, their_map in theirs.items():
        if not isinstance(their_map, sitk.Image):
            continue
        _, family, name = key.split("_", 2)
        column = f"original__{family}__{name}"
        if column in DEVIATING:
            continue
        start_index = ours[column].TransformPhysicalPointToIndex(their_map.GetOrigin())[::-1]
        expected = sitk.GetArrayFromImage(their_map)
        box = tuple(slice(s, s + n) for s, n in zip(start_index, expected.shape))
        mine = sitk.GetArrayFromImage(ours[column])[box][roi[box]]
        reference = expected[roi[box]]
        scale = max(float(np.nanmax(np.abs(reference))), 1e-300)
        error = np.abs(mine - reference) / np.maximum(np.abs(reference), 1e-6 * scale)
        worst = max(worst, float(np.nanmax(error)))
    print(f"ROI voxels: {n_voxels}, kernel radius {RADIUS}, {len(features)} features")
    print(f"radiopipe:   {ours_seconds:.2f} s ({n_voxels / ours_seconds:,.0f} voxels/s)")
    print(f"pyradiomics: {their_seconds:.2f} s ({n_voxels / their_seconds:,.0f} voxels/s)")
    print(f"largest relative difference: {worst:.1e}")
    print(f"voxel-maps: {their_seconds / ours_seconds:.1f}x")
    return 0 if worst <= 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main())
