"""Where built-in datasets are written on first use."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def cache_root() -> Path:
    """The dataset cache: ``$RADIOPIPE_CACHE`` if set, else ``~/.cache/radiopipe``."""
    configured = os.environ.get("RADIOPIPE_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "radiopipe"


def build_once(target: Path, build: Callable[[Path], None]) -> Path:
    """Build a dataset folder once, atomically.

    ``build`` fills a temporary sibling folder, which is then renamed to ``target``; an
    interrupted build leaves no half-written dataset behind, and a concurrent builder that
    finishes first wins.

    Parameters
    ----------
    target : Path
        The dataset folder.
    build : callable
        Writes the dataset into the folder it is given.
    """
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        build(staging)
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
