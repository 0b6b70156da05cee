"""Command line: ``python -m radiopipe {run,validate,extract,train,report,robustness,maps} CONFIG``,
``python -m radiopipe import-features PYRADIOMICS.csv --config CONFIG``,
``python -m radiopipe predict --model BUNDLE --manifest NEW.csv``,
``python -m radiopipe explain --model BUNDLE --case ID --manifest NEW.csv`` and
``python -m radiopipe compliance [--chapter {1,2}] --data DIR [--ct-phantom IBSI1_DIR]``.

Global options (``-v``, ``-q``, ``--version``) go before or after the subcommand; a subcommand
that reads a config takes ``--set KEY.PATH=VALUE`` settings over the file's.

Exit codes (:data:`EXIT_CODES`): 0 success; 1 when any case failed (everything else is still
written); 2 for usage, config, manifest or data errors, reported as one message without a
traceback; 3 for an internal error (one line naming the file that keeps the traceback, which
``-v`` also prints); 130 when interrupted.
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


EXIT_CODES = f"""exit codes:
  {EXIT_OK}    success
  {EXIT_CASES_FAILED}    some cases failed (the rest is written; reasons in failures/), or an IBSI
       compliance check failed
  {EXIT_USAGE}    usage, config, manifest, data or file error: one line saying what to fix
  {EXIT_INTERNAL}    internal error: one line naming where the traceback was saved (-v prints it)
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C); finished cases are kept and a rerun resumes
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand.

    The global options (``-v``, ``-q``, ``--version``) are accepted before the subcommand and
    after it; every subcommand that reads a config also takes ``--set KEY.PATH=VALUE``.
    """
    parser = argparse.ArgumentParser(
        prog="radiopipe",
        description=(
            "Radiomics features, grouped cross-validated models and reports for medical images."
        ),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_global_options(parser, default=False)
    # The subcommands' copy leaves an option it was not given unset, so one given before the
    # subcommand is kept.
    global_options = argparse.ArgumentParser(add_help=False)
    _add_global_options(global_options, default=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name, help=text, description=text, epilog=EXIT_CODES, parents=[global_options],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    helps = {
        "run": "extract features, cross-validate the model and write the report",
        "validate": "check a config file, its manifest and the files the manifest lists, "
        "report every problem found, and print the config's hash",
        "extract": "extract features into features.parquet (finished cases are reused)",
        "train": "validate and compare the models on features.parquet; write metrics.json and "
        "the model bundle",
        "report": "write report.html (and report.pdf) from the run folder, explaining the "
        "held-out predictions first when explain.enabled",
        "robustness": "extract every case's perturbed versions (the config's robustness "
        "section) and write the ICC of every feature into robustness.parquet",
    }
    for name, text in helps.items():
        sub = command(name, text)
        sub.add_argument("config", metavar="CONFIG", help="YAML config file")
        _add_set_option(sub)
    text = ("write voxel-wise feature maps (pyradiomics' voxel-based extraction) of the "
            "manifest's cases as maps/<case>/<feature>.nrrd in the run folder")
    maps = command("maps", text)
    maps.add_argument("config", metavar="CONFIG", help="YAML config file")
    maps.add_argument("--cases", nargs="+", metavar="ID", help="case ids (default: every case)")
    maps.add_argument("--features", nargs="+", metavar="COLUMN",
                      help="feature columns such as original__glcm__Idm (default: every "
                      "first-order, GLCM, GLRLM, GLSZM, GLDM and NGTDM feature of the original "
                      "image); a filtered image the config's image_types make maps the same "
                      "features: log-sigma-1-0-mm-3D__glcm__Idm")
    maps.add_argument("--kernel-radius", type=int, default=1, metavar="R",
                      help="kernel radius in voxels: cubes of side 2R+1 (default 1)")
    maps.add_argument("--unmasked-kernel", action="store_true",
                      help="count every voxel of a kernel, not only the ROI's (pyradiomics' "
                      "maskedKernel: false)")
    maps.add_argument("--whole-image", action="store_true",
                      help="write each map over the whole image (default: the ROI's bounding "
                      "box widened by the kernel radius, pyradiomics' grid)")
    _add_set_option(maps)
    text = ("import a pyradiomics batch CSV (the output of pyradiomics' command line) as the "
            "run's features.parquet, its rows matched to the config's manifest; 'train', 'report' "
            "and 'run' then use it")
    imported = command("import-features", text)
    imported.add_argument("csv", metavar="CSV", help="pyradiomics batch output (--format csv)")
    imported.add_argument("--config", required=True, metavar="CONFIG", help="YAML config file")
    imported.add_argument(
        "--id-column", metavar="NAME",
        help="the CSV column holding the manifest's case ids (default: 'case_id' where the CSV "
        "has it, else each row is matched by its Image and Mask paths)",
    )
    _add_set_option(imported)
    text = "predict new cases with a saved model bundle (features extracted with its settings)"
    predict = command("predict", text)
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
    explain = command("explain", text)
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
    compliance = command("compliance", text)
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


def _add_global_options(parser: argparse.ArgumentParser, *, default) -> None:
    """``--version``, ``-v`` and ``-q`` (unset unless given, with ``default=SUPPRESS``)."""
    parser.add_argument("--version", action="version", version=f"radiopipe {__version__}")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", default=default,
                           help="log debugging detail (and print an internal error's traceback)")
    verbosity.add_argument("-q", "--quiet", action="store_true", default=default,
                           help="log warnings and errors only")


def _add_set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set", action="append", default=[], dest="overrides", metavar="KEY.PATH=VALUE",
        help="a setting over the config file's, the value read as YAML (repeatable): "
        "--set model.cv.n_splits=3 --set features.image_types=[original,log]; checked as the "
        "file is and recorded in the run's resolved config (and so its hash)",
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose and args.quiet:
        parser.error("-v/--verbose and -q/--quiet exclude each other")
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
        if args.verbose:
            traceback.print_exc(file=sys.stderr)
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
            return api.load_config(args.config, args.overrides).output_dir
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
        return _validate(args.config, args.overrides)
    loaded = api.load_config(args.config, args.overrides)
    progress = not args.quiet
    if args.command == "import-features":
        imported = api.import_features(loaded, args.csv, id_column=args.id_column)
        print(f"features: {imported.path} ({len(imported.features)} case(s) imported)")
        return _exit_for(imported.failed_cases)
    if args.command == "extract":
        return _exit_for(api.extract(loaded, progress=progress).failed_cases)
    if args.command == "train":
        _print_summary(api.train(loaded).record)
        return EXIT_OK
    if args.command == "report":
        print(f"report: {api.write_report(loaded).path}")
        return EXIT_OK
    if args.command == "robustness":
        return _robustness(loaded, progress)
    if args.command == "maps":
        outcome = api.write_maps(loaded, cases=args.cases, features=args.features,
                                 kernel_radius=args.kernel_radius,
                                 masked_kernel=not args.unmasked_kernel,
                                 extent="image" if args.whole_image else "roi")
        files = sum(len(paths) for paths in outcome.written.values())
        reused = f", {len(outcome.reused)} case(s) reused" if outcome.reused else ""
        print(f"maps: {files} map(s) of {len(outcome.written)} case(s) in "
              f"{loaded.output_dir / 'maps'}{reused}")
        return _exit_for(list(outcome.failed_cases), where="maps/failures/")
    outcome = api.run(loaded, progress=progress)
    print(f"report: {outcome.report.path}")
    _print_summary(outcome.training.record)
    return _exit_for(outcome.failed_cases)


def _robustness(loaded, progress: bool) -> int:
    """Write robustness.parquet and print the robust fraction by modality, family and kind."""
    result = api.robustness(loaded, progress=progress)
    summary = result.summary()
    print(f"robustness: {result.path}")
    print(f"fraction of features with ICC(1,1) >= {result.threshold:g}:")
    print(summary.to_string(float_format=lambda v: f"{v:.2f}"))
    return _exit_for(result.failed_cases, where="robustness/failures/")


def _validate(path: str, overrides: list[str]) -> int:
    """Print every problem of the config and its manifest (exit 2), or its hash (exit 0)."""
    loaded, problems = api.validate_config(path, overrides)
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


def _exit_for(failed: list[str], where: str = "failures/") -> int:
    if failed:
        shown = ", ".join(failed[:10]) + (" ..." if len(failed) > 10 else "")
        print(f"{len(failed)} case(s) failed: {shown} (reasons in {where})", file=sys.stderr)
        return EXIT_CASES_FAILED
    return EXIT_OK


def _print_summary(record: ValidationRecord) -> None:
    """The saved (primary) model and its held-out ROC-AUC, the best compared model, the primary
    model on each other feature set (``model.feature_sets``: volume alone, one modality), and the
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
    for other in (c for c in record.comparison if c.feature_set != primary.feature_set):
        print(f"feature set {other.feature_set}: {other.model}, {where} {kind}ROC-AUC: "
              f"{_auc_text(other)}")
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
