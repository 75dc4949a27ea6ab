"""bin/train.py: options, outputs, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from genexai import io, keys
from genexai.cli.train import main
from genexai.graph import correlation_graph, save_graph
from genexai.models import load_model

N_GENES, CLASSES = 20, ["A", "B"]


def prepared(n: int = 40, *, split: list[str] | None = None) -> ad.AnnData:
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    x = rng.standard_normal((n, N_GENES)).astype(np.float32)
    x[:, :4] += 2.0 * y[:, None]
    obs = pd.DataFrame(
        {
            keys.LABEL: pd.Categorical.from_codes(y, categories=CLASSES),
            keys.SPLIT: pd.Categorical(
                split or ["test" if i % 4 == 0 else "train" for i in range(n)]
            ),
        },
        index=[f"sample{i:05d}" for i in range(n)],
    )
    return ad.AnnData(X=x, obs=obs, var=pd.DataFrame(index=[f"G{g:02d}" for g in range(N_GENES)]))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "prepared.h5ad"
    io.write_h5ad(prepared(), path)
    return path


def write_graph(path: Path, genes: list[str]) -> Path:
    adata = prepared()
    train = adata[adata.obs[keys.SPLIT] == "train"].X
    save_graph(path, correlation_graph(train, threshold=0.2), genes=genes, threshold=0.2)
    return path


def _args(data: Path, tmp_path: Path, *extra: str) -> list[str]:
    return [
        "--input", str(data), "--output", str(tmp_path / "model.pt"),
        "--metrics", str(tmp_path / "metrics.json"), "--epochs", "3", "--device", "cpu", *extra,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("arch", "extra"),
    [
        ("LR", ["--no-shuffle", "--milestones", "2"]),
        ("MLP", ["--hidden", "5", "--batch-size", "8", "--lr", "0.05"]),
        ("DiffuseLR", ["--dropout", "0.1", "--momentum", "0.5"]),
        ("DiffuseMLP", ["--weight-decay", "0", "--gamma", "0.5", "--seed", "3"]),
    ],
)
def test_trains_and_writes_checkpoint_and_metrics(data, tmp_path, arch, extra):
    if arch.startswith("Diffuse"):
        graph = write_graph(tmp_path / "graph.npz", [f"G{g:02d}" for g in range(N_GENES)])
        extra = [*extra, "--graph", str(graph)]
    result = CliRunner().invoke(main, _args(data, tmp_path, "--model", arch, *extra))
    assert result.exit_code == 0, result.output
    model = load_model(tmp_path / "model.pt")
    assert not model.training and model.genexai["arch"] == arch
    assert model.genexai["genes"] == [f"G{g:02d}" for g in range(N_GENES)]
    assert model.genexai["classes"] == CLASSES
    assert model(torch.zeros(3, N_GENES)).shape == (3, 2)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["model"] == arch and metrics["device"] == "cpu"
    assert (metrics["n_train"], metrics["n_test"]) == (30, 10)
    assert len(metrics["history"]["loss"]) == 3
    for field in ("train_accuracy", "balanced_accuracy"):
        assert 0 <= metrics[field] <= 100
    assert len(metrics["test"]["confusion_matrix"]) == 2
    hparams = metrics["hparams"]
    if arch == "LR":
        assert hparams["shuffle"] is False and hparams["milestones"] == [2]
        assert hparams["dropout"] == 0.2
    if arch == "MLP":
        assert (hparams["hidden"], hparams["batch_size"], hparams["lr"]) == (5, 8, 0.05)
    if arch == "DiffuseMLP":
        assert metrics["seed"] == 3 and model.genexai["graph"]["threshold"] == 0.2


def test_same_seed_same_checkpoint(data, tmp_path):
    states = []
    for run in ("a", "b"):
        folder = tmp_path / run
        folder.mkdir()
        result = CliRunner().invoke(main, _args(data, folder, "--model", "LR", "--seed", "5"))
        assert result.exit_code == 0, result.output
        states.append(load_model(folder / "model.pt").state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(["--model", "DiffuseLR"], "graph: model DiffuseLR needs a gene graph",
                     id="no-graph"),
        pytest.param(["--model", "DiffuseLR", "--graph", "GRAPH:other"],
                     "graph genes do not match the data", id="graph-genes"),
        pytest.param(["--model", "LR", "--graph", "GRAPH:same"], "does not use a gene graph",
                     id="lr-graph"),
        pytest.param(["--model", "MLP", "--milestones", "9,4"], "milestones: expected",
                     id="milestones"),
    ],
)  # fmt: skip
def test_user_errors(data, tmp_path, extra, message):
    genes = [f"G{g:02d}" for g in range(N_GENES)]
    for kind, names in (("same", genes), ("other", [*genes[:-1], "X"])):
        if f"GRAPH:{kind}" in extra:
            path = write_graph(tmp_path / "graph.npz", names)
            extra = [str(path) if e == f"GRAPH:{kind}" else e for e in extra]
    result = CliRunner().invoke(main, _args(data, tmp_path, *extra))
    assert result.exit_code == 2, result.output
    assert "Error: train: " in result.output and message in result.output
    assert not (tmp_path / "model.pt").exists() and not (tmp_path / "metrics.json").exists()


def test_empty_training_split(tmp_path):
    path = tmp_path / "prepared.h5ad"
    io.write_h5ad(prepared(split=["test"] * 40), path)
    result = CliRunner().invoke(main, _args(path, tmp_path, "--model", "LR"))
    assert result.exit_code == 2
    assert "Error: train: " in result.output and "empty training split" in result.output


@pytest.mark.parametrize(
    "extra",
    [["--model", "CNN"], ["--model", "LR", "--milestones", "a,b"], ["--model", "LR", "--lr", "0"]],
    ids=["model", "milestones", "lr"],
)
def test_bad_options_are_usage_errors(data, tmp_path, extra):
    result = CliRunner().invoke(main, _args(data, tmp_path, *extra))
    assert result.exit_code == 2 and "Invalid value" in result.output


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_requested_without_gpu(data, tmp_path):
    result = CliRunner().invoke(main, [*_args(data, tmp_path, "--model", "LR"), "--device", "cuda"])
    assert result.exit_code == 2
    assert "Error: train: device 'cuda': CUDA is not available" in result.output


def test_script_runs_as_a_program(data, tmp_path, script, run_script):
    """Shebang, exec bit, one-line error and exit code 2; nothing left behind."""
    assert os.access(script("train"), os.X_OK)
    assert script("train").read_text().startswith("#!/usr/bin/env python3\n")
    proc = run_script("train", *_args(data, tmp_path, "--model", "DiffuseMLP"))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: train: graph: "), proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prepared.h5ad"]


def test_metrics_folder_is_checked_before_training(data, tmp_path, run_script):
    """--metrics in a missing folder: refused at once; no checkpoint left behind."""
    args = _args(data, tmp_path, "--model", "LR")
    args[args.index("--metrics") + 1] = str(tmp_path / "no" / "metrics.json")
    proc = run_script("train", *args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        f"Error: train: --metrics: {tmp_path / 'no' / 'metrics.json'}: "
        f"output folder {tmp_path / 'no'} does not exist"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prepared.h5ad"]


def test_metrics_at_the_checkpoint_path(data, tmp_path):
    args = _args(data, tmp_path, "--model", "LR")
    args[args.index("--metrics") + 1] = str(tmp_path / "model.pt")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        f"Error: train: --metrics: must differ from --output, both are {tmp_path / 'model.pt'}"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prepared.h5ad"]


def test_metrics_to_a_fifo_is_refused_and_kept(data, tmp_path):
    fifo = tmp_path / "metrics.fifo"
    os.mkfifo(fifo)
    args = _args(data, tmp_path, "--model", "LR")
    args[args.index("--metrics") + 1] = str(fifo)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"Error: train: --metrics: {fifo} is not a regular file")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.fifo", "prepared.h5ad"]
