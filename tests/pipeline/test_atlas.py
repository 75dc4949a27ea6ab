"""A sparse single-cell atlas stays sparse through the pipeline (issue 18).

One run, one samplesheet, three datasets simulated by the ``SingleCell``
configuration (sparse counts with known marker genes):

- ``atlas``: 50,000 cells × 20,000 genes, about 1 % non-zero. Made dense it
  would take 4 GB; every task must stay far below that (the bound below is
  checked against the trace's peak RSS).
- ``small`` and ``small_dense``: the same 1,500 cells, given as CSR and as a
  dense array. Their results must be the same.
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

ATLAS = get_config("SingleCell", n_samples=50_000, n_reads=200)
SMALL = get_config(
    "SingleCell", n_samples=1_500, n_genes=500, n_pathways=50, n_over=2, n_reads=300
)
#: Peak RSS allowed to any task: the interpreter with torch and scanpy
#: loaded, the sparse atlas (1e7 non-zeros, 80 MB) and the dense chunks a
#: step works on. The atlas made dense would add 4 GB.
MAX_TASK_RSS = 1.5 * 2**30
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
    "20",
    "--label_key",
    "label",
]


def _write_dense(source: Path, path: Path) -> None:
    adata = ad.read_h5ad(source)
    adata.X = adata.X.toarray()
    adata.write_h5ad(path)


@pytest.fixture(scope="module")
def atlas_run(tmp_path_factory, nextflow_available):
    data = tmp_path_factory.mktemp("atlas_data")
    write_simulation(ATLAS, data / "atlas.h5ad", seed=1, threads=2)
    write_simulation(SMALL, data / "small.h5ad", seed=2)
    _write_dense(data / "small.h5ad", data / "small_dense.h5ad")
    sheet = data / "datasets.csv"
    sheet.write_text(
        "id,input\natlas,atlas.h5ad\nsmall,small.h5ad\nsmall_dense,small_dense.h5ad\n"
    )
    run = run_nextflow(tmp_path_factory.mktemp("atlas"), *ARGS, "--input", str(sheet))
    assert run.returncode == 0, run.output[-5000:]
    return run


def _x_encoding(path: Path) -> str:
    with h5py.File(path, "r") as f:
        return f["X"].attrs.get("encoding-type", "array")


def _peak_rss(text: str) -> float:
    value, unit = text.split()
    return float(value) * {"KB": 2**10, "MB": 2**20, "GB": 2**30}[unit]


def test_the_intermediate_files_of_a_sparse_input_are_sparse(atlas_run):
    for row in atlas_run.trace():
        if row["process"].rsplit(":", 1)[-1] not in ("IMPORT", "PREPARE"):
            continue
        for path in Path(row["workdir"]).glob("*.h5ad"):
            if path.is_symlink():
                continue  # the task's input
            expected = "array" if path.name.startswith("small_dense") else "csr_matrix"
            assert _x_encoding(path) == expected, path.name
    prepared = atlas_run.outdir / "prepare"
    record = ad.read_h5ad(prepared / "atlas.prepared.h5ad", backed="r").uns["genexai"]["prepare"]
    assert record[keys.SPARSE_X]
    assert "counts" not in h5py.File(prepared / "atlas.prepared.h5ad", "r")["layers"]


def test_every_task_stays_under_the_memory_bound(atlas_run):
    rows = atlas_run.trace()
    assert {r["process"].rsplit(":", 1)[-1] for r in rows} >= {
        "IMPORT",
        "PREPARE",
        "TRAIN",
        "ATTRIBUTE",
        "EVALUATE",
        "RANK_GENES",
    }
    for row in rows:
        assert _peak_rss(row["peak_rss"]) <= MAX_TASK_RSS, (row["name"], row["peak_rss"])


def test_a_sparse_input_gives_the_results_of_the_same_data_dense(atlas_run):
    metrics = pd.read_csv(atlas_run.outdir / "summary" / "metrics.tsv", sep="\t")
    assert set(metrics["dataset"]) == {"atlas", "small", "small_dense"}
    index = [c for c in metrics.columns if c not in ("dataset", "value")]
    sparse, dense = (
        metrics[metrics["dataset"] == name].set_index(index)["value"].sort_index()
        for name in ("small", "small_dense")
    )
    assert len(sparse) > 0
    pd.testing.assert_index_equal(sparse.index, dense.index)
    np.testing.assert_allclose(sparse.to_numpy(), dense.to_numpy(), rtol=1e-5, atol=1e-6)


def test_the_atlas_is_explained_on_a_capped_sample(atlas_run):
    att = ad.read_h5ad(
        atlas_run.outdir / "attribute" / "atlas.MLP.integrated_gradients.1.attributions.h5ad"
    )
    record = att.uns["genexai"]["attribute"]
    assert record[keys.MAX_EXPLAINED_PER_CLASS] == 20
    assert (np.asarray(record[keys.N_EXPLAINED]) <= 20).all()
    assert att.n_obs <= 20 * ATLAS.n_classes
