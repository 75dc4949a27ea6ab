"""bin/graph.py: options, output, and one-line errors with exit code 2."""

from __future__ import annotations

import os
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from genexai import io, keys
from genexai.cli.graph import main
from genexai.graph import correlation_graph, load_graph


def prepared(*, with_split: bool = True) -> ad.AnnData:
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((40, 5))
    x = (np.repeat(latent, 4, axis=1) + 0.7 * rng.standard_normal((40, 20))).astype(np.float32)
    obs = pd.DataFrame(index=[f"sample{i:05d}" for i in range(40)])
    if with_split:
        obs[keys.SPLIT] = pd.Categorical(["test" if i % 4 == 0 else "train" for i in range(40)])
    return ad.AnnData(X=x, obs=obs, var=pd.DataFrame(index=[f"G{g:02d}" for g in range(20)]))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "prepared.h5ad"
    io.write_h5ad(prepared(), path)
    return path


@pytest.mark.parametrize("threshold", [0.3, 0.6])
def test_writes_the_training_graph(data, tmp_path, threshold):
    out = tmp_path / "graph.npz"
    args = ["--input", str(data), "--output", str(out), "--threshold", str(threshold)]
    result = CliRunner().invoke(main, [*args, "--block-size", "3"])
    assert result.exit_code == 0, result.output
    graph = load_graph(out)
    adata = prepared()
    expected = correlation_graph(adata.X[adata.obs[keys.SPLIT] == "train"], threshold=threshold)
    assert graph.genes == list(adata.var_names) and graph.threshold == threshold
    # Other block boundaries, other float32 summation order.
    np.testing.assert_allclose(graph.adj.toarray(), expected.toarray(), rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("extra", "exit_code", "message"),
    [
        pytest.param(["--threshold", "2"], 2, "Invalid value for '--threshold'", id="threshold"),
        pytest.param(["--block-size", "0"], 2, "Invalid value for '--block-size'", id="block"),
    ],
)
def test_bad_options(data, tmp_path, extra, exit_code, message):
    out = tmp_path / "graph.npz"
    result = CliRunner().invoke(main, ["--input", str(data), "--output", str(out), *extra])
    assert result.exit_code == exit_code and message in result.output
    assert not out.exists()


def test_script_runs_as_a_program(tmp_path, script, run_script):
    """Shebang, exec bit, one-line error and exit code 2; nothing left behind."""
    assert os.access(script("graph"), os.X_OK)
    assert script("graph").read_text().startswith("#!/usr/bin/env python3\n")
    data = tmp_path / "nosplit.h5ad"
    io.write_h5ad(prepared(with_split=False), data)
    out = tmp_path / "graph.npz"
    proc = run_script("graph", "--input", data, "--output", out)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0] == f"Error: graph: {data}: obs['split'] is missing (run the prepare step first)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nosplit.h5ad"]
