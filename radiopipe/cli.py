"""Command line: ``python -m radiopipe {run,validate,extract,train,report} CONFIG``,
``python -m radiopipe predict --model BUNDLE --manifest NEW.csv``,
``python -m radiopipe explain --model BUNDLE --case ID --manifest NEW.csv`` and
``python -m radiopipe compliance [--chapter {1,2}] --data DIR [--ct-phantom IBSI1_DIR]``.

Exit codes: 0 success; 1 when any case failed (everything else is still written); 2 for usage,
config, manifest or data errors, reported as one message without a traceback.
"""

from __future__ import annotations

import argparse
import datetime
import errno
import logging
import sys
import tempfile
import traceback
from pathlib import Path

from radiopipe import __version__, api
from radiopipe.errors import RadiopipeError
from radiopipe.records import CandidateSummary, ValidationRecord
from radiopipe.storage import atomic_write_text

EXIT_OK, EXIT_CASES_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
# What to do about an operating-system error, by its errno.
_OS_FIXES = {
    errno.EACCES: "check the folder's permissions, or set output_dir (--out) to a folder you can "
                  "write",
    errno.EPERM: "check the folder's permissions, or set output_dir (--out) to a folder you can "
                 "write",
    errno.EROFS: "the disk is read-only: set output_dir (--out) to a writable folder",
    errno.ENOSPC: "free disk space; finished cases are kept and a rerun resumes from them",
    errno.EDQUOT: "free disk space; finished cases are kept and a rerun resumes from them",
    errno.EEXIST: "output_dir (--out) must name a folder, not a file",
    errno.ENOTDIR: "output_dir (--out) must name a folder, not a file",
    errno.ENAMETOOLONG: "shorten the output folder's path",
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="radiopipe",
        description=(
            "Radiomics features, grouped cross-validated models and reports for medical images."
        ),
    )
    parser.add_argument("--version", action="version", version=f"radiopipe {__version__}")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    verbosity.add_argument(
        "-q", "--quiet", action="store_true", help="log warnings and errors only"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    helps = {
        "run": "extract features, cross-validate the model and write the report",
        "validate": "check a config file, its manifest and the files the manifest lists, "
        "report every problem found, and print the config's hash",
        "extract": "extract features into features.parquet (finished cases are reused)",
        "train": "validate and compare the models on features.parquet; write metrics.json and "
        "the model bundle",
        "report": "write report.html (and report.pdf) from the run folder, explaining the "
        "held-out predictions first when explain.enabled",
    }
    for name, text in helps.items():
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("config", metavar="CONFIG", help="YAML config file")
    text = "predict new cases with a saved model bundle (features extracted with its settings)"
    predict = commands.add_parser("predict", help=text, description=text)
    predict.add_argument(
        "--model", required=True, metavar="BUNDLE", help="model folder written by 'train'"
    )
    predict.add_argument(
        "--manifest", required=True, metavar="NEW.csv", help="manifest of the cases to predict"
    )
    predict.add_argument(
        "--out", metavar="DIR",
        help="output folder for predictions.csv and features (default: predictions/ in the "
        "folder holding the bundle, i.e. the bundle's run folder; never the current folder)",
    )
    predict.add_argument("--n-jobs", type=int, default=1, help="extraction processes (-1: all)")
    text = ("explain one new case with a saved model bundle: its prediction, the features that "
            "drove it and where they are in the image (an HTML page)")
    explain = commands.add_parser("explain", help=text, description=text)
    explain.add_argument(
        "--model", required=True, metavar="BUNDLE", help="model folder written by 'train'"
    )
    explain.add_argument("--case", required=True, metavar="ID", help="case id in the manifest")
    explain.add_argument(
        "--manifest", required=True, metavar="NEW.csv", help="manifest holding the case"
    )
    explain.add_argument(
        "--out", metavar="DIR",
        help="output folder for explain-<ID>.html and its tables (default: explanations/ in the "
        "folder holding the bundle, i.e. the bundle's run folder; never the current folder)",
    )
    text = ("check radiopipe against the IBSI reference data: chapter 1 features (reference "
            "values) or chapter 2 filters (phase-1 reference response maps)")
    compliance = commands.add_parser("compliance", help=text, description=text)
    compliance.add_argument(
        "--data",
        required=True,
        metavar="DIR",
        help="IBSI-1 data folder: digital_phantom/, ct_phantom/ and reference_values/; with "
        "--chapter 2 the IBSI-2 folder: digital_phantom/ and reference_response_maps/",
    )
    compliance.add_argument(
        "--chapter", type=int, choices=(1, 2), default=1,
        help="IBSI chapter: 1 features (default), 2 convolutional filters",
    )
    compliance.add_argument(
        "--ct-phantom", metavar="IBSI1_DIR",
        help="with --chapter 2: the IBSI-1 data folder, whose CT phantom IBSI-2 phase 2 "
        "filters (phase 2 runs only when given)",
    )
    compliance.add_argument(
        "--ct-input", choices=("nifti", "dicom"), default="nifti",
        help="read the CT phantom from its NIfTI export (default) or its DICOM series + RTSTRUCT",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    _configure_logging(args)
    try:
        return _dispatch(args)
    except RadiopipeError as exc:
        print(f"radiopipe: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("radiopipe: interrupted; finished cases are kept and a rerun resumes from them",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        print(f"radiopipe: error: {_os_error(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a radiopipe bug: a short line, the traceback kept in a file
        path = _save_traceback(args)
        print(f"radiopipe: internal error ({type(exc).__name__}); the traceback is in {path}; "
              "please report it with that file", file=sys.stderr)
        return EXIT_INTERNAL


def _os_error(exc: OSError) -> str:
    """One line for an operating-system error: what failed, on which file, and the fix."""
    name = f"'{Path(exc.filename).name}'" if exc.filename else "a file"
    fix = _OS_FIXES.get(exc.errno, "check the disk and the path")
    return f"cannot use {name} ({exc.strerror or type(exc).__name__}); {fix}"


def _save_traceback(args: argparse.Namespace) -> Path:
    """Write the current exception's traceback under ``errors/`` of the run (or output)
    folder, else of the system's temporary folder; returns the file."""
    text = traceback.format_exc()
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    for folder in (_output_folder(args), Path(tempfile.gettempdir()) / "radiopipe"):
        if folder is None:
            continue
        try:
            return atomic_write_text(folder / "errors" / f"traceback-{stamp}.txt", text)
        except OSError:
            continue
    return Path("(not saved: no writable folder)")


def _output_folder(args: argparse.Namespace) -> Path | None:
    """The folder the command writes into, where it can be known without failing again."""
    if getattr(args, "out", None):
        return Path(args.out)
    if args.command in ("predict", "explain"):
        return api.default_output(args.model, args.command)
    if getattr(args, "config", None):
        try:
            return api.load_config(args.config).output_dir
        except RadiopipeError:
            return None
    return None


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "compliance":
        if args.chapter == 2:
            return _filter_compliance(args.data, args.ct_phantom)
        return _compliance(args.data, args.ct_input)
    if args.command == "predict":
        return _predict(args)
    if args.command == "explain":
        return _explain(args)
    if args.command == "validate":
        return _validate(args.config)
    loaded = api.load_config(args.config)
    progress = not args.quiet
    if args.command == "extract":
        return _exit_for(api.extract(loaded, progress=progress).failed_cases)
    if args.command == "train":
        _print_summary(api.train(loaded).record)
        return EXIT_OK
    if args.command == "report":
        print(f"report: {api.write_report(loaded).path}")
        return EXIT_OK
    outcome = api.run(loaded, progress=progress)
    print(f"report: {outcome.report.path}")
    _print_summary(outcome.training.record)
    return _exit_for(outcome.failed_cases)


def _validate(path: str) -> int:
    """Print every problem of the config and its manifest (exit 2), or its hash (exit 0)."""
    loaded, problems = api.validate_config(path)
    if problems:
        for problem in problems:
            print(f"radiopipe: error: {problem}", file=sys.stderr)
        if len(problems) > 1:
            print(f"radiopipe: {len(problems)} problems found", file=sys.stderr)
        return EXIT_USAGE
    print(f"{loaded.source}: valid (config hash {loaded.hash})")
    return EXIT_OK


def _predict(args: argparse.Namespace) -> int:
    """Write predictions.csv for a new manifest; exit 1 when any case failed extraction."""
    outcome = api.predict(
        Path(args.model), Path(args.manifest), args.out, n_jobs=args.n_jobs,
        progress=not args.quiet,
    )
    print(f"predictions: {outcome.path}")
    return _exit_for(outcome.failed_cases)


def _explain(args: argparse.Namespace) -> int:
    """Write one new case's explanation page; exit 1 when its extraction failed."""
    outcome = api.explain_case(
        Path(args.model), Path(args.manifest), args.case, args.out, progress=not args.quiet
    )
    if not outcome.failed_cases:
        print(f"explanation: {outcome.path}")
    return _exit_for(outcome.failed_cases)


def _compliance(data_dir: str, ct_input: str) -> int:
    """Print the IBSI-1 pass table; exit 0 when every reference value passed, 1 otherwise."""
    from radiopipe.compliance.table import format_report  # the engine: only for this command

    report = api.check_compliance(data_dir, ct_input=ct_input)
    print(format_report(report))
    return EXIT_OK if not report.failures else EXIT_CASES_FAILED


def _filter_compliance(data_dir: str, ct_phantom: str | None) -> int:
    """Print the IBSI-2 tables; exit 0 when every reference passed, 1 otherwise."""
    from radiopipe.compliance.ibsi2.table import format_filter_report  # only for this command

    report = api.check_filter_compliance(data_dir, ct_phantom=ct_phantom)
    print(format_filter_report(report))
    failed = report.failures or report.phase_2_failures
    return EXIT_CASES_FAILED if failed else EXIT_OK


def _exit_for(failed: list[str]) -> int:
    if failed:
        shown = ", ".join(failed[:10]) + (" ..." if len(failed) > 10 else "")
        print(f"{len(failed)} case(s) failed: {shown} (reasons in failures/)", file=sys.stderr)
        return EXIT_CASES_FAILED
    return EXIT_OK


def _print_summary(record: ValidationRecord) -> None:
    """The saved (primary) model and its held-out ROC-AUC, the best compared model, and the
    model's health findings, most severe first."""
    kind = "macro one-vs-rest " if len(record.classes) > 2 else ""
    where = "out-of-fold" if record.validation["design"].endswith("kfold") else "held-out test"
    primary = record.primary
    print(f"saved model: {primary.model} (primary, model.name), {where} {kind}ROC-AUC: "
          f"{_auc_text(primary)}")
    rivals = [c for c in record.comparison if c.feature_set == primary.feature_set]
    if len(rivals) > 1:
        best = next(c for c in rivals if c.model == record.best_model)
        note = ("the saved model" if best.primary else
                f"not saved; set model.name: {best.model} to save it")
        print(f"best of {len(rivals)} compared: {best.model}, {where} {kind}ROC-AUC: "
              f"{_auc_text(best)} ({note})")
    for finding in record.health:
        print(f"model health {finding.code} ({finding.severity}): {finding.message}")


def _auc_text(candidate: CandidateSummary) -> str:
    """ROC-AUC with its 95% interval, as the last lines print it."""
    auc, interval = candidate.metrics["roc_auc"], candidate.ci["roc_auc"]
    text = "undefined" if auc is None else f"{auc:.4f}"
    if auc is not None and interval is not None:
        text += f" (95% CI {interval[0]:.4f} to {interval[1]:.4f})"
    return text


def _configure_logging(args: argparse.Namespace) -> None:
    """Send radiopipe's own log records to stderr; other libraries' loggers are left alone."""
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logger = logging.getLogger("radiopipe")
    if not any(getattr(h, "_radiopipe_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._radiopipe_cli = True
        logger.addHandler(handler)
    logger.setLevel(level)
