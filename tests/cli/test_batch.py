"""genexai.batch: several runs of a step's command in one process equal separate runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from genexai import batch, io
from genexai.models import load_model
from tests.cli.test_train_cli import prepared


def _run_batch(*runs: list[str], script: str = "train.py") -> subprocess.CompletedProcess:
    """``python3 -m genexai.batch <script> <run>...``, each run as a JSON word."""
    return subprocess.run(
        [sys.executable, "-m", "genexai.batch", script, *(json.dumps(run) for run in runs)],
        capture_output=True,
        text=True,
        check=False,
    )


def _train_args(data: Path, out: Path, seed: int) -> list[str]:
    return [
        *("--input", str(data), "--model", "MLP", "--seed", str(seed), "--epochs", "3"),
        *("--threads", "1", "--output", f"{out}/m.{seed}.pt", "--metrics", f"{out}/m.{seed}.json"),
    ]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    # Shell syntax in a file name: arguments are data, never parsed by a shell.
    path = tmp_path / "my 'prepared' $(x).h5ad"
    io.write_h5ad(prepared(), path)
    return path


def test_batch_equals_separate_processes(tmp_path, data, run_script):
    batch, alone = tmp_path / "batch", tmp_path / "alone"
    batch.mkdir()
    alone.mkdir()
    done = _run_batch(*(_train_args(data, batch, seed) for seed in (1, 2)))
    assert done.returncode == 0, done.stderr
    for seed in (1, 2):
        done = run_script("train", *_train_args(data, alone, seed))
        assert done.returncode == 0, done.stderr
        a = load_model(batch / f"m.{seed}.pt").state_dict()
        b = load_model(alone / f"m.{seed}.pt").state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)
        metrics = [json.loads((d / f"m.{seed}.json").read_text()) for d in (batch, alone)]
        assert metrics[0]["balanced_accuracy"] == metrics[1]["balanced_accuracy"]
    assert not torch.equal(
        load_model(batch / "m.1.pt").state_dict()["linear.weight"],
        load_model(batch / "m.2.pt").state_dict()["linear.weight"],
    )


def test_batch_stops_at_the_first_failure(tmp_path, data):
    done = _run_batch(
        _train_args(data, tmp_path, 1),
        _train_args(tmp_path / "missing.h5ad", tmp_path, 2),
        _train_args(data, tmp_path, 3),
    )
    assert done.returncode == 2
    assert "missing.h5ad" in done.stderr
    assert (tmp_path / "m.1.pt").is_file()
    assert not (tmp_path / "m.3.pt").exists()


def test_batch_refuses_an_unknown_script():
    done = _run_batch(["--help"], script="no_such_step.py")
    assert done.returncode != 0
    assert "no_such_step.py" in done.stderr and "expected one of simulate.py" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("step", ["train", "attribute", "evaluate"])
def test_batch_runs_the_command_of_the_script(step, command, script):
    """``<step>.py`` as the modules name it, or a path to it: the step's command."""
    assert batch.load_command(f"{step}.py") is command(step)
    assert batch.load_command(str(script(step))) is command(step)


@pytest.mark.parametrize(
    ("words", "message"),
    [
        pytest.param([], "usage: python3 -m genexai.batch", id="no-run"),
        pytest.param(["--seed 1"], "run 1: not JSON", id="not-json"),
        pytest.param(
            ['["--help"]', '{"seed": 1}'], "run 2: expected a JSON list of strings", id="dict"
        ),
        pytest.param(['["--seed", 1]'], "run 1: expected a JSON list of strings", id="number"),
    ],
)
def test_batch_refuses_malformed_runs(words, message):
    done = subprocess.run(
        [sys.executable, "-m", "genexai.batch", "train.py", *words],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_shared_reads_hand_out_independent_copies(tmp_path, data):
    io.share_reads([data])
    try:
        first = io.read_h5ad(data)
        first.X[:] = 0
        first.obs["extra"] = 1
        second = io.read_h5ad(data)
        assert np.abs(second.X).sum() > 0
        assert "extra" not in second.obs
    finally:
        io._h5ad._SHARED.clear()
