"""Time pictologics on workloads described in JSON; run by ``workloads.py --pictologics PYTHON``.

Runs in an interpreter that has pictologics (Python >= 3.12; it is never a radiopipe
dependency), so it imports nothing from radiopipe. Reads one JSON object on stdin::

    {"repeats": 3, "bin_width": 25, "workloads": [
        {"name": "large-roi", "image_types": ["original", "log-sigma-1-0-mm-3D", ...],
         "cases": [{"image": "a_image.nrrd", "mask": "a_label.nrrd",
                    "bin_starts": {"original": -250.0, ...}}, ...]}, ...]}

and writes one JSON object on stdout: ``{"times": {name: seconds}, "cpu": {name: seconds},
"values": {name: {feature: value}}}``. Each workload's time is the best of ``repeats`` runs of
all its cases one after the other (warm: one untimed run first, the numba compilation of
pictologics' import already done); the images are loaded before timing. ``values`` holds a few
features of the first case's original image (see ``VALUE_FEATURES``).

The settings follow pyradiomics' defaults as far as pictologics has them: fixed bin size 25 from
the bin start pyradiomics uses (``floor(min / width) * width`` of each filtered image over the
ROI, given by the caller), intensity and texture families (GLCM, GLRLM, GLSZM, NGTDM, NGLDM) on
every image type, morphology on the original image only, LoG of the same sigmas and the eight
coif1 wavelet decompositions of level 1. pictologics computes IBSI's definitions (3D merged
texture matrices, its full morphology set), not pyradiomics'; the times compare the work each
does for the same request.
"""

from __future__ import annotations

import json
import sys
import time

import pictologics
from pictologics import RadiomicsPipeline, load_image

TEXTURE = ["glcm", "glrlm", "glszm", "ngtdm", "ngldm"]
VALUE_FEATURES = ("volume_RNU0", "mean_intensity_Q4LE", "joint_average_60VM",
                  "contrast_ACUI", "small_zone_emphasis_P001")


def main() -> int:
    """Read the request on stdin, time every workload, print the JSON answer."""
    request = json.load(sys.stdin)
    times, cpu, values = {}, {}, {}
    for workload in request["workloads"]:
        cases = [(load_image(c["image"]), load_image(c["mask"]), c["bin_starts"])
                 for c in workload["cases"]]
        pipelines = [_pipeline(workload["image_types"], starts, request["bin_width"])
                     for _, _, starts in cases]
        first = _run(pipelines, cases)  # warm-up, not timed
        values[workload["name"]] = _values(first)
        best_wall = best_cpu = float("inf")
        for _ in range(request["repeats"]):
            wall, processor = time.perf_counter(), time.process_time()
            _run(pipelines, cases)
            best_wall = min(best_wall, time.perf_counter() - wall)
            best_cpu = min(best_cpu, time.process_time() - processor)
        times[workload["name"]], cpu[workload["name"]] = best_wall, best_cpu
    json.dump({"times": times, "cpu": cpu, "values": values,
               "version": pictologics.__version__}, sys.stdout)
    return 0


def _pipeline(image_types: list[str], starts: dict[str, float], bin_width: float):
    """One configuration per image type, as pyradiomics' extractor computes them."""
    pipeline = RadiomicsPipeline(load_standard=False)
    for image_type in image_types:
        families = ["intensity", *TEXTURE] + (["morphology"] if image_type == "original" else [])
        steps = [*_filter_steps(image_type), {
            "step": "discretise",
            "params": {"method": "FBS", "bin_width": bin_width, "min_val": starts[image_type]},
        }, {
            "step": "extract_features",
            "params": {"families": families, "include_spatial_intensity": False,
                       "include_local_intensity": False},
        }]
        pipeline.add_config(image_type, steps)
    return pipeline


def _filter_steps(image_type: str) -> list[dict]:
    """pictologics' filter step of a pyradiomics image name ('log-sigma-2-0-mm-3D', ...)."""
    if image_type == "original":
        return []
    if image_type.startswith("log-sigma-"):
        sigma = image_type.removeprefix("log-sigma-").removesuffix("-mm-3D").replace("-", ".")
        return [{"step": "filter", "params": {"type": "log", "sigma_mm": float(sigma)}}]
    if image_type.startswith("wavelet-"):
        # pyradiomics names the decompositions along (x, y, z); pictologics along its array
        # axes, also (x, y, z).
        return [{"step": "filter", "params": {
            "type": "wavelet", "wavelet": "coif1", "level": 1,
            "decomposition": image_type.removeprefix("wavelet-")}}]
    raise SystemExit(f"pictologics_runner: no pictologics filter for image type {image_type!r}")


def _run(pipelines, cases) -> dict:
    """Run every case; the first case's results (by configuration name)."""
    results = [pipeline.run(image, mask) for pipeline, (image, mask, _) in zip(pipelines, cases)]
    return results[0]


def _values(results) -> dict[str, float]:
    original = results.get("original")
    if original is None:
        return {}
    return {name: float(original[name]) for name in VALUE_FEATURES if name in original.index}


if __name__ == "__main__":
    sys.exit(main())
