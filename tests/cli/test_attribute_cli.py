"""bin/attribute.py: options, outputs, and one-line errors with exit code 2."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from genexai import io, keys
from genexai.cli.attribute import main

models = pytest.importorskip("genexai.models")

N_GENES, CLASSES = 30, ["A", "B", "C"]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """A prepared-like .h5ad (30 rows, train/test) and an MLP checkpoint."""
    rng = np.random.default_rng(0)
    genes = [f"G{g:03d}" for g in range(N_GENES)]
    n = 30
    obs = pd.DataFrame(
        {
            keys.LABEL: pd.Categorical([CLASSES[i % 3] for i in range(n)], categories=CLASSES),
            keys.SPLIT: pd.Categorical(["train" if i < 12 else "test" for i in range(n)]),
        },
        index=[f"sample{i:05d}" for i in range(n)],
    )
    adata = ad.AnnData(X=rng.normal(size=(n, N_GENES)).astype(np.float32), obs=obs)
    adata.var_names = genes
    data = tmp_path / "prepared.h5ad"
    io.write_h5ad(adata, data)
    model = models.build_model("MLP", n_genes=N_GENES, n_classes=len(CLASSES), seed=0)
    checkpoint = tmp_path / "model.pt"
    models.save_checkpoint(checkpoint, model, meta={"genes": genes, "classes": CLASSES, "seed": 0})
    return data, checkpoint


def _args(files, out, *extra):
    data, checkpoint = files
    return ["--input", str(data), "--model", str(checkpoint), "--output", str(out), *extra]


@pytest.mark.parametrize(
    ("extra", "n_obs", "kind"),
    [
        pytest.param([], 18, "zero", id="ig-zero"),
        pytest.param(
            ["--baseline", "class_mean", "--baseline-class", "B", "--classes", "A,C"],
            12,
            "class_mean",
            id="ig-class-mean",
        ),
        pytest.param(["--method", "saliency", "--split", "all"], 30, "zero", id="saliency-all"),
        pytest.param(["--method", "gradient_shap", "--n-samples", "4"], 18, "zero", id="shap"),
    ],
)
def test_writes_attributions(files, tmp_path, extra, n_obs, kind):
    out = tmp_path / "a.h5ad"
    result = CliRunner().invoke(main, _args(files, out, "--n-steps", "50", *extra))
    assert result.exit_code == 0, result.output
    adata = io.read_h5ad(out)
    assert adata.shape == (n_obs, N_GENES) and adata.X.dtype == np.float32
    uns = adata.uns[keys.UNS][keys.ATTRIBUTE]
    assert uns[keys.BASELINE_KIND] == kind
    assert uns[keys.CHECKPOINT_SHA256] == hashlib.sha256(files[1].read_bytes()).hexdigest()
    assert {keys.PREDICTION, keys.CORRECT, keys.DELTA, keys.N_STEPS} <= set(adata.obs)


def test_baseline_file(files, tmp_path):
    genes = [f"G{g:03d}" for g in range(N_GENES)]
    table = pd.DataFrame([np.full(N_GENES, 0.5)], columns=genes[::-1])
    table.to_csv(tmp_path / "b.tsv", sep="\t", index=False)
    out = tmp_path / "a.h5ad"
    extra = ["--baseline", str(tmp_path / "b.tsv"), "--n-steps", "20"]
    result = CliRunner().invoke(main, _args(files, out, *extra))
    assert result.exit_code == 0, result.output
    uns = io.read_h5ad(out).uns[keys.UNS][keys.ATTRIBUTE]
    np.testing.assert_array_equal(uns[keys.BASELINE], np.full(N_GENES, 0.5, dtype=np.float32))
    assert uns[keys.BASELINE_KIND] == "vector"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(["--classes", "A,Z"], "classes: 'Z' is not one of", id="class"),
        pytest.param(["--baseline", "nothing.npy"], "--baseline: expected zero", id="baseline"),
        pytest.param(["--baseline", "class_mean"], "baseline_class: expected", id="no-class"),
    ],
)
def test_user_errors(files, tmp_path, extra, message):
    out = tmp_path / "a.h5ad"
    result = CliRunner().invoke(main, _args(files, out, *extra))
    assert result.exit_code == 2
    assert f"Error: attribute: {message}" in result.output
    assert not out.exists()


def test_bad_choice_is_a_usage_error(files, tmp_path):
    result = CliRunner().invoke(main, _args(files, tmp_path / "a.h5ad", "--method", "lime"))
    assert result.exit_code == 2 and "--method" in result.output


def test_script_runs_as_a_program(files, tmp_path, script, run_script):
    """Shebang, exec bit, one-line error and exit code 2; nothing left behind."""
    assert os.access(script("attribute"), os.X_OK)
    assert script("attribute").read_text().startswith("#!/usr/bin/env python3\n")
    bad = tmp_path / "bad.h5ad"
    bad.write_text("not hdf5")
    out = tmp_path / "a.h5ad"
    data, checkpoint = files
    args = ["--model", checkpoint, "--output", out]
    proc = run_script("attribute", *args, "--input", bad)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: attribute: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.h5ad", "model.pt", "prepared.h5ad"]
    proc = run_script("attribute", *args, "--input", data, "--n-steps", "20")
    assert proc.returncode == 0, proc.stderr
    assert io.read_h5ad(out).n_obs == 18


def test_defaults_come_from_the_library():
    """The script restates no default: each is the library's constant."""
    from genexai.attribute import BATCH_SIZE
    from genexai.attribution import N_SAMPLES, N_STEPS, SEED, TOLERANCE

    defaults = {p.name: p.default for p in main.params}
    assert defaults["n_steps"] == N_STEPS and defaults["max_steps"] is None
    assert defaults["tolerance"] == TOLERANCE and defaults["n_samples"] == N_SAMPLES
    assert defaults["seed"] == SEED and defaults["batch_size"] == BATCH_SIZE


