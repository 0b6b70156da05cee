"""The HTML report for clinical partners: renders what the run's records hold."""

from radiopipe.report.explanations import HeldOutExplanations
from radiopipe.report.html import ReportInputs, write_report

__all__ = ["HeldOutExplanations", "ReportInputs", "write_report"]
