"""Voxel-wise maps: radiopipe against pyradiomics' voxel-based extraction, same ROI and kernel.

brain1's lesion on its three middle slices (about 1,700 ROI voxels), kernel radius 1, every
first-order, GLCM, GLRLM, GLSZM, GLDM and NGTDM feature. Prints where radiopipe's time goes (CPU
time of each family's maps), then the best of ``--repeats`` runs of each side in CPU time (all
threads of the process) and wall time, radiopipe's maps on the ROI's box widened by the radius
(the default, the grid of pyradiomics' maps) and on the whole image's grid
(``extent='image'``), and ``voxel-maps: R.Rx`` (pyradiomics' CPU time over radiopipe's with
the default grid, CPU time being steadier than wall time on a shared machine). radiopipe's
compiled
kernels are loaded (or compiled) by one untimed run first. The maps are checked equal at 1e-6
relative (MCC and JointAverage apart, where pyradiomics' voxel-based maps deviate: see
tests/voxelwise/test_pyradiomics_parity.py); exit 1 when they are not.

``benchmarks/workloads.py`` prints the same ratio among its workloads through
:func:`time_voxel_maps`.

Run: ``python benchmarks/voxel_maps.py [--repeats 3]`` from the project's root.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from radiomics import featureextractor

from radiopipe.config import FeatureConfig
from radiopipe.features.extract import prepare_case
from radiopipe.io import Volume
from radiopipe.voxelwise.kernels import kernel_input
from radiopipe.voxelwise.maps import FAMILY_MAPS, mappable_features, voxel_maps

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "pyradiomics_cases"
RADIUS = 1
TOLERANCE = 1e-6
DEVIATING = {"original__glcm__MCC", "original__glcm__JointAverage"}
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


def lesion_slices(folder: Path = DATA) -> tuple[sitk.Image, sitk.Image]:
    """brain1's image and label (in ``folder``) cut to the lesion's three middle slices."""
    image = sitk.ReadImage(str(folder / "brain1_image.nrrd"))
    label = sitk.ReadImage(str(folder / "brain1_label.nrrd"))
    slices = np.nonzero((sitk.GetArrayFromImage(label) == 1).any(axis=(1, 2)))[0]
    middle = int(slices[len(slices) // 2])
    return image[:, :, middle - 1:middle + 2], label[:, :, middle - 1:middle + 2]


def radiopipe_maps(image: sitk.Image, label: sitk.Image,
                   extent: str = "roi") -> dict[str, sitk.Image]:
    """Every mappable feature's map of the case, kernel radius :data:`RADIUS`, on the image's
    grid or (``extent='roi'``) on the ROI's box, pyradiomics' grid."""
    return voxel_maps(Volume.from_sitk(image), Volume.from_sitk(label), mappable_features(),
                      FeatureConfig(), kernel_radius=RADIUS, extent=extent)


def pyradiomics_maps(image: sitk.Image, label: sitk.Image) -> dict[str, sitk.Image]:
    """pyradiomics' voxel-based maps of the same six families, same kernel and bin width."""
    logging.getLogger("radiomics").setLevel(logging.CRITICAL)
    extractor = featureextractor.RadiomicsFeatureExtractor(
        binWidth=25, kernelRadius=RADIUS, maskedKernel=True, initValue=np.nan)
    extractor.disableAllFeatures()
    extractor.enableFeaturesByName(firstorder=[], glcm=[], glrlm=[], glszm=[], gldm=[],
                                   ngtdm=[])
    return extractor.execute(image, label, voxelBased=True)


def largest_difference(ours: dict, theirs: dict, label: sitk.Image) -> float:
    """Largest relative difference over the ROI of every map both sides make (deviating
    features apart; absolute below 1e-6 of a map's largest value)."""
    roi = sitk.GetArrayFromImage(label) == 1
    worst = 0.0
    for key, their_map in theirs.items():
        if not isinstance(their_map, sitk.Image):
            continue
        _, family, name = key.split("_", 2)
        column = f"original__{family}__{name}"
        if column in DEVIATING:
            continue
        # pyradiomics' map covers the lesion's box widened by the radius; ours that box (the
        # default) or the whole image: both placed on the label's grid
        mine_map = ours[column]
        expected = sitk.GetArrayFromImage(their_map)
        theirs_at = _box_in(label, their_map, expected.shape)
        ours_at = _box_in(label, mine_map, sitk.GetArrayFromImage(mine_map).shape)
        inside = tuple(slice(t.start - o.start, t.stop - o.start)
                       for t, o in zip(theirs_at, ours_at))
        mine = sitk.GetArrayFromImage(mine_map)[inside][roi[theirs_at]]
        reference = expected[roi[theirs_at]]
        scale = max(float(np.nanmax(np.abs(reference))), 1e-300)
        error = np.abs(mine - reference) / np.maximum(np.abs(reference), 1e-6 * scale)
        worst = max(worst, float(np.nanmax(error)))
    return worst


