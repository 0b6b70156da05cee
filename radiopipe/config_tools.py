"""Configs built and checked in code: :func:`make_config` (a config from Python dicts or section
models, validated as a YAML file is) and :func:`validate_config` (every problem of a config file
and its manifest in one pass). Re-exported by :mod:`radiopipe.api`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from radiopipe.config import (
    LoadedConfig,
    apply_overrides,
    load_config,
    parse_config,
    read_config_data,
)
from radiopipe.errors import ConfigError, ManifestError
from radiopipe.manifest import read_manifest

Section = dict[str, Any] | BaseModel | None


def make_config(
    name: str,
    *,
    data: Section,
    features: Section = None,
    model: Section = None,
    compute: Section = None,
    explain: Section = None,
    report: Section = None,
    cnn: Section = None,
    robustness: Section = None,
    output_dir: str | Path | None = None,
    base_dir: str | Path = ".",
) -> LoadedConfig:
    """Build a validated config in code, as a YAML file would give it.

    Parameters
    ----------
    name : str
        The run's name.
    data, features, model, compute, explain, report, cnn, robustness : dict or section model
        The config's sections (see ``configs/demo.yaml``); omitted ones take their defaults.
    output_dir : str or Path, optional
        The run folder; ``runs/<name>`` by default.
    base_dir : str or Path
        Folder that relative paths (manifest, output) resolve against.

    Returns
    -------
    LoadedConfig

    Raises
    ------
    ConfigError
        Naming every invalid or unknown key, as for a YAML file.

    Examples
    --------
    >>> config = make_config("tiny", data={"manifest": "cohort.csv"}, compute={"n_jobs": 2})
    >>> config.config.compute.n_jobs
    2
    """
    sections = {"data": data, "features": features, "model": model, "compute": compute,
                "explain": explain, "report": report, "cnn": cnn, "robustness": robustness}
    document = {"name": name, "output_dir": str(output_dir or Path("runs") / name)}
    for key, value in sections.items():
        if value is not None:
            document[key] = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    return parse_config(document, base_dir=base_dir, source=f"config '{name}'")


def validate_config(
    path: str | Path, overrides: Sequence[str] = ()
) -> tuple[LoadedConfig | None, list[str]]:
    """Every problem of a config file and of the cohort manifest it names, found in one pass.

    Checks the config's keys and values (model names included), the manifest (its columns,
    case ids, labels and that every image and mask it lists exists; a built-in dataset is written
    on first use and not checked here) and the devices the config asks for.

    Parameters
    ----------
    path : str or Path
        The YAML config file.
    overrides : sequence of str
        ``KEY.PATH=VALUE`` settings over the file's (the command line's ``--set``).

    Returns
    -------
    (LoadedConfig or None, list of str)
        The config (None when it is invalid) and the problems, one line each (empty: valid).

    Examples
    --------
    >>> validate_config("configs/demo.yaml")[1]  # doctest: +SKIP
    []
    """
    path = Path(path)
    try:
        data = apply_overrides(read_config_data(path), overrides, source=path.name)
    except ConfigError as exc:
        return None, str(exc).splitlines()
    problems: list[str] = []
    base_dir = path.resolve().parent
    loaded = None
    try:
        loaded = load_config(path, overrides)
    except ConfigError as exc:
        problems += str(exc).splitlines()
    section = data.get("data") if isinstance(data, dict) else None
    manifest = section.get("manifest") if isinstance(section, dict) else None
    if isinstance(manifest, str):
        try:
            read_manifest(base_dir / manifest)
        except ManifestError as exc:
            problems += [f"{path.name}: data.manifest: {line}" for line in str(exc).splitlines()]
    if loaded is not None:
        from radiopipe.devices import check_devices

        try:
            check_devices(loaded)
        except ConfigError as exc:
            problems += str(exc).splitlines()
    return loaded, problems


def section_dict(section: Section) -> dict[str, Any]:
    """A config section given as a dict or a section model, as a plain dict ({} for None)."""
    if section is None:
        return {}
    return section.model_dump(mode="json") if isinstance(section, BaseModel) else dict(section)
