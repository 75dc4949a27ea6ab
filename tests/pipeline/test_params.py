"""Parameter validation happens in the pipeline, before any task starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import REPO, run_nextflow

pytestmark = pytest.mark.pipeline


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--bogus_param", "1"], "--bogus_param: unknown parameter", id="unknown"),
        pytest.param(["--models", "LR,XGB"], "--models: 'LR,XGB' does not match", id="bad-model"),
        pytest.param(["--epochs", "many"], "--epochs: expected integer", id="wrong-type"),
        pytest.param(["--transform", "sqrt"], "--transform: 'sqrt' is not one of", id="enum"),
        pytest.param(["--test_size", "1.5"], "--test_size: 1.5 must be below 1", id="range"),
        pytest.param(
            ["--input", "/no/such/file.h5ad"],
            "--input: '/no/such/file.h5ad' does not exist",
            id="missing-input",
        ),
        pytest.param(
            ["--baseline", "class_mean"],
            "--baseline class_mean needs --baseline_class",
            id="contradiction",
        ),
        pytest.param(
            ["--simulate", "SIMU9"], "--simulate: 'SIMU9' does not match", id="bad-config"
        ),
        pytest.param(
            ["--baseline", "paper", "--input", str(REPO / "tests/data/formats/h5ad/cells.h5ad")],
            "--baseline paper is the paper's choice per simulation",
            id="paper-baseline-on-real-data",
        ),
        pytest.param(
            ["--baseline", "paper", "--studied_classes", "C0"],
            "--baseline paper sets the baseline class and the studied classes itself",
            id="paper-baseline-with-classes",
        ),
        pytest.param(
            ["--seeds_per_task", "0"], "--seeds_per_task: 0 is below the minimum 1", id="batch-size"
        ),
    ],
)
def test_bad_parameters_are_rejected(tmp_path: Path, nextflow_available, args, message) -> None:
    run = run_nextflow(tmp_path, "-profile", "test,local", *args)
    assert run.returncode != 0
    assert message in run.output, run.output[-2000:]
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())


def test_help_lists_parameters_with_defaults(tmp_path: Path, nextflow_available) -> None:
    run = run_nextflow(tmp_path, "--help")
    assert run.returncode == 0, run.output[-2000:]
    assert "--models" in run.output
    assert "[default: LR,MLP]" in run.output
    assert "--n_steps" in run.output
