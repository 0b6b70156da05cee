"""radiopipe's native engine against pyradiomics on the workloads a cohort meets, side by side.

Usage, from the repository root (needs the ``reference`` extra)::

    python benchmarks/workloads.py CASES_DIR [--quick] [--repeats 3] [--cpu]
        [--pictologics /path/to/python3.12]

``CASES_DIR`` is any folder of ``{case}_image.*`` / ``{case}_label.*`` pairs (NRRD, NIfTI, MHA;
label 1 is the ROI), e.g. ``../shared/data/pyradiomics_cases``. Both backends run in this one
process on the same SimpleITK images with the same settings (`FeatureConfig()`: pyradiomics'
defaults, its seven families, bin width 25). Workloads:

small-rois
    200 patches of the built-in MNI152 tissue dataset (123-voxel spheres), original image; the
    native side goes through the batch API (`radiopipe.features.batch.extract_many`), which
    batches ROIs this small, pyradiomics extracts them one by one;
large-roi
    a synthetic 128x128x64 volume with a 140k-voxel ellipsoid, original image;
large-roi-filters
    the same with original + LoG (sigma 1, 2, 3 mm) + wavelet (coif1);
2d
    a synthetic 512x512 image with a 70k-pixel disk, original image;
real-default, real-filters
    every case of ``CASES_DIR``, original image, then original + LoG + wavelet (the median of
    the per-case ratios).
voxel-maps
    voxel-wise maps of every first-order, GLCM, GLRLM, GLSZM, GLDM and NGTDM feature, kernel
    radius 1, on brain1's lesion (three slices) when ``CASES_DIR`` holds brain1: radiopipe's
    ``voxel_maps`` against pyradiomics' ``voxelBased=True`` (``voxel_maps.py``, whose
    ``time_voxel_maps`` it calls; pyradiomics runs once untimed for the value check); the
    ratio of radiopipe's default maps (the ROI's box widened by the radius, pyradiomics' grid),
    that of maps over the whole image beside it.

Each line is ``name: R.Rx``, R = pyradiomics time / native time (> 1: native is faster); the last
line, ``worst``, is the smallest ratio. Timings are warm: each workload runs once per backend
untimed, then the best of ``--repeats`` runs is kept. Values are checked while timing: the
largest relative difference of a feature both backends output (absolute near zero) is printed
beside each ratio, and a difference over ``TOLERANCE`` is reported as a mismatch (exit 1). The
MNI152 patches and the value check are those of ``extract_vs_pyradiomics.py`` (which also
measures peak memory).
pictologics has no voxel-wise maps: ``voxel-maps`` is not compared with it.
``--quick`` (a few minutes on two cores) times 50 patches, one run each, and skips the filters
on real cases larger than ``QUICK_FILTER_VOXELS`` voxels. ``--cpu`` times processor time (all
threads of the process) instead of wall-clock time: steadier on a shared machine.

``--pictologics PYTHON`` also times pictologics (never a radiopipe dependency; it needs Python
>= 3.12, e.g. a venv with ``pip install pictologics``) on the same workloads, in that
interpreter through ``pictologics_runner.py``: the cases are written as NRRD files it loads,
with the same bin width and image types (morphology on the original image only; a 2D image as
one slice) and the bin start pyradiomics uses for each filtered image. It prints
``vs-pictologics: R.Rx`` (pictologics time / native time, all cases of the workload) per
workload, ``worst-vs-pictologics`` last, and a few values of the first case of each side
(pictologics computes IBSI's definitions: 3D merged texture matrices, so its GLCM values differ
from pyradiomics' direction averages).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from extract_vs_pyradiomics import largest_difference, small_cases
from scipy import ndimage
from voxel_maps import time_voxel_maps

from radiopipe.backends.native import NativeBackend
from radiopipe.backends.pyradiomics import PyradiomicsBackend
from radiopipe.config import FeatureConfig
from radiopipe.features.batch import extract_many
from radiopipe.features.extract import filter_images, prepare_case
from radiopipe.io import Volume

DEFAULT = FeatureConfig()
FILTERS = FeatureConfig(image_types=["original", "log", "wavelet"])
TOLERANCE = 1e-6
QUICK_FILTER_VOXELS = 3_000_000
RUNNER = Path(__file__).with_name("pictologics_runner.py")
# Features of the first case compared with pictologics: radiopipe column -> pictologics key.
COMPARED = {
    "original__shape__MeshVolume": "volume_RNU0",
    "original__firstorder__Mean": "mean_intensity_Q4LE",
    "original__glcm__JointAverage": "joint_average_60VM",
    "original__glcm__Contrast": "contrast_ACUI",
    "original__glszm__SmallAreaEmphasis": "small_zone_emphasis_P001",
}
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]

Case = tuple[str, sitk.Image, sitk.Image]


def main() -> int:
    """Run every workload, print one ratio line each and the worst; 1 on a value mismatch."""
    global clock
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases_dir", type=Path, help="folder of {case}_image.* / _label.* pairs")
    parser.add_argument("--quick", action="store_true", help="fewer patches and runs")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (best kept)")
    parser.add_argument("--cpu", action="store_true", help="time processor time, not wall time")
    parser.add_argument("--pictologics", metavar="PYTHON", type=Path,
                        help="an interpreter with pictologics: time it on the same workloads")
    args = parser.parse_args()
    clock = CLOCKS["cpu" if args.cpu else "wall"]
    logging.getLogger("radiopipe").setLevel(logging.ERROR)
    repeats = 1 if args.quick else args.repeats
    real = read_cases(args.cases_dir)
    workloads: list[tuple[str, list[Case], FeatureConfig]] = [
        ("small-rois", small_cases(50 if args.quick else 200), DEFAULT),
        ("large-roi", [synthetic_3d()], DEFAULT),
        ("large-roi-filters", [synthetic_3d()], FILTERS),
        ("2d", [synthetic_2d()], DEFAULT),
        ("real-default", real, DEFAULT),
        ("real-filters", [c for c in real if not args.quick
                          or c[1].GetNumberOfPixels() <= QUICK_FILTER_VOXELS], FILTERS),
    ]
    ratios, native_times, mismatches = {}, {}, []
    for name, cases, settings in workloads:
        if name == "small-rois":
            native, ratio, worst = _time_batch(cases, settings, repeats)
        else:
            per_case = [_time_case(case, settings, repeats) for case in cases]
            native = sum(t for t, _, _ in per_case)
            ratio = statistics.median(r for _, r, _ in per_case)
            worst = max(w for _, _, w in per_case)
        ratios[name], native_times[name] = ratio, native
        flag = "" if worst <= TOLERANCE else "   MISMATCH"
        print(f"{name}: {ratio:.1f}x   ({len(cases)} case(s); largest difference {worst:.1e}"
              f"){flag}", flush=True)
        if flag:
            mismatches.append(name)
    if (args.cases_dir / "brain1_image.nrrd").exists():
        timed = time_voxel_maps(repeats, args.cases_dir)
        kind, worst = "cpu" if args.cpu else "wall", timed["difference"]
        ratios["voxel-maps"] = timed["pyradiomics"][kind] / timed["radiopipe"][kind]
        whole = timed["pyradiomics"][kind] / timed["radiopipe-image"][kind]
        flag = "" if worst <= TOLERANCE else "   MISMATCH"
        print(f"voxel-maps: {ratios['voxel-maps']:.1f}x   (brain1's lesion, 3 slices, radius 1;"
              f" {whole:.1f}x with maps on the whole image; largest difference {worst:.1e})"
              f"{flag}", flush=True)
        if flag:
            mismatches.append("voxel-maps")
    else:
        print(f"voxel-maps: skipped ({args.cases_dir} holds no brain1_image.nrrd)")
    print(f"worst: {min(ratios.values()):.1f}x")
    if args.pictologics is not None:
        _compare_pictologics(args.pictologics, workloads, native_times, repeats, args.cpu)
    return 1 if mismatches else 0


def _compare_pictologics(python: Path, workloads, native_times: dict[str, float], repeats: int,
                         cpu: bool) -> None:
    """Time pictologics on ``workloads`` in ``python``; print its ratios and a few values."""
    with tempfile.TemporaryDirectory(prefix="radiopipe-pictologics-") as folder:
        request = {"repeats": repeats, "bin_width": DEFAULT.bin_width, "workloads": [
            {"name": name, "image_types": _image_types(cases[0], settings),
             "cases": [_write_case(Path(folder), f"{name}-{k}", case, settings)
                       for k, case in enumerate(cases)]}
            for name, cases, settings in workloads if cases
        ]}
        answer = subprocess.run(
            [str(python), str(RUNNER)], input=json.dumps(request), capture_output=True,
            text=True, encoding="utf-8", check=False,
        )
    if answer.returncode != 0:
        raise SystemExit(f"{RUNNER.name} failed in {python}:\n{answer.stderr[-2000:]}")
    result = json.loads(answer.stdout)
    theirs = result["cpu" if cpu else "times"]
    ratios = {name: theirs[name] / native_times[name] for name in theirs}
    for name, ratio in ratios.items():
        print(f"{name}: vs-pictologics: {ratio:.1f}x   (pictologics {theirs[name]:.3f} s, "
              f"native {native_times[name]:.3f} s)")
    print("voxel-maps: vs-pictologics: not compared (pictologics has no voxel-wise maps)")
    print(f"worst-vs-pictologics: {min(ratios.values()):.1f}x   (pictologics "
          f"{result['version']})")
    for name, cases, settings in workloads:
        values = result["values"].get(name)
        if not values:
            continue
        ours = NativeBackend().extract(cases[0][1], cases[0][2], settings)
        compared = ", ".join(f"{column.split('__')[-1]} {ours[column]:.6g} / {values[key]:.6g}"
                             for column, key in COMPARED.items()
                             if key in values and column in ours)
        print(f"{name} values, radiopipe / pictologics: {compared}")


def _image_types(case: Case, settings: FeatureConfig) -> list[str]:
    """pyradiomics' names of the filtered images of ``settings`` ('original', 'log-...')."""
    _, image, mask = case
    prepared = prepare_case(Volume.from_sitk(image), Volume.from_sitk(mask), settings)
    return list(filter_images(prepared, settings))


