"""REPORT: summary tables and a self-contained HTML report of a pipeline run.

:func:`collect_results` reads the tables of every run from one flat folder,
:func:`summary_tables` averages them over seeds (the paper's mean ± std),
:func:`render_report` builds the HTML page (inline CSS, figures as base64
PNG, no external reference), :func:`multiqc_tables` the MultiQC custom
content, and :func:`write_report` writes it all atomically.
"""

from __future__ import annotations

from ._collect import Results, collect_results, read_params, read_run_info, read_versions
from ._multiqc import multiqc_tables
from ._render import render_report, write_report
from ._tables import summary_tables

__all__ = [
    "Results",
    "collect_results",
    "multiqc_tables",
    "read_params",
    "read_run_info",
    "read_versions",
    "render_report",
    "summary_tables",
    "write_report",
]
