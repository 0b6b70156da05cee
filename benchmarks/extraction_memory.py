"""Peak resident memory of an extraction-only process: radiopipe against pyradiomics, per case.

Usage, from the repository root (needs the ``reference`` extra)::

    python benchmarks/extraction_memory.py CASES_DIR [--no-cli]

``CASES_DIR`` is any folder of ``{case}_image.*`` / ``{case}_label.*`` pairs (NRRD, NIfTI, MHA;
label 1 is the ROI), e.g. ``../shared/data/pyradiomics_cases``; the large synthetic ellipsoid of
``workloads.py`` (128x128x64 voxels, a 140k-voxel ROI) is measured after them. Every engine runs
each case in a fresh process that does nothing else, with default settings (pyradiomics'
defaults: original image, its seven families, bin width 25):

api
    ``radiopipe.extract_case(image, mask)``;
cli
    ``python -m radiopipe extract`` on a one-case config (``--no-cli`` skips it);
pyradiomics
    ``radiomics.featureextractor.RadiomicsFeatureExtractor().execute(image, mask)``.

The child reads its peak resident set (``VmHWM`` of ``/proc/self/status``: imports, the
extraction and whatever the allocator kept) as its last act. Each line is ``case: api N MiB,
cli N MiB, pyradiomics N MiB, R.Rx`` with R = the larger of radiopipe's peaks / pyradiomics'
(<= 1: radiopipe's process is no bigger); the last line, ``worst-rss``, is the largest ratio.
Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

import SimpleITK as sitk
import yaml
from workloads import synthetic_3d

ROOT = Path(__file__).resolve().parents[1]

PEAK = (
    "\nwith open('/proc/self/status', encoding='utf-8') as handle:\n"
    "    print(next(int(line.split()[1]) for line in handle if line.startswith('VmHWM:')))\n"
)
API = "import sys\nimport radiopipe\nradiopipe.extract_case(sys.argv[1], sys.argv[2])"
CLI = "import sys\nfrom radiopipe.cli import main\nassert main(['-q', 'extract', sys.argv[1]]) == 0"
PYRADIOMICS = (
    "import logging, sys\nlogging.disable(logging.WARNING)\n"
    "from radiomics import featureextractor\n"
    "featureextractor.RadiomicsFeatureExtractor().execute(sys.argv[1], sys.argv[2])"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases_dir", type=Path, help="folder of {case}_image.* / {case}_label.*")
    parser.add_argument("--no-cli", action="store_true", help="skip `radiopipe extract`")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="radiopipe-memory-") as scratch:
        folder = Path(scratch)
        ratios = [
            _measure_case(name, image, mask, folder / name, cli=not args.no_cli)
            for name, image, mask in [*case_files(args.cases_dir.resolve()), _ellipsoid(folder)]
        ]
    print(f"worst-rss: {max(ratios):.1f}x")
    return 0


def case_files(folder: Path) -> list[tuple[str, Path, Path]]:
    """Every ``{case}_image.*`` of ``folder`` with its ``{case}_label.*``."""
    cases = []
    for image in sorted(folder.glob("*_image.*")):
        name = image.name.split("_image.")[0]
        labels = sorted(folder.glob(f"{name}_label.*"))
        if not labels:
            raise SystemExit(f"{image.name} has no {name}_label.* beside it in {folder}")
        cases.append((name, image, labels[0]))
    if not cases:
        raise SystemExit(f"{folder} holds no {{case}}_image.* / {{case}}_label.* pairs")
    return cases


def _ellipsoid(folder: Path) -> tuple[str, Path, Path]:
    """workloads.py's synthetic ellipsoid, written as NRRD files in ``folder``."""
    name, image, mask = synthetic_3d()
    paths = folder / f"{name}_image.nrrd", folder / f"{name}_label.nrrd"
    for written, path in zip((image, mask), paths):
        sitk.WriteImage(written, str(path))
    return name, *paths


def _measure_case(name: str, image: Path, mask: Path, folder: Path, *, cli: bool) -> float:
    """Print one case's peaks (MiB) and return radiopipe's largest / pyradiomics'."""
    peaks = {"api": _peak(API, image, mask)}
    if cli:
        peaks["cli"] = _peak(CLI, _one_case_config(folder, image, mask))
    peaks["pyradiomics"] = _peak(PYRADIOMICS, image, mask)
    ratio = max(v for k, v in peaks.items() if k != "pyradiomics") / peaks["pyradiomics"]
    shown = ", ".join(f"{engine} {peak:.0f} MiB" for engine, peak in peaks.items())
    print(f"{name}: {shown}, {ratio:.1f}x", flush=True)
    return ratio


def _one_case_config(folder: Path, image: Path, mask: Path) -> Path:
    """A config extracting one case with default feature settings, its run under ``folder``."""
    folder.mkdir(parents=True)
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case_id", "image", "mask", "label", "patient_id"])
        writer.writerow([folder.name, image.resolve(), mask.resolve(), "a", folder.name])
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump({
        "name": folder.name, "output_dir": str(folder / "run"),
        "data": {"manifest": str(manifest)}, "compute": {"n_jobs": 1},
    }), encoding="utf-8")
    return config


def _peak(script: str, *arguments: Path) -> float:
    """Peak resident set (MiB) of a fresh process running ``script`` with ``arguments``."""
    done = subprocess.run(
        [sys.executable, "-c", script + PEAK, *map(str, arguments)], cwd=ROOT,
        capture_output=True, text=True, encoding="utf-8", check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"a measured process failed:\n{done.stderr[-2000:]}")
    return int(done.stdout.strip().splitlines()[-1]) / 1024


if __name__ == "__main__":
    sys.exit(main())
