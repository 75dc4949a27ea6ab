"""A sparse single-cell dataset stays sparse through the pipeline (issue 18).

One run, one samplesheet: the same 1,500 cells simulated by the ``SingleCell``
configuration (sparse counts with known marker genes), given as CSR
(``small``) and as a dense array (``small_dense``). The sparse one must stay
sparse in every intermediate file, and both must give the same results.

The memory bound at atlas size (every task's peak RSS at 50,000 cells and
more) is a benchmark, not a test: ``bench/bench_atlas.py --max-task-rss-gib``
(docs/benchmarks.md).
"""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest

from genexai import keys
from genexai.simulate import write_simulation
from genexai.simulation import get_config

from .conftest import run_nextflow

pytestmark = pytest.mark.pipeline

SMALL = get_config("SingleCell", n_samples=1_500, n_genes=500, n_pathways=50, n_over=2, n_reads=300)
ARGS = [
    "-profile",
    "local",
    # One model (the MLP: no input dropout, so TRAIN's sparse and dense runs
    # take the same steps) and one classical ranking keep the run short.
    "--models",
    "MLP",
    "--skip_multiqc",
    "--seeds",
    "1",
    "--epochs",
    "3",
    "--methods",
    "integrated_gradients,wilcoxon",
    "--n_steps",
    "50",
    "--n_random",
    "3",
    "--max_explained_per_class",
    "5",
    "--label_key",
    "label",
]


def _write_dense(source: Path, path: Path) -> None:
    adata = ad.read_h5ad(source)
    adata.X = adata.X.toarray()
    adata.write_h5ad(path)


@pytest.fixture(scope="module")
def sparse_run(tmp_path_factory, nextflow_available):
    data = tmp_path_factory.mktemp("sparse_data")
    write_simulation(SMALL, data / "small.h5ad", seed=2)
    _write_dense(data / "small.h5ad", data / "small_dense.h5ad")
    sheet = data / "datasets.csv"
    sheet.write_text("id,input\nsmall,small.h5ad\nsmall_dense,small_dense.h5ad\n")
    run = run_nextflow(tmp_path_factory.mktemp("sparse"), *ARGS, "--input", str(sheet))
    assert run.returncode == 0, run.output[-5000:]
    return run


def _x_encoding(path: Path) -> str:
    with h5py.File(path, "r") as f:
        return f["X"].attrs.get("encoding-type", "array")


def test_the_intermediate_files_of_a_sparse_input_are_sparse(sparse_run):
    for row in sparse_run.trace():
        if row["process"].rsplit(":", 1)[-1] not in ("IMPORT", "PREPARE"):
            continue
        for path in Path(row["workdir"]).glob("*.h5ad"):
            if path.is_symlink():
                continue  # the task's input
            expected = "array" if path.name.startswith("small_dense") else "csr_matrix"
            assert _x_encoding(path) == expected, path.name
    prepared = sparse_run.outdir / "prepare"
    record = ad.read_h5ad(prepared / "small.prepared.h5ad", backed="r").uns["genexai"]["prepare"]
    assert record[keys.SPARSE_X]
    assert "counts" not in h5py.File(prepared / "small.prepared.h5ad", "r")["layers"]


def test_a_sparse_input_gives_the_results_of_the_same_data_dense(sparse_run):
    metrics = pd.read_csv(sparse_run.outdir / "summary" / "metrics.tsv", sep="\t")
    assert set(metrics["dataset"]) == {"small", "small_dense"}
    index = [c for c in metrics.columns if c not in ("dataset", "value")]
    sparse, dense = (
        metrics[metrics["dataset"] == name].set_index(index)["value"].sort_index()
        for name in ("small", "small_dense")
    )
    assert len(sparse) > 0
    pd.testing.assert_index_equal(sparse.index, dense.index)
    np.testing.assert_allclose(sparse.to_numpy(), dense.to_numpy(), rtol=1e-5, atol=1e-6)


def test_the_explained_sample_is_capped(sparse_run):
    att = ad.read_h5ad(
        sparse_run.outdir / "attribute" / "small.MLP.integrated_gradients.1.attributions.h5ad"
    )
    record = att.uns["genexai"]["attribute"]
    assert record[keys.MAX_EXPLAINED_PER_CLASS] == 5
    # Up to 15 well-classified test cells a class here: the cap binds.
    assert np.asarray(record[keys.N_EXPLAINED]).max() == 5
    assert att.obs[keys.CORRECT].sum() <= 5 * SMALL.n_classes
