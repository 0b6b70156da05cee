"""Extraction throughput on a Dask LocalCluster of 1 and of 2 worker processes, same cases.

Both runs extract the same cases of the built-in MNI152 tissue cohort (original, LoG and wavelet
images: 1,130 features per case) through the public API, exactly as a config with
``compute: {engine: dask, address: ...}`` runs them: one task per case, each writing its own
result file. The cluster (single-threaded workers) is started and warmed first (every worker
imports the engine and compiles its kernels on one case), so the timings hold extraction alone.
Each run writes into a fresh folder, so no case is reused. The last line gives the ratio::

    workers-1: N cases in S s = X cases/min
    workers-2: N cases in S s = X cases/min
    scaling-2-workers: R.Rx

Two workers cannot do better than 2x, and do less on a machine with two cores that also runs the
scheduler and this client. Run from the repository root (needs the ``dask`` extra; about a
minute)::

    python benchmarks/scale.py [--cases-per-class 100]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import radiopipe as rp
from radiopipe.config import ComputeConfig
from radiopipe.extraction import compute_features
from radiopipe.scaleout import dask_cluster

FEATURES = {"bin_width": 5, "image_types": ["original", "log", "wavelet"]}


def cases_per_minute(n_workers: int, data: dict, folder: Path) -> tuple[int, float]:
    """Extract the cohort on a warmed LocalCluster of ``n_workers``; (cases, seconds)."""
    with dask_cluster(ComputeConfig(engine="dask", n_workers=n_workers)) as cluster:
        config = rp.make_config(
            f"workers-{n_workers}", data=data, features=FEATURES, output_dir=folder / "run",
            compute={"engine": "dask", "address": cluster.address},
        )
        first = rp.cohort(config).cases[0]
        cluster.client.run(compute_features, first, config.config.features, config.config.data)
        start = time.perf_counter()
        extraction = rp.extract(config, progress=False)
        seconds = time.perf_counter() - start
    if extraction.failed_cases:
        raise SystemExit(f"{len(extraction.failed_cases)} case(s) failed: {extraction.failures}")
    return len(extraction.table), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases-per-class", type=int, default=100)
    args = parser.parse_args()
    options = {"cases_per_class": args.cases_per_class}
    data = {"builtin": "mni152_tissue", "builtin_options": options}
    rates = {}
    with tempfile.TemporaryDirectory(prefix="radiopipe-scale-") as tmp:
        for n_workers in (1, 2):
            n_cases, seconds = cases_per_minute(n_workers, data, Path(tmp) / str(n_workers))
            rates[n_workers] = 60.0 * n_cases / seconds
            print(f"workers-{n_workers}: {n_cases} cases in {seconds:.1f} s = "
                  f"{rates[n_workers]:.0f} cases/min", flush=True)
    print(f"scaling-2-workers: {rates[2] / rates[1]:.1f}x")


if __name__ == "__main__":
    main()
