"""Classifiers, in-fold pipelines, ensembles, validation designs and model bundles."""

from radiopipe.models.designs import OuterSplit, design_splits
from radiopipe.models.factory import Candidate, make_candidate, make_classifier
from radiopipe.models.fitting import FitSettings, fit_candidate
from radiopipe.models.infold import InputColumns, build_pipeline
from radiopipe.models.validation import ValidationResult, validate

__all__ = [
    "Candidate",
    "FitSettings",
    "InputColumns",
    "OuterSplit",
    "ValidationResult",
    "build_pipeline",
    "design_splits",
    "fit_candidate",
    "make_candidate",
    "make_classifier",
    "validate",
]
