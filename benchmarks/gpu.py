"""Side-by-side timing of the feature stage: CuPy (GPU), native (CPU) and pyradiomics.

Run from the repository root on a machine with an NVIDIA GPU::

    python benchmarks/gpu.py [--data ../shared/data] [--patches 2000]

It prints, per case, the seconds each engine takes for brain1, breast1 and lung1 (pyradiomics'
default settings: original image, bin width 25, first order, shape and the five texture
families) and for a batch of synthetic 2D 256 x 256 patches with random blob masks (brain1's MR
slices, randomly flipped and transposed; first order and the five texture families, 32 grey
levels by fixed bin number: shape, a host computation in every engine, is left out). The GPU
extracts the whole batch in one call; native and pyradiomics run case by case on a subset, and
their per-case time is extrapolated to the batch. Every engine reads the same arrays already in
memory; the GPU is warmed up (kernels compiled) before timing. The last two lines are the batch
speed-ups.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from radiopipe.config import FeatureConfig
from radiopipe.features.engine import extract_features as native_extract
from radiopipe.io import Volume

CASES = ("brain1", "breast1", "lung1")
CASE_SETTINGS = FeatureConfig()
BATCH_SETTINGS = FeatureConfig(
    families=["firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"],
    discretisation="fixed_bin_number",
    bin_count=32,
)
PATCH = 256


def main() -> None:
    arguments = _arguments()
    import cupy

    from radiopipe import gpu
    from radiopipe.gpu.extract import extract_batch

    gpu.require()
    device = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"].decode()
    print(f"device: {device}; CuPy {cupy.__version__}")
    cases = {name: _case(arguments.data / "pyradiomics_cases", name) for name in CASES}
    extract_batch([cases["breast1"]], CASE_SETTINGS)  # compile the kernels before timing
    for name, (image, _) in cases.items():
        print(f"{name}: image {image.array.shape} (z, y, x)")
    print(f"\n{'case':<10}{'cupy s':>10}{'native s':>10}{'pyrad. s':>10}{'vs native':>11}"
          f"{'vs pyrad.':>11}")
    for name, (image, mask) in cases.items():
        gpu_seconds = _seconds(lambda: extract_batch([(image, mask)], CASE_SETTINGS), cupy)
        cpu_seconds = _seconds(lambda: native_extract(image, mask, CASE_SETTINGS))
        pyradiomics_seconds = _seconds(lambda: _pyradiomics(image, mask, CASE_SETTINGS))
        _row(name, gpu_seconds, cpu_seconds, pyradiomics_seconds)

    patches = _patches(cases["brain1"][0], arguments.patches, np.random.default_rng(0))
    # Warm-up on the whole batch: kernels compiled, CuPy's memory pool filled, as for every
    # batch after the first of a long run.
    batch_values = extract_batch(patches, BATCH_SETTINGS)
    gpu_per_case = _seconds(lambda: extract_batch(patches, BATCH_SETTINGS), cupy) / len(patches)
    subset = patches[: arguments.cpu_subset]
    start = time.perf_counter()
    native_values = [native_extract(image, mask, BATCH_SETTINGS) for image, mask in subset]
    cpu_per_case = (time.perf_counter() - start) / len(subset)
    few = patches[: arguments.pyradiomics_subset]
    start = time.perf_counter()
    for image, mask in few:
        _pyradiomics(image, mask, BATCH_SETTINGS)
    pyradiomics_per_case = (time.perf_counter() - start) / len(few)
    print(f"\nbatch of {len(patches)} 2D {PATCH}x{PATCH} patches, seconds per case (cupy: the "
          f"whole batch in one call; native timed on {len(subset)} patches, pyradiomics on "
          f"{len(few)}, extrapolated per case)")
    _row("patch", gpu_per_case, cpu_per_case, pyradiomics_per_case)
    print(f"largest relative difference cupy vs native on those {len(subset)} patches: "
          f"{_largest_difference(batch_values, native_values):.1e}")
    _stage_breakdown(patches, BATCH_SETTINGS, cupy)
    print(f"batch-vs-pyradiomics: {pyradiomics_per_case / gpu_per_case:.1f}x")
    print(f"batch-vs-cpu: {cpu_per_case / gpu_per_case:.1f}x")


def _stage_breakdown(patches, settings: FeatureConfig, cupy) -> None:
    """Seconds per stage of one GPU batch (the steps of ``extract_batch``, timed one by one)."""
    from radiopipe.gpu.extract import prepare_cases
    from radiopipe.gpu.families import BATCHED
    from radiopipe.gpu.packing import pack
    from radiopipe.xp import to_numpy

    def timed(label, run):
        start = time.perf_counter()
        result = run()
        cupy.cuda.Device().synchronize()
        print(f"  {label:<28}{time.perf_counter() - start:>8.3f} s")
        return result

    print(f"stages of the GPU batch of {len(patches)}:")
    _, rois = timed("host preparation (threads)", lambda: prepare_cases(patches, settings, cupy))
    batch = timed("pack and copy to the device", lambda: pack([r.item for r in rois], pad=1,
                                                                xp=cupy))
    blocks = [
        timed(name, lambda: BATCHED[name](batch, settings))
        for name in settings.families if name in BATCHED
    ]
    timed("copy back", lambda: to_numpy(cupy.concatenate(blocks, axis=1)))


def _arguments() -> argparse.Namespace:
    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=root.parent / "shared" / "data")
    parser.add_argument("--patches", type=int, default=2000)
    parser.add_argument("--cpu-subset", type=int, default=200)
    parser.add_argument("--pyradiomics-subset", type=int, default=50)
    return parser.parse_args()


def _case(folder: Path, name: str) -> tuple[Volume, Volume]:
    image = Volume.from_sitk(sitk.ReadImage(str(folder / f"{name}_image.nrrd")))
    label = Volume.from_sitk(sitk.ReadImage(str(folder / f"{name}_label.nrrd")))
    mask = (label.array == 1).astype(np.uint8)
    return image, Volume(mask, label.spacing, label.origin, label.direction)


def _seconds(run, cupy=None, repeats: int = 3) -> float:
    """Median wall time of ``repeats`` runs (the device synchronised after each)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        if cupy is not None:
            cupy.cuda.Device().synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _row(name: str, gpu_seconds: float, cpu_seconds: float, pyradiomics_seconds: float) -> None:
    print(f"{name:<10}{gpu_seconds:>10.4f}{cpu_seconds:>10.4f}{pyradiomics_seconds:>10.4f}"
          f"{cpu_seconds / gpu_seconds:>10.1f}x{pyradiomics_seconds / gpu_seconds:>10.1f}x")


