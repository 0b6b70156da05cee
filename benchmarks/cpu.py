"""CPU speed of radiopipe's native feature engine against pyradiomics, side by side in one run.

Scenarios, each run by both backends (`NativeBackend`, `PyradiomicsBackend`) on the same SimpleITK
image and mask with the same settings (`FeatureConfig()`: pyradiomics' defaults, its seven
families, bin width 25):

original
    brain1, breast1, lung1 (pyradiomics' example cases), original image only;
filters
    the same cases, original + LoG (sigma 1, 2, 3 mm) + wavelet (coif1, 8 sub-bands), each
    filter over the whole image as pyradiomics filters it;
small-rois
    a batch of small ROIs: patches of the built-in MNI152 tissue dataset (radius-3 spheres of 123
    voxels), original image only, each timed once.

The native engine also outputs the IBSI-only columns it computes alongside pyradiomics' (e.g.
the shape densities of enclosing bodies, Moran's I); their time is included. The largest
difference over the features both output (relative; absolute near zero) is printed as a check.

Timings are warm. The first native extraction of a tiny synthetic case is timed apart (numba
compiling its kernels, or loading them from its on-disk cache); then each scenario runs once per
backend untimed (remaining compilation for other dtypes, imports, file caches), and the best of
``--repeats`` runs per case is kept (the machine may be shared: the minimum is the least
disturbed run). Each line shows both times and their ratio (pyradiomics / native: > 1 means
native is faster); the last three lines give the ratio of the summed times per scenario::

    cpu-original-vs-pyradiomics: R.Rx
    cpu-filters-vs-pyradiomics: R.Rx
    cpu-small-rois-vs-pyradiomics: R.Rx

Run from the repository root (needs the ``reference`` extra and the shared reference data;
about two minutes)::

    python benchmarks/cpu.py [--repeats 3] [--small-cases 200] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from radiopipe.backends.native import NativeBackend
from radiopipe.backends.pyradiomics import PyradiomicsBackend
from radiopipe.config import FeatureConfig
from radiopipe.datasets import mni152_tissue

CASES = ("brain1", "breast1", "lung1")
SCENARIOS = {
    "original": FeatureConfig(),
    "filters": FeatureConfig(image_types=["original", "log", "wavelet"]),
}
DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

Case = tuple[str, sitk.Image, sitk.Image]
Extract = Callable[[sitk.Image, sitk.Image, FeatureConfig], dict[str, float]]


def main() -> None:
    """Parse the arguments, run every scenario and print the summary lines."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per case (best kept)")
    parser.add_argument("--small-cases", type=int, default=200, help="MNI152 patches timed")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared reference data")
    args = parser.parse_args()
    logging.getLogger("radiopipe").setLevel(logging.ERROR)

    backends = {"native": NativeBackend().extract, "pyradiomics": PyradiomicsBackend().extract}
    cases = [_read_case(args.data / "pyradiomics_cases", name) for name in CASES]
    first_use = _numba_first_use()
    print(f"numba first use (compilation, or loading its on-disk cache): {first_use:.2f} s")
    ratios = {}
    for scenario, settings in SCENARIOS.items():
        print(f"\n== {scenario}: {', '.join(settings.image_types)} ({len(cases)} cases)")
        ratios[scenario] = _compare(backends, cases, settings, args.repeats, per_case=True)
    small = _small_cases(args.small_cases)
    print(f"\n== small-rois: {len(small)} MNI152 patches, original")
    ratios["small-rois"] = _compare(backends, small, FeatureConfig(), 1, per_case=False)
    print()
    for scenario, ratio in ratios.items():
        print(f"cpu-{scenario}-vs-pyradiomics: {ratio:.1f}x")


def _read_case(folder: Path, name: str) -> Case:
    image = sitk.ReadImage(str(folder / f"{name}_image.nrrd"))
    mask = sitk.ReadImage(str(folder / f"{name}_label.nrrd"))
    return name, image, sitk.Cast(mask == 1, sitk.sitkUInt8)


def _numba_first_use() -> float:
    """Seconds of the first native extraction, on a tiny synthetic case: the compiled kernels."""
    rng = np.random.default_rng(0)
    image = sitk.GetImageFromArray(rng.integers(0, 200, (8, 9, 10)).astype(np.int16))
    grid = np.indices((8, 9, 10)) - np.array([4, 4, 5])[:, None, None, None]
    mask = sitk.GetImageFromArray(((grid**2).sum(axis=0) <= 9).astype(np.uint8))
    start = time.perf_counter()
    NativeBackend().extract(image, mask, SCENARIOS["filters"])
    return time.perf_counter() - start


def _small_cases(count: int) -> list[Case]:
    """The first ``count`` patches of the MNI152 tissue dataset (built into its cache once)."""
    manifest = mni152_tissue(cases_per_class=-(-count // 3))
    with open(manifest, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:count]
    folder = manifest.parent
    return [
        (row["case_id"], sitk.ReadImage(str(folder / row["image"])),
         sitk.ReadImage(str(folder / row["mask"])))
        for row in rows
    ]


def _compare(backends: dict[str, Extract], cases: list[Case], settings, repeats, *, per_case):
    """Warm up, time both backends on every case, print the table; return the total ratio."""
    warm_up = {}
    for backend, extract in backends.items():
        start = time.perf_counter()
        for _, image, mask in cases if per_case else cases[:1]:
            extract(image, mask, settings)
        warm_up[backend] = time.perf_counter() - start
    print(f"  warm-up, not timed: native {warm_up['native']:.3f} s, "
          f"pyradiomics {warm_up['pyradiomics']:.3f} s")
    totals = dict.fromkeys(backends, 0.0)
    worst = 0.0
    for name, image, mask in cases:
        times, values = {}, {}
        for backend, extract in backends.items():
            times[backend], values[backend] = _best_time(extract, image, mask, settings, repeats)
            totals[backend] += times[backend]
        worst = max(worst, _largest_difference(values["native"], values["pyradiomics"]))
        if per_case:
            print(f"  {name:<10} native {times['native']:8.3f} s   pyradiomics "
                  f"{times['pyradiomics']:8.3f} s   {times['pyradiomics'] / times['native']:6.1f}x")
    ratio = totals["pyradiomics"] / totals["native"]
    print(f"  {'total':<10} native {totals['native']:8.3f} s   pyradiomics "
          f"{totals['pyradiomics']:8.3f} s   {ratio:6.1f}x   (largest difference of a shared "
          f"feature: {worst:.1e})")
    return ratio


def _best_time(extract: Extract, image, mask, settings, repeats: int):
    best, values = np.inf, {}
    for _ in range(repeats):
        start = time.perf_counter()
        values = extract(image, mask, settings)
        best = min(best, time.perf_counter() - start)
    return best, values


def _largest_difference(native: dict[str, float], reference: dict[str, float]) -> float:
    """Largest ``|a - b| / max(|b|, 1e-3)`` over the features both backends output: relative,
    absolute near zero (where round-off such as an entropy of -3e-16 against -0.0 lives)."""
    shared = sorted(set(native) & set(reference))
    a = np.array([native[k] for k in shared])
    b = np.array([reference[k] for k in shared])
    both_nan = np.isnan(a) & np.isnan(b)
    difference = np.abs(a - b)[~both_nan] / np.maximum(np.abs(b[~both_nan]), 1e-3)
    return float(difference.max(initial=0.0))


if __name__ == "__main__":
    main()
