"""Feature robustness on the five real soft-tissue-sarcoma patients (CT, PET and MR of each).

Usage, from the repository root (a few minutes on 2 cores)::

    python benchmarks/robustness_sts.py [--out DIR] [--n-jobs 2]

Runs ``configs/sts_multimodal.yaml`` (each patient's DICOM series and RTSTRUCT contour, each
modality with its own settings; see ``../shared/data/sts/README.md``) through the robustness run
with noise (one repetition at each image's estimated noise level), in-plane rotation by -10 and
+10 degrees and volume adaptation by -10 % and +10 %: five versions of every patient, the
original included. Prints the fraction of features whose ICC(1,1) over the five patients is at
least 0.9, by modality, family and perturbation, and the mean extraction time of one perturbed
version of a patient (all three modalities, perturbing included).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

import radiopipe as rp
from radiopipe.config import parse_config

REPO = Path(__file__).resolve().parents[1]
ROBUSTNESS = {
    "seed": 0,
    "noise": {"repetitions": 1},
    "rotation": {"angles": [-10, 10]},
    "volume": {"fractions": [-0.1, 0.1]},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="run folder (default: a temporary folder)")
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    config = yaml.safe_load((REPO / "configs" / "sts_multimodal.yaml").read_text("utf-8"))
    with tempfile.TemporaryDirectory() as scratch:
        config["output_dir"] = str(Path(args.out or scratch).resolve())
        config["compute"] = {"n_jobs": args.n_jobs}
        config["robustness"] = ROBUSTNESS
        loaded = parse_config(config, base_dir=REPO / "configs", source="sts_multimodal.yaml")
        start = time.perf_counter()
        result = rp.robustness(loaded, progress=False)
        seconds = time.perf_counter() - start
        values = pd.read_parquet(result.path.parent / "robustness_features.parquet")
    pd.set_option("display.width", 120)
    print(f"robustness run: {seconds:.0f} s for {values['case_id'].nunique()} patients x "
          f"{values['perturbation'].nunique()} versions; failed: {result.failed_cases or 'none'}")
    print(result.summary().unstack("perturbation")["robust"].round(2).to_string())
    per_version = values.groupby("kind")["seconds"].mean()
    print("mean seconds per version of a patient (CT + PET + MR), by kind:")
    print(per_version.round(2).to_string())
    perturbed = values.loc[values["kind"] != "original", "seconds"].mean()
    print(f"mean seconds per perturbed version of a patient: {perturbed:.2f}")


if __name__ == "__main__":
    main()
