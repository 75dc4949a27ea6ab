"""Fixtures of the tests of genexai.report: synthetic run files and what REPORT reads of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from genexai.report import Results, collect_results
from tests.helpers import report


@pytest.fixture(scope="session")
def synthetic_results():
    """``synthetic_results(folder, *, datasets=("SIMU1", "BRCA"), models=("LR", "MLP"),
    seeds=(0, 1, 2), ...)``: every kind of table REPORT reads, written under ``folder``
    (:func:`tests.helpers.report.write_synthetic_results`)."""
    return report.write_synthetic_results


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory, synthetic_results) -> Path:
    """The default synthetic results: 2 datasets × 2 models × 3 seeds."""
    return synthetic_results(tmp_path_factory.mktemp("collected"))


@pytest.fixture(scope="module")
def results(results_dir: Path) -> Results:
    return collect_results(results_dir)
