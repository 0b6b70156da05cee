"""Extraction time of a multimodal study, whole cohort, and against pyradiomics on a subset.

Usage, from the repository root (needs the ``reference`` extra and ``../shared/data/sts``)::

    python benchmarks/study_extraction.py [--config configs/sts_lung_metastasis.yaml]
        [--subset 10] [--n-jobs 2]

Two measurements of the config's feature settings (each modality's own resampling,
discretisation and LoG sigmas):

cohort
    ``radiopipe extract`` of every case into a fresh run folder with ``--n-jobs`` processes:
    the wall time a user waits, reading the images included (cold: nothing reused).
subset
    the first ``--subset`` cases, in this one process: each case's images are read once, then
    their features are computed by the native engine and by pyradiomics (the ``pyradiomics``
    backend: pyradiomics' own extractor with the same settings), each timed warm (the native
    engine's kernels compiled on the first case beforehand). The largest relative difference
    over the features both output is printed as a check, with where it occurs.

The last lines::

    cohort: N images in S s wall (n_jobs J)
    subset: N images, native S s, pyradiomics S s, pyradiomics / native R.Rx
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

import radiopipe as rp
from radiopipe.config import load_config, parse_config
from radiopipe.extraction import compute_images, read_images
from radiopipe.study import cohort_manifest

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "configs" / "sts_lung_metastasis.yaml"))
    parser.add_argument("--subset", type=int, default=10, help="cases timed against pyradiomics")
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import radiomics  # noqa: F401  (its import sets its logger's level; quieted after it)

    logging.getLogger("radiomics").setLevel(logging.ERROR)
    loaded = load_config(args.config)
    manifest = cohort_manifest(loaded)
    n_images = sum(len(case.images) for case in manifest.cases)

    raw = yaml.safe_load(Path(args.config).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as scratch:
        raw.update(output_dir=scratch, compute={"n_jobs": args.n_jobs})
        cold = parse_config(raw, base_dir=Path(args.config).resolve().parent,
                            source=Path(args.config).name)
        start = time.perf_counter()
        extraction = rp.extract(cold, progress=False)
        wall = time.perf_counter() - start
    print(f"cohort: {n_images} images of {len(manifest.cases)} cases in {wall:.1f} s wall "
          f"(n_jobs {args.n_jobs}; {len(extraction.failures)} failed)")

    native = loaded.config.features
    reference = native.model_copy(update={"backend": "pyradiomics"})
    data = loaded.config.data
    cases = manifest.cases[: args.subset]
    compute_images(read_images(cases[0], native, data), native)  # compile the kernels
    times = {"native": 0.0, "pyradiomics": 0.0}
    worst, worst_at, n_subset = 0.0, "", 0
    for case in cases:
        images = read_images(case, native, data)
        n_subset += len(images)
        values = {}
        for name, settings in (("native", native), ("pyradiomics", reference)):
            start = time.perf_counter()
            values[name] = compute_images(images, settings)
            times[name] += time.perf_counter() - start
        common = sorted(set(values["native"]) & set(values["pyradiomics"]))
        a = np.array([values["native"][c] for c in common], dtype=np.float64)
        b = np.array([values["pyradiomics"][c] for c in common], dtype=np.float64)
        difference = np.abs(a - b) / np.maximum(np.abs(b), 1e-12)
        difference[np.abs(a - b) <= 1e-9] = 0.0
        if len(common) and float(np.nanmax(difference)) > worst:
            worst = float(np.nanmax(difference))
            worst_at = f"{case.case_id} {common[int(np.nanargmax(difference))]}"
        print(f"{case.case_id}: native {times['native']:.2f} s, pyradiomics "
              f"{times['pyradiomics']:.2f} s (cumulative), {len(common)} features compared")
    print(f"largest relative difference over the features both output: {worst:.2e} "
          f"({worst_at or 'none'})")
    print(f"subset: {n_subset} images, native {times['native']:.1f} s, pyradiomics "
          f"{times['pyradiomics']:.1f} s, pyradiomics / native "
          f"{times['pyradiomics'] / times['native']:.1f}x")


if __name__ == "__main__":
    main()
