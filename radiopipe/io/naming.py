"""How messages name input files: by role and type, never by name or folder.

File names and folders may hold a patient's name; messages show only the file's role ("the
mask"), its type (".nii.gz file", "DICOM folder") and text with anything path-shaped removed.
"""

from __future__ import annotations

import re
from pathlib import Path

# File types messages may name; any other suffix could be part of a name and is not shown.
_KNOWN_SUFFIXES = (
    ".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd", ".png", ".jpg", ".jpeg", ".tif",
    ".tiff", ".bmp", ".dcm", ".gipl", ".hdr", ".img", ".vtk",
)
_PATH_LIKE = re.compile(r"""["']?[^\s"']*[/\\][^\s"']*["']?""")


def describe_file(role: str, path: Path) -> str:
    """How messages name an input file: its role and type, never its name or folder.

    Examples
    --------
    >>> describe_file("mask", Path("scans/Doe^Jane/mask.nii.gz"))
    'the mask (.nii.gz file)'
    """
    path = Path(path)
    if path.is_dir():
        return f"the {role} (DICOM folder)"
    name = path.name.lower()
    suffix = next((s for s in _KNOWN_SUFFIXES if name.endswith(s)), None)
    return f"the {role} ({suffix} file)" if suffix else f"the {role} (file of an unlisted type)"


def redact_paths(text: str, *paths: Path | None) -> str:
    """``text`` without the given paths, their parts, or anything shaped like a path.

    Library messages (SimpleITK's, a backend's) often quote the file they failed on.
    """
    for path in (Path(p) for p in paths if p is not None):
        tokens = {str(path), str(path.resolve()), path.name, path.name.split(".")[0]}
        for token in sorted(tokens, key=len, reverse=True):
            if len(token) > 2:
                text = text.replace(token, "<file>")
    return _PATH_LIKE.sub("<file>", text)