def _write_case(folder: Path, name: str, case: Case, settings: FeatureConfig) -> dict:
    """Write a case as NRRD files; its paths and pyradiomics' bin start of each filtered image
    (``floor(min / width) * width`` over the ROI)."""
    _, image, mask = case
    paths = {"image": folder / f"{name}_image.nrrd", "mask": folder / f"{name}_label.nrrd"}
    for key, written in (("image", image), ("mask", mask)):
        # pictologics reads 3D images only: a 2D image becomes one slice.
        sitk.WriteImage(written if written.GetDimension() == 3 else sitk.JoinSeries(written),
                        str(paths[key]))
    prepared = prepare_case(Volume.from_sitk(image), Volume.from_sitk(mask), settings)
    roi = prepared.intensity_mask[prepared.region]
    width = settings.bin_width
    starts = {
        image_type: math.floor(float(filtered[roi].min()) / width) * width
        for image_type, filtered in filter_images(prepared, settings).items()
    }
    return {**{key: str(path) for key, path in paths.items()}, "bin_starts": starts}


def read_cases(folder: Path) -> list[Case]:
    """Every ``{case}_image.*`` with its ``{case}_label.*`` in ``folder`` (label 1 as the ROI)."""
    cases = []
    for image_path in sorted(folder.glob("*_image.*")):
        name = image_path.name.split("_image.")[0]
        labels = sorted(folder.glob(f"{name}_label.*"))
        if not labels:
            raise SystemExit(f"{image_path.name} has no {name}_label.* beside it in {folder}")
        mask = sitk.ReadImage(str(labels[0]))
        cases.append((name, sitk.ReadImage(str(image_path)), sitk.Cast(mask == 1, sitk.sitkUInt8)))
    if not cases:
        raise SystemExit(f"{folder} holds no {{case}}_image.* / {{case}}_label.* pairs")
    return cases


