"""Exceptions that carry a message meant for the person running radiopipe.

Every error names what went wrong, where (case, file or config key) and what to do about it, in
one line. The command line prints the message alone, without a traceback.
"""

from __future__ import annotations


class RadiopipeError(Exception):
    """Base class of every error radiopipe raises on purpose."""


class ConfigError(RadiopipeError):
    """The configuration file is missing, unreadable or invalid."""


class ManifestError(RadiopipeError):
    """The cohort manifest is missing, unreadable or inconsistent."""


class CaseError(RadiopipeError):
    """One case cannot be processed (bad image, bad mask, mismatched geometry, ...).

    Parameters
    ----------
    case_id : str
        The case the problem belongs to.
    message : str
        What is wrong and how to fix it; the case id is prefixed automatically.
    """

    def __init__(self, case_id: str, message: str):
        self.case_id = case_id
        self.reason = message
        super().__init__(f"case '{case_id}': {message}")


class DataError(RadiopipeError):
    """The cohort as a whole cannot be modelled (too few groups, a single class, ...)."""
