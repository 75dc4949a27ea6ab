"""Fixtures shared across the test folders.

Factories are fixtures returning a function (scanpy/anndata style); the code
behind them lives in :mod:`tests.helpers`, which test modules import only for
what they need at collection time (constants, parametrize values) and for the
plain reference implementations.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import attribution, evaluate, formats, metrics


@pytest.fixture(scope="module")
def format_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path | None]]:
    """Every public input layout, written once per module: ``{format: (input, labels)}``
    (:func:`tests.helpers.formats.write_all`; labels is None for h5ad)."""
    return formats.write_all(tmp_path_factory.mktemp("formats"))


@pytest.fixture(scope="session")
def metric_model():
    """``metric_model(kind, n_genes, n_classes, *, seed=0)``: an eval-mode model of
    :data:`tests.helpers.metrics.MODELS` (with or without the first-linear-layer contract)."""
    return metrics.make_model


@pytest.fixture(scope="session")
def attribution_model():
    """``attribution_model(family, *, seed=0, dtype=torch.float32)``: a model of
    :data:`tests.helpers.attribution.FAMILIES` (or ``"opaque"``) with ``model.genexai``."""
    return attribution.make_model


@pytest.fixture(scope="session")
def prepared_adata():
    """``prepared_adata(n_obs=24, *, seed=0)``: a prepared-like AnnData (label, split,
    subclass, informative genes) on the genes of ``attribution_model``."""
    return attribution.make_adata


@pytest.fixture(scope="session")
def evaluation_run():
    """``evaluation_run(*, kind="linear", n_classes=3, n_sub=None, n_obs=45, seed=0)``:
    ``(prepared, model, attributions)`` as EVALUATE takes them
    (:func:`tests.helpers.evaluate.make_run`)."""
    return evaluate.make_run