def synthetic_3d() -> Case:
    """A 128x128x64 textured volume (int16, 0.8 x 0.8 x 2 mm) with a 140k-voxel ellipsoid."""
    rng = np.random.default_rng(3)
    texture = ndimage.gaussian_filter(rng.normal(size=(64, 128, 128)), 1.5)
    image = (300 + 900 * texture).round().astype(np.int16)
    z, y, x = np.indices(image.shape) - np.array([32, 64, 64])[:, None, None, None]
    mask = ((x / 41.0) ** 2 + (y / 41.0) ** 2 + (z / 20.0) ** 2 <= 1).astype(np.uint8)
    return "ellipsoid", _image(image, (0.8, 0.8, 2.0)), _image(mask, (0.8, 0.8, 2.0))


def synthetic_2d() -> Case:
    """A 512x512 textured image (int16, 0.5 mm) with a 70k-pixel disk."""
    rng = np.random.default_rng(4)
    image = (300 + 900 * ndimage.gaussian_filter(rng.normal(size=(512, 512)), 1.5))
    y, x = np.indices(image.shape) - 256
    mask = (x**2 + y**2 <= 149**2).astype(np.uint8)
    return "disk", _image(image.round().astype(np.int16), (0.5, 0.5)), _image(mask, (0.5, 0.5))


def _image(array: np.ndarray, spacing) -> sitk.Image:
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(spacing)
    return image


def _time_case(case: Case, settings: FeatureConfig, repeats: int) -> tuple[float, float, float]:
    """(native time, pyradiomics time / native time, largest difference) of one case, warm,
    best of runs."""
    _, image, mask = case
    times, values = {}, {}
    for name, extract in (("native", NativeBackend().extract),
                          ("pyradiomics", PyradiomicsBackend().extract)):
        values[name] = extract(image, mask, settings)  # warm-up, not timed
        times[name] = _best(lambda extract=extract: extract(image, mask, settings), repeats)
    return times["native"], times["pyradiomics"] / times["native"], largest_difference(
        values["native"], values["pyradiomics"])


def _time_batch(cases: list[Case], settings: FeatureConfig,
                repeats: int) -> tuple[float, float, float]:
    """(native time, pyradiomics time / native time, largest difference) over a batch of ROIs:
    native through the batch API, pyradiomics one case after the other."""
    volumes = [(Volume.from_sitk(image), Volume.from_sitk(mask)) for _, image, mask in cases]
    reference = PyradiomicsBackend().extract
    ours = extract_many(volumes, settings)
    theirs = [reference(image, mask, settings) for _, image, mask in cases]
    native = _best(lambda: extract_many(volumes, settings), repeats)
    pyradiomics = _best(lambda: [reference(i, m, settings) for _, i, m in cases], repeats)
    worst = max(largest_difference(a, b) for a, b in zip(ours, theirs))
    return native, pyradiomics / native, worst


def _best(run: Callable[[], object], repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        start = clock()
        run()
        best = min(best, clock() - start)
    return best


if __name__ == "__main__":
    sys.exit(main())
