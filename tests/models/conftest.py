"""Fixtures of the tests of genexai.models (code in :mod:`tests.helpers.models`)."""

from __future__ import annotations

import pytest

from tests.helpers import models


@pytest.fixture(scope="session")
def gene_model():
    """``gene_model(arch, *, seed=1, **options)``: a genexai model on 24 genes, 3 classes."""
    return models.make_gene_model


@pytest.fixture(scope="session")
def model_inputs():
    """``model_inputs(n=7, dtype=torch.float32, seed=3)``: a seeded batch for ``gene_model``."""
    return models.model_inputs


@pytest.fixture
def checkpoint_meta() -> dict:
    """The ``meta`` of a checkpoint of a ``gene_model``: genes, classes, seed, preprocessing."""
    return models.checkpoint_meta()
