"""CPU speed and peak memory of radiopipe's native feature engine against pyradiomics.

Usage, from the repository root (needs the ``reference`` extra; a few minutes)::

    python benchmarks/extract_vs_pyradiomics.py CASES_DIR [--repeats 5] [--small-cases 200]

``CASES_DIR`` holds pyradiomics' example cases as ``{case}_image.nrrd`` and ``{case}_label.nrrd``
(brain1, breast1, lung1; e.g. ``../shared/data/pyradiomics_cases``). Scenarios, each run by both
backends (`NativeBackend`, `PyradiomicsBackend`) on the same SimpleITK image and mask with the same
settings (`FeatureConfig()`: pyradiomics' defaults, its seven families, bin width 25):

default
    the original image only;
filters
    original + LoG (sigma 1, 2, 3 mm) + wavelet (coif1, 8 sub-bands), each filter over the whole
    image as pyradiomics filters it;
small-rois (``--small-cases 0`` skips it)
    a batch of small ROIs: patches of the built-in MNI152 tissue dataset (radius-3 spheres of 123
    voxels), original image only, each timed once, reported as the ratio of summed times.

Timing runs both backends in this one process. The native engine also outputs the IBSI-only
columns it computes alongside pyradiomics' (e.g. the shape densities of enclosing bodies, Moran's
I); their time is included. The largest difference over the features both output (relative;
absolute near zero) is printed as a check. Timings are warm: the first native extraction of a
tiny synthetic case is timed apart (numba compiling its kernels, or loading them from its on-disk
cache); then each scenario runs once per backend untimed, and the best of ``--repeats`` runs per
case is kept (the machine may be shared: the minimum is the least disturbed run).

Peak memory is measured apart, one fresh process per backend, scenario and case (in one process,
memory the allocator kept from an earlier extraction would hide the next one's): the process
warms up on the tiny case, reads the case, resets the kernel's high-water mark of its resident set
(``/proc/self/clear_refs``, Linux) and reports how far the mark rose above the resident set during
one extraction.

The last lines are the memory summary and the two medians over cases of pyradiomics time /
native time (> 1 means native is faster)::

    peak-memory: native N MiB, pyradiomics N MiB (largest over cases and scenarios)
    default: R.Rx
    filters: R.Rx
"""

from __future__ import annotations

import argparse
import csv
import logging
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from radiopipe.backends.native import NativeBackend
from radiopipe.backends.pyradiomics import PyradiomicsBackend
from radiopipe.config import FeatureConfig
from radiopipe.datasets import mni152_tissue

CASES = ("brain1", "breast1", "lung1")
SCENARIOS = {
    "default": FeatureConfig(),
    "filters": FeatureConfig(image_types=["original", "log", "wavelet"]),
}
BACKENDS = {"native": NativeBackend, "pyradiomics": PyradiomicsBackend}

Case = tuple[str, sitk.Image, sitk.Image]
Extract = Callable[[sitk.Image, sitk.Image, FeatureConfig], dict[str, float]]


