"""A loaded config's cohort and run folder: what every stage opens first."""

from __future__ import annotations

from radiopipe.config import LoadedConfig, write_resolved_config
from radiopipe.datasets import BUILTIN
from radiopipe.manifest import Manifest, read_manifest
from radiopipe.run_folder import RunFolder
from radiopipe.storage import file_sha256


def cohort_manifest(loaded: LoadedConfig, *, require_labels: bool = True) -> Manifest:
    """The run's cohort: a built-in dataset (written on first use) or the configured manifest
    (``require_labels=False``: a cohort only extracted may have one class or no labels)."""
    return read_manifest(manifest_path(loaded), require_labels=require_labels)


def manifest_path(loaded: LoadedConfig):
    """The cohort manifest's file (a built-in dataset's is written on first use)."""
    data = loaded.config.data
    if data.builtin is not None:
        return BUILTIN[data.builtin](**data.builtin_options.model_dump())
    return loaded.resolve(data.manifest)


def manifest_sha256(loaded: LoadedConfig) -> str:
    """SHA-256 of the cohort manifest's bytes (a stage input: its cases, labels, columns)."""
    return file_sha256(manifest_path(loaded))


def open_run(loaded: LoadedConfig) -> RunFolder:
    """The config's run folder, created, with the resolved config written into it."""
    run = RunFolder(loaded.output_dir).create()
    write_resolved_config(loaded, run.root)
    return run