def _patches(mr: Volume, count: int, rng: np.random.Generator) -> list[tuple[Volume, Volume]]:
    """``count`` 256 x 256 slices of the MR volume, flipped at random, with random blob masks."""
    geometry = ((0.0, 0.0), (1.0, 0.0, 0.0, 1.0))
    spacing = tuple(float(s) for s in mr.spacing[1:])
    yy, xx = np.mgrid[:PATCH, :PATCH]
    patches = []
    for _ in range(count):
        image = mr.array[rng.integers(mr.array.shape[0]), :PATCH, :PATCH].astype(np.float64)
        image = image[:: rng.choice([-1, 1]), :: rng.choice([-1, 1])]
        image = np.ascontiguousarray(image.T if rng.random() < 0.5 else image)
        centre = rng.uniform(80, PATCH - 80, 2)
        radius = rng.uniform(25, 75)
        disc = (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 < radius**2
        texture = ndimage.zoom(rng.normal(size=(16, 16)), PATCH / 16, order=1) > -0.3
        labels, _ = ndimage.label(disc & texture)
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        mask = (labels == np.argmax(sizes)).astype(np.uint8)
        patches.append((Volume(image, spacing, *geometry), Volume(mask, spacing, *geometry)))
    return patches


def _pyradiomics(image: Volume, mask: Volume, settings: FeatureConfig) -> dict:
    import radiomics
    from radiomics import featureextractor

    radiomics.setVerbosity(logging.ERROR)
    if settings.discretisation == "fixed_bin_number":
        extractor = featureextractor.RadiomicsFeatureExtractor(binCount=settings.bin_count)
    else:
        extractor = featureextractor.RadiomicsFeatureExtractor(binWidth=settings.bin_width)
    extractor.disableAllFeatures()
    for family in settings.families:
        extractor.enableFeatureClassByName(family)
    return extractor.execute(_as_sitk(image), _as_sitk(mask), label=1)


def _as_sitk(volume: Volume) -> sitk.Image:
    array = volume.array if volume.array.ndim == 3 else volume.array[None]
    image = sitk.GetImageFromArray(array)
    spacing = volume.spacing if len(volume.spacing) == 3 else (1.0, *volume.spacing)
    image.SetSpacing(tuple(float(s) for s in reversed(spacing)))
    return image


def _largest_difference(ours: list[dict], native: list[dict]) -> float:
    largest = 0.0
    for mine, theirs in zip(ours, native):
        for key, expected in theirs.items():
            value = mine[key]
            if np.isnan(expected) and np.isnan(value):
                continue
            largest = max(largest, abs(value - expected) / max(abs(expected), 1e-9))
    return largest


if __name__ == "__main__":
    main()
