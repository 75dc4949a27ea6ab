"""Fixtures of the tests of genexai.attribution (the models come from tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.helpers import attribution


@pytest.fixture(scope="session")
def ig_batch():
    """``ig_batch(n=12, *, seed=1, dtype=torch.float64)``: seeded ``(x, target)`` tensors
    on the genes and classes of ``attribution_model``."""
    return attribution.batch
