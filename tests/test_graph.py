"""genexai.graph: blockwise correlation graph against a dense reference; .npz files."""

from __future__ import annotations

import tracemalloc
import zipfile

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from genexai import keys
from genexai._defaults import DEFAULT_BLOCK_SIZE
from genexai.errors import InputError
from genexai.graph import (
    Graph,
    correlation_graph,
    graph_from_adata,
    load_graph,
    save_graph,
    subsample_rows,
)


def dense_reference(x: np.ndarray, threshold: float) -> np.ndarray:
    """method.md §3 as written, with np.corrcoef on all genes at once."""
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.corrcoef(x.T.astype(np.float64))
    a = np.nan_to_num(a, nan=0.0)
    np.fill_diagonal(a, 0)
    a[np.abs(a) <= threshold] = 0  # the reference keeps |A| > t, then drops negatives
    a[a < 0] = 0
    a += np.eye(len(a))
    d = a.sum(axis=1)
    return a / np.sqrt(np.outer(d, d))


def expression(n: int = 50, n_genes: int = 60, seed: int = 0) -> np.ndarray:
    """Blocks of 6 co-varying genes, one anti-correlated pair, one constant gene."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, n_genes // 6))
    x = np.repeat(latent, 6, axis=1) + rng.uniform(0.3, 1.5, n_genes) * rng.standard_normal(
        (n, n_genes)
    )
    x[:, 1] = -x[:, 0] + 0.1 * rng.standard_normal(n)
    x[:, 7] = 2.5
    return x.astype(np.float32)


@pytest.mark.parametrize("block_size", [1, 7, 16, 1000])
@pytest.mark.parametrize("threshold", [0.2, 0.5, 0.8])
def test_blockwise_equals_dense_reference(threshold, block_size):
    x = expression()
    adj = correlation_graph(x, threshold=threshold, block_size=block_size)
    reference = dense_reference(x, threshold)
    assert isinstance(adj, sp.csr_matrix) and adj.dtype == np.float32
    assert adj.has_sorted_indices
    np.testing.assert_array_equal(adj.toarray() != 0, reference != 0)
    # float32 correlations of 50 samples: ~1e-7 relative error on entries <= 1.
    np.testing.assert_allclose(adj.toarray(), reference, rtol=0, atol=1e-6)


def test_graph_structure():
    x = expression()
    adj = correlation_graph(x, threshold=0.5)
    assert (adj != adj.T).nnz == 0
    assert (adj.diagonal() > 0).all()
    assert adj[0, 1] == 0  # anti-correlated pair: dropped
    row = adj[7].toarray().ravel()  # constant gene: only its self-loop, weight 1
    assert row[7] == 1 and np.count_nonzero(row) == 1


def test_all_constant_genes_give_identity():
    adj = correlation_graph(np.ones((5, 4), np.float32))
    np.testing.assert_array_equal(adj.toarray(), np.eye(4))


@pytest.mark.parametrize(
    ("x", "kwargs", "match"),
    [
        pytest.param(np.zeros((1, 5)), {}, "at least 2 samples", id="one-sample"),
        pytest.param(np.zeros(5), {}, "at least 2 samples", id="1d"),
        pytest.param(np.zeros((4, 5)), {"block_size": 0}, "^block_size: ", id="block"),
    ],
)
def test_correlation_graph_errors(x, kwargs, match):
    with pytest.raises(InputError, match=match):
        correlation_graph(x, **kwargs)


def test_progress_counts_every_gene():
    done = []
    correlation_graph(expression(), block_size=16, progress=done.append)
    assert done == [16, 16, 16, 12]


# --- prepared data -----------------------------------------------------------


def prepared(x: np.ndarray, split: list[str] | None) -> ad.AnnData:
    obs = pd.DataFrame(index=[f"s{i}" for i in range(len(x))])
    if split is not None:
        obs[keys.SPLIT] = pd.Categorical(split)
    return ad.AnnData(X=x, obs=obs, var=pd.DataFrame(index=[f"G{g}" for g in range(x.shape[1])]))


def test_graph_from_adata_uses_training_rows_only():
    x = expression(n=80)
    split = ["train" if i % 3 else "test" for i in range(80)]
    graph = graph_from_adata(prepared(x, split), threshold=0.4, block_size=9)
    rows = [i for i, s in enumerate(split) if s == "train"]
    expected = correlation_graph(x[rows], threshold=0.4)
    assert graph.genes == [f"G{g}" for g in range(x.shape[1])] and graph.threshold == 0.4
    # Other block boundaries, other float32 summation order.
    np.testing.assert_allclose(graph.adj.toarray(), expected.toarray(), rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("split", "match"),
    [
        pytest.param(None, r"obs\['split'\] is missing", id="no-split"),
        pytest.param(["test"] * 50, "empty training split", id="no-train"),
    ],
)
def test_graph_from_adata_errors(split, match):
    with pytest.raises(InputError, match=f"data.h5ad: {match}"):
        graph_from_adata(prepared(expression(), split), where="data.h5ad")


# --- alignment ------------------------------------------------------------------


def test_align_by_name():
    x = expression(n_genes=12)
    graph = Graph(correlation_graph(x, threshold=0.3), [f"G{g}" for g in range(12)], 0.3)
    assert graph.align(graph.genes, where="d") is graph.adj
    order = np.random.default_rng(1).permutation(12)
    aligned = graph.align([graph.genes[i] for i in order], where="d")
    expected = correlation_graph(x[:, order], threshold=0.3)
    np.testing.assert_allclose(aligned.toarray(), expected.toarray(), atol=1e-7)
    with pytest.raises(InputError, match="d: graph genes do not match the data: 1 expected genes"):
        graph.align([*graph.genes[:-1], "other"], where="d")


# --- files ---------------------------------------------------------------------


def test_save_load_round_trip(tmp_path):
    adj = correlation_graph(expression(), threshold=0.5)
    genes = [f"gene-{g}" for g in range(adj.shape[0])]
    path = tmp_path / "graph.npz"
    save_graph(path, adj, genes=genes, threshold=0.5)
    graph = load_graph(path)
    assert graph.genes == genes and graph.threshold == 0.5
    assert graph.adj.dtype == np.float32
    np.testing.assert_array_equal(graph.adj.toarray(), adj.toarray())
    with np.load(path, allow_pickle=False) as npz:  # nothing pickled inside
        assert all(npz[k].dtype != object for k in npz.files)
    assert [p.name for p in tmp_path.iterdir()] == ["graph.npz"]


def test_save_graph_checks_genes(tmp_path):
    with pytest.raises(InputError, match="expected a 3 x 3 matrix"):
        save_graph(tmp_path / "g.npz", sp.eye(4), genes=["a", "b", "c"], threshold=0.5)
    assert list(tmp_path.iterdir()) == []


def _write(path, **fields):
    base = {
        "format": np.array("genexai-graph/1"),
        "data": np.ones(2, np.float32),
        "indices": np.array([0, 1], np.int32),
        "indptr": np.array([0, 1, 2], np.int32),
        "shape": np.array([2, 2]),
        "genes": np.array(["a", "b"]),
        "threshold": np.array(0.5),
    }
    base.update(fields)
    np.savez(path, **{k: v for k, v in base.items() if v is not None})


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        pytest.param({"format": np.array("other")}, "expected a genexai-graph/1 file", id="format"),
        pytest.param({"genes": None}, "expected a genexai-graph/1 file", id="missing-field"),
        pytest.param({"genes": np.array(["a"])}, "lists 1 genes", id="genes"),
        pytest.param(
            {"indices": np.array([0, 5], np.int32)}, "inconsistent sparse graph", id="indices"
        ),
        pytest.param({"indices": np.array([1, 1], np.int32)}, "not symmetric", id="asymmetric"),
        pytest.param(
            {"genes": np.array([{"a": 1}, {}], dtype=object)},
            "not a readable .npz graph",
            id="pickled",
        ),
    ],
)
def test_load_graph_errors(fields, match, tmp_path):
    path = tmp_path / "g.npz"
    _write(path, **fields)
    with pytest.raises(InputError, match=match):
        load_graph(path)


def test_load_graph_not_npz(tmp_path):
    path = tmp_path / "g.npz"
    path.write_text("hello")
    with pytest.raises(InputError, match="not a readable .npz graph"):
        load_graph(path)
    with pytest.raises(InputError, match="no such graph file"):
        load_graph(tmp_path / "absent.npz")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("data.npy", b"junk")
    with pytest.raises(InputError, match="not a readable .npz graph|expected a genexai-graph"):
        load_graph(path)


# --- atlases: subsample, sparse X, memory ----------------------------------------


def assert_same_graph(a: sp.csr_matrix, b: sp.csr_matrix) -> None:
    """Bit for bit: same structure, same float32 values."""
    assert a.shape == b.shape
    for field in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_subsample_rows_seeded_uniform_sorted():
    rows = np.arange(3, 1003, 2)
    first = subsample_rows(rows, 100, seed=5)
    np.testing.assert_array_equal(first, subsample_rows(rows, 100, seed=5))
    assert first.size == 100 and np.isin(first, rows).all()
    assert (np.diff(first) > 0).all()  # distinct, in the original order
    assert not np.array_equal(first, subsample_rows(rows, 100, seed=6))
    assert subsample_rows(rows, 500, seed=5) is rows and subsample_rows(rows, None, seed=5) is rows
    with pytest.raises(InputError, match="^max_cells: "):
        subsample_rows(rows, 1, seed=0)


@pytest.mark.parametrize("max_cells", [None, 53, 10_000])
def test_below_cap_graph_is_todays(max_cells):
    x = expression(n=80)
    split = ["train" if i % 3 else "test" for i in range(80)]  # 53 training rows
    rows = [i for i, s in enumerate(split) if s == "train"]
    graph = graph_from_adata(prepared(x, split), threshold=0.4, block_size=9, max_cells=max_cells)
    # Today's path: the training rows made dense, then correlated.
    assert_same_graph(graph.adj, correlation_graph(x[rows], threshold=0.4, block_size=9))


def test_above_cap_uses_the_seeded_subsample():
    x = expression(n=120)
    split = ["train" if i % 4 else "test" for i in range(120)]
    train = np.array([i for i, s in enumerate(split) if s == "train"])
    adata = prepared(x, split)
    graph = graph_from_adata(adata, threshold=0.4, max_cells=40, seed=3)
    chosen = subsample_rows(train, 40, seed=3)
    assert_same_graph(graph.adj, correlation_graph(x[chosen], threshold=0.4))
    assert_same_graph(graph.adj, graph_from_adata(adata, threshold=0.4, max_cells=40, seed=3).adj)
    other = graph_from_adata(adata, threshold=0.4, max_cells=40, seed=4).adj
    assert (other != graph.adj).nnz > 0


@pytest.mark.parametrize("max_cells", [None, 30])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_x_gives_the_dense_graph_bit_for_bit(fmt, max_cells):
    x = expression(n=90)
    x[x < 0.5] = 0  # ~60 % zeros
    split = ["train" if i % 5 else "test" for i in range(90)]
    dense = graph_from_adata(prepared(x, split), threshold=0.3, block_size=7, max_cells=max_cells)
    adata = prepared(x, split)
    adata.X = sp.csr_matrix(x) if fmt == "csr" else sp.csc_matrix(x)
    sparse = graph_from_adata(adata, threshold=0.3, block_size=7, max_cells=max_cells)
    # Same float32 values, same float64 statistics per block: identical, not just close.
    assert_same_graph(sparse.adj, dense.adj)
    assert dense.adj.nnz > 2 * x.shape[1]  # edges exist: the comparison means something


def test_atlas_sized_sparse_input_memory_is_bounded_by_the_cap():
    n_cells, n_genes, cap = 200_000, 2_000, 5_000
    x = sp.random(n_cells, n_genes, density=0.01, format="csr", dtype=np.float32, rng=7)
    obs = pd.DataFrame(
        {keys.SPLIT: pd.Categorical(["train", "test"] * (n_cells // 2))},
        index=pd.RangeIndex(n_cells).astype(str),
    )
    adata = ad.AnnData(X=x, obs=obs, var=pd.DataFrame(index=[f"G{g}" for g in range(n_genes)]))
    tracemalloc.start()
    try:
        graph = graph_from_adata(adata, threshold=0.5, max_cells=cap)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert graph.adj.shape == (n_genes, n_genes)
    # Densifying the training rows would be 100,000 × 2,000 × 4 = 800 MB. Held here
    # (the module's bound): Z 5,000 × 2,000 × 4 = 40 MB, a block's three float64
    # temporaries 3 × 5,000 × 1,024 × 8 = 123 MB at most, the cap's CSC copy (~1 MB).
    bound = 4 * cap * n_genes + 24 * cap * DEFAULT_BLOCK_SIZE + 16 * 2**20
    assert peak < bound, peak
    assert peak < (n_cells // 2) * n_genes * 4 / 5


def test_cli_refuses_a_sparse_file_that_would_not_fit(tmp_path):
    from click.testing import CliRunner

    from genexai import io
    from genexai.cli.graph import main

    path = tmp_path / "huge.h5ad"
    indptr = np.zeros(10**6 + 1, dtype=np.int64)
    indptr[1:11] = np.arange(1, 11)
    indptr[11:] = 10
    with h5py.File(path, "w") as f:
        x = f.create_group("X")
        x.attrs.update({"encoding-type": "csr_matrix", "encoding-version": "0.1.0"})
        x.attrs["shape"] = np.array([10**6, 10**5], dtype=np.int64)
        x.create_dataset("data", data=np.ones(10, np.float32))
        x.create_dataset("indices", data=np.arange(10, dtype=np.int32))
        x.create_dataset("indptr", data=indptr, compression="gzip")
    out = tmp_path / "g.npz"
    try:
        args = ["--input", path, "--output", out, "--max-memory-gb", "2", "--max-cells", "20000"]
        result = CliRunner().invoke(main, [str(a) for a in args])
    finally:
        io.set_memory_limit(None)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert "Traceback" not in result.output and len(lines) == 1
    # 20,000 rows × 100,000 genes × 4 bytes = 7.5 GiB, above 2 GiB: refused from the headers.
    assert lines[0].startswith(f"Error: graph: {path}: X is a sparse 1000000 × 100000 matrix,")
    assert "20000 rows of it made dense (float32)" in lines[0] and "(10 non-zeros" in lines[0]
    assert "needs 7.5 GiB" in lines[0]
    assert "limit of 2.0 GiB" in lines[0] and not out.exists()
