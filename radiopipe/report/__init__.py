"""The HTML report for clinical partners."""

from radiopipe.report.html import REPORT_FILE, write_report

__all__ = ["REPORT_FILE", "write_report"]