def _box_in(grid: sitk.Image, part: sitk.Image, shape) -> tuple[slice, ...]:
    """Where ``part`` (an array of ``shape``, z y x) lies in ``grid``'s array."""
    start = grid.TransformPhysicalPointToIndex(part.GetOrigin())[::-1]
    return tuple(slice(s, s + n) for s, n in zip(start, shape))


def best_times(run: Callable[[], object], repeats: int) -> dict[str, float]:
    """The smallest CPU and wall time of ``repeats`` runs of ``run``."""
    best = {name: np.inf for name in CLOCKS}
    for _ in range(repeats):
        start = {name: clock() for name, clock in CLOCKS.items()}
        run()
        for name, clock in CLOCKS.items():
            best[name] = min(best[name], clock() - start[name])
    return best


def time_voxel_maps(repeats: int, folder: Path = DATA) -> dict:
    """Best CPU and wall times on the lesion (brain1 in ``folder``), warm: ``radiopipe`` (maps
    on the ROI's box, pyradiomics' grid, the default), ``radiopipe-image`` (on the image's grid)
    and ``pyradiomics``; ``difference``: the largest relative difference of the maps."""
    image, label = lesion_slices(folder)
    ours = radiopipe_maps(image, label)  # loads or compiles the kernels; not timed
    theirs = pyradiomics_maps(image, label)
    return {
        "radiopipe": best_times(lambda: radiopipe_maps(image, label), repeats),
        "radiopipe-image": best_times(lambda: radiopipe_maps(image, label, "image"), repeats),
        "pyradiomics": best_times(lambda: pyradiomics_maps(image, label), repeats),
        "difference": largest_difference(ours, theirs, label),
    }


def family_times(repeats: int) -> dict[str, float]:
    """radiopipe's best CPU time per family on the lesion's prepared kernels, and of the
    preparation (``prepare``: preparing, cropping, discretising and padding the case)."""
    image, label = lesion_slices()
    settings = FeatureConfig()

    def prepare():
        prepared = prepare_case(Volume.from_sitk(image), Volume.from_sitk(label), settings)
        return kernel_input(prepared.image.array, prepared.intensity_mask,
                            prepared.image.spacing, settings, radius=RADIUS)[0]

    kernels = prepare()
    times = {"prepare": best_times(prepare, repeats)["cpu"]}
    for family, (names, compute) in FAMILY_MAPS.items():
        compute(kernels, names, settings)
        times[family] = best_times(lambda: compute(kernels, names, settings), repeats)["cpu"]
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (best kept)")
    args = parser.parse_args()
    image, label = lesion_slices()
    n_voxels = int((sitk.GetArrayFromImage(label) == 1).sum())
    print(f"ROI voxels: {n_voxels}, kernel radius {RADIUS}, {len(mappable_features())} features")
    families = family_times(args.repeats)
    print("radiopipe CPU time by part: " + ", ".join(
        f"{family} {seconds * 1e3:.1f} ms" for family, seconds in families.items()))
    timed = time_voxel_maps(args.repeats)
    theirs = timed["pyradiomics"]
    for name in ("radiopipe", "radiopipe-image", "pyradiomics"):
        times = timed[name]
        print(f"{name + ':':17}CPU {times['cpu']:.3f} s, wall {times['wall']:.3f} s "
              f"({n_voxels / times['wall']:,.0f} voxels/s)")
    worst = timed["difference"]
    print(f"largest relative difference: {worst:.1e}")
    for clock in ("wall", "cpu"):
        box, whole = (theirs[clock] / timed[name][clock]
                      for name in ("radiopipe", "radiopipe-image"))
        print(f"{clock} time ratio: {box:.1f}x, maps on the whole image's grid {whole:.1f}x")
    print(f"voxel-maps: {theirs['cpu'] / timed['radiopipe']['cpu']:.1f}x")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
