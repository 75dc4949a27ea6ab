"""Fixtures of the metric tests (the models come from tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.helpers import metrics


@pytest.fixture(scope="session")
def metric_data():
    """``metric_data(n_obs, n_genes, n_classes, *, seed, ties=False)``: examples,
    attributions, baseline, labels and a correctness mask
    (:func:`tests.helpers.metrics.make_data`)."""
    return metrics.make_data
