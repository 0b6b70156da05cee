"""Classifiers and their validation."""

from radiopipe.models.factory import make_classifier
from radiopipe.models.validation import CVResult, grouped_cross_val_predict

__all__ = ["CVResult", "grouped_cross_val_predict", "make_classifier"]