def main() -> None:
    """Parse the arguments, run every scenario and print the summary lines."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases_dir", type=Path, help="folder of {case}_image/_label.nrrd files")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per case (best kept)")
    parser.add_argument("--small-cases", type=int, default=200,
                        help="MNI152 patches timed (0 skips the scenario)")
    args = parser.parse_args()
    logging.getLogger("radiopipe").setLevel(logging.ERROR)

    backends = {name: backend().extract for name, backend in BACKENDS.items()}
    cases = [_read_case(args.cases_dir, name) for name in CASES]
    first_use = _numba_first_use()
    print(f"numba first use (compilation, or loading its on-disk cache): {first_use:.2f} s")
    medians = {}
    for scenario, settings in SCENARIOS.items():
        print(f"\n== {scenario}: {', '.join(settings.image_types)} ({len(cases)} cases)")
        ratios = _compare(backends, cases, settings, args.repeats)
        medians[scenario] = statistics.median(ratios)
    if args.small_cases > 0:
        small = small_cases(args.small_cases)
        print(f"\n== small-rois: {len(small)} MNI152 patches, original")
        _compare_batch(backends, small, SCENARIOS["default"])
    peaks = _peak_memory_table(args.cases_dir)
    print()
    print(f"peak-memory: native {peaks['native']:.0f} MiB, pyradiomics "
          f"{peaks['pyradiomics']:.0f} MiB (largest over cases and scenarios)")
    for scenario, median in medians.items():
        print(f"{scenario}: {median:.1f}x")


def _read_case(folder: Path, name: str) -> Case:
    image_path, mask_path = folder / f"{name}_image.nrrd", folder / f"{name}_label.nrrd"
    for path in (image_path, mask_path):
        if not path.is_file():
            raise SystemExit(f"{path} not found: CASES_DIR must hold pyradiomics' example cases "
                             f"({', '.join(CASES)}) as {{case}}_image.nrrd and {{case}}_label.nrrd")
    mask = sitk.ReadImage(str(mask_path))
    return name, sitk.ReadImage(str(image_path)), sitk.Cast(mask == 1, sitk.sitkUInt8)


def _numba_first_use() -> float:
    """Seconds of the first native extraction, on a tiny synthetic case: the compiled kernels."""
    image, mask = _tiny_case()
    start = time.perf_counter()
    NativeBackend().extract(image, mask, SCENARIOS["filters"])
    return time.perf_counter() - start


def _tiny_case() -> tuple[sitk.Image, sitk.Image]:
    rng = np.random.default_rng(0)
    image = sitk.GetImageFromArray(rng.integers(0, 200, (8, 9, 10)).astype(np.int16))
    grid = np.indices((8, 9, 10)) - np.array([4, 4, 5])[:, None, None, None]
    mask = sitk.GetImageFromArray(((grid**2).sum(axis=0) <= 9).astype(np.uint8))
    return image, mask


def small_cases(count: int) -> list[Case]:
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


def _compare(backends: dict[str, Extract], cases: list[Case], settings, repeats) -> list[float]:
    """Warm up, time both backends on every case and print one line per case; return the
    per-case ratios (pyradiomics / native)."""
    _warm_up(backends, cases, settings)
    ratios = []
    for name, image, mask in cases:
        times, values = {}, {}
        for backend, extract in backends.items():
            times[backend], values[backend] = _best_time(extract, image, mask, settings, repeats)
        ratios.append(times["pyradiomics"] / times["native"])
        worst = largest_difference(values["native"], values["pyradiomics"])
        print(f"  {name:<10} native {times['native']:8.3f} s   pyradiomics "
              f"{times['pyradiomics']:8.3f} s   {ratios[-1]:6.1f}x   (largest difference of a "
              f"shared feature: {worst:.1e})")
    print(f"  median ratio {statistics.median(ratios):.1f}x")
    return ratios


def _compare_batch(backends: dict[str, Extract], cases: list[Case], settings) -> None:
    """Time both backends once over every case of a batch and print the summed times."""
    _warm_up(backends, cases[:1], settings)
    totals = _seconds_over(backends, cases, settings)
    print(f"  total      native {totals['native']:8.3f} s   pyradiomics "
          f"{totals['pyradiomics']:8.3f} s   {totals['pyradiomics'] / totals['native']:6.1f}x")


def _warm_up(backends: dict[str, Extract], cases: list[Case], settings) -> None:
    seconds = _seconds_over(backends, cases, settings)
    print(f"  warm-up, not timed: native {seconds['native']:.3f} s, "
          f"pyradiomics {seconds['pyradiomics']:.3f} s")


def _seconds_over(backends: dict[str, Extract], cases: list[Case], settings) -> dict[str, float]:
    """Seconds each backend takes to extract every case once."""
    seconds = {}
    for backend, extract in backends.items():
        start = time.perf_counter()
        for _, image, mask in cases:
            extract(image, mask, settings)
        seconds[backend] = time.perf_counter() - start
    return seconds


def _best_time(extract: Extract, image, mask, settings, repeats: int):
    best, values = np.inf, {}
    for _ in range(repeats):
        start = time.perf_counter()
        values = extract(image, mask, settings)
        best = min(best, time.perf_counter() - start)
    return best, values


def largest_difference(native: dict[str, float], reference: dict[str, float]) -> float:
    """Largest ``|a - b| / max(|b|, 1e-3)`` over the features both backends output: relative,
    absolute near zero (where round-off such as an entropy of -3e-16 against -0.0 lives)."""
    shared = sorted(set(native) & set(reference))
    a = np.array([native[k] for k in shared])
    b = np.array([reference[k] for k in shared])
    both_nan = np.isnan(a) & np.isnan(b)
    difference = np.abs(a - b)[~both_nan] / np.maximum(np.abs(b[~both_nan]), 1e-3)
    return float(difference.max(initial=0.0))


def _peak_memory_table(cases_dir: Path) -> dict[str, float]:
    """Measure and print every backend's peak extraction memory per scenario and case, each in a
    fresh process; return each backend's largest peak in MiB."""
    print("\n== peak memory above the resting resident set, MiB (one fresh process each)")
    largest = dict.fromkeys(BACKENDS, 0.0)
    for scenario in SCENARIOS:
        for case in CASES:
            peaks = {}
            for backend in BACKENDS:
                with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                    peaks[backend] = pool.submit(
                        _peak_memory_of_one, backend, scenario, cases_dir, case).result()
                largest[backend] = max(largest[backend], peaks[backend])
            print(f"  {scenario:<8} {case:<10} native {peaks['native']:7.0f}   "
                  f"pyradiomics {peaks['pyradiomics']:7.0f}")
    return largest


def _peak_memory_of_one(backend: str, scenario: str, cases_dir: Path, case: str) -> float:
    """In a fresh process: MiB the resident set's high-water mark rose during one extraction."""
    logging.getLogger("radiopipe").setLevel(logging.ERROR)
    extract, settings = BACKENDS[backend]().extract, SCENARIOS[scenario]
    extract(*_tiny_case(), settings)
    _, image, mask = _read_case(cases_dir, case)
    with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
        handle.write("5")  # reset the high-water mark (VmHWM) to the current resident set
    resting = _proc_status_kib("VmRSS")
    extract(image, mask, settings)
    return (_proc_status_kib("VmHWM") - resting) / 1024


def _proc_status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field} line")


if __name__ == "__main__":
    main()
