"""Refuse truncated image files before they are read.

SimpleITK reads a NIfTI file that ends early without complaint and fills the missing voxels with
zeros, so a half-uploaded ``.nii.gz`` would give a feature row computed on half an image. NRRD and
MetaImage readers already refuse short data; for NIfTI, :func:`truncation` checks that the file
holds every voxel its header promises and, when gzip-compressed, that the gzip stream is complete
and its CRC-32 matches.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

_CHUNK = 1 << 22


def truncation(path: Path) -> str | None:
    """Why a NIfTI file is incomplete, or None when it is whole (or not NIfTI).

    Parameters
    ----------
    path : Path
        An image file.

    Returns
    -------
    str or None
        A reason in words (a damaged gzip stream, or how many of the promised bytes it holds),
        without the file's path.

    Examples
    --------
    >>> truncation(Path("scan.nrrd")) is None  # not NIfTI: its reader checks the size itself
    True
    """
    name = Path(path).name.lower()
    if not name.endswith((".nii", ".nii.gz")):
        return None
    import nibabel

    try:
        header = nibabel.load(str(path)).header
    except (OSError, ValueError, EOFError, nibabel.filebasedimages.ImageFileError):
        return None  # a header nibabel cannot parse: SimpleITK's reader decides and reports
    expected = int(header.get_data_offset()) + int(
        header.get_data_dtype().itemsize * _product(header.get_data_shape())
    )
    if name.endswith(".gz"):
        try:
            size = _gzip_size(Path(path))
        except (EOFError, OSError, zlib.error) as exc:
            return f"the gzip stream is damaged or ends early ({exc})"
    else:
        size = Path(path).stat().st_size
    if size < expected:
        return f"it holds {size:,} of the {expected:,} bytes its header promises"
    return None


def _gzip_size(path: Path) -> int:
    """Uncompressed size, reading the whole stream (the gzip module checks CRC-32 and length)."""
    total = 0
    with gzip.open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            total += len(chunk)
    return total


def _product(shape) -> int:
    out = 1
    for n in shape:
        out *= int(n)
    return out