def _rankings_file(tmp_path: Path, method: str = "wilcoxon") -> tuple[Path, np.ndarray]:
    """A RANK_GENES-like rankings file (classes x genes, in reversed order) and its scores."""
    scores = np.random.default_rng(1).standard_normal((len(CLASSES), N_GENES))
    genes = [f"G{g:03d}" for g in range(N_GENES)]
    rankings = ad.AnnData(
        X=scores[::-1, ::-1].copy(),
        obs=pd.DataFrame(index=pd.Index(CLASSES[::-1], dtype=str)),
        var=pd.DataFrame(index=pd.Index(genes[::-1], dtype=str)),
    )
    io.step_uns(rankings, keys.RANK_GENES)[keys.METHOD] = method
    path = tmp_path / f"{method}.rankings.h5ad"
    io.write_h5ad(rankings, path)
    return path, scores


def test_ranking_method_with_its_rankings(files, tmp_path):
    path, scores = _rankings_file(tmp_path)
    out = tmp_path / "a.h5ad"
    extra = ["--method", "wilcoxon", "--rankings", str(path)]
    result = CliRunner().invoke(main, _args(files, out, *extra))
    assert result.exit_code == 0, result.output
    adata = io.read_h5ad(out)
    np.testing.assert_array_equal(
        adata.X, scores.astype(np.float32)[adata.obs[keys.TARGET].to_numpy()]
    )
    uns = adata.uns[keys.UNS][keys.ATTRIBUTE]
    assert uns[keys.METHOD] == "wilcoxon" and uns[keys.SCOPE] == "global"
    assert keys.DELTA not in adata.obs


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(["--method", "t_test"], "rankings: method 't_test' needs", id="missing"),
        pytest.param(["--method", "coefficients"], "method: 'coefficients' needs", id="mlp"),
    ],
)
def test_global_method_errors(files, tmp_path, extra, message):
    out = tmp_path / "a.h5ad"
    result = CliRunner().invoke(main, _args(files, out, *extra))
    assert result.exit_code == 2
    assert f"Error: attribute: {message}" in result.output
    assert not out.exists()
