"""The pipeline on a live single-node SLURM cluster (tests/slurm/cluster.sh)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from .conftest import REPO, Run, run_nextflow

pytestmark = [pytest.mark.pipeline, pytest.mark.slurm]
CLUSTER = REPO / "tests" / "slurm" / "cluster.sh"


@pytest.fixture(scope="module")
def slurm_env(tmp_path_factory, nextflow_available) -> Iterator[dict[str, str]]:
    state = tmp_path_factory.mktemp("slurm")
    proc = subprocess.run([str(CLUSTER), "start", str(state)], capture_output=True, text=True,
                          timeout=600, check=False)
    if proc.returncode == 3:
        if os.environ.get("CI"):
            pytest.fail(f"SLURM must run in CI: {proc.stderr.strip()}")
        pytest.skip(f"no SLURM here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    try:
        yield {"SLURM_CONF": proc.stdout.strip().splitlines()[-1]}
    finally:
        subprocess.run([str(CLUSTER), "stop", str(state)], check=False, timeout=60)


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory, slurm_env) -> Run:
    run = run_nextflow(
        tmp_path_factory.mktemp("nf-slurm"),
        "-profile", "test,local,slurm",
        "-c", str(REPO / "tests" / "slurm" / "test_slurm.config"),
        env=slurm_env,
    )
    assert run.returncode == 0, run.output[-5000:]
    return run


def test_every_task_ran_through_slurm(slurm_run: Run) -> None:
    rows = slurm_run.trace()
    assert rows
    assert all(re.fullmatch(r"\d+", row["native_id"]) for row in rows), rows


def test_resource_requests_reach_sbatch(slurm_run: Run) -> None:
    """The job scripts carry the CPUs and memory of each task's label."""
    rows = [r for r in slurm_run.trace() if r["status"] == "COMPLETED"]
    evaluate = next(r for r in rows if r["process"].endswith(":EVALUATE"))
    script = (Path(evaluate["workdir"]) / ".command.run").read_text()
    assert "#SBATCH -c 2" in script
    assert re.search(r"#SBATCH --mem (\d+)M", script)
    # process_single: one CPU, which is sbatch's default, so Nextflow writes no -c.
    single = next(r for r in rows if r["process"].endswith(":SIMULATE"))
    single_script = (Path(single["workdir"]) / ".command.run").read_text()
    assert "#SBATCH -c" not in single_script
    assert "#SBATCH --mem 6144M" in single_script


def test_memory_kill_is_retried_with_more_memory(slurm_run: Run) -> None:
    attempts = [r for r in slurm_run.trace() if r["name"].endswith("(test.LR.1)")
                and ":TRAIN" in r["name"]]
    assert [r["status"] for r in sorted(attempts, key=lambda r: r["attempt"])] == [
        "FAILED", "COMPLETED"], attempts
    assert "killed" in slurm_run.output or "unknown reason" in slurm_run.output


def test_results_equal_the_local_run(slurm_run: Run, test_run: Run) -> None:
    cols = ["dataset", "model", "seed", "method", "metric", "variant"]
    slurm = pd.read_csv(slurm_run.outdir / "summary" / "metrics.tsv", sep="\t").sort_values(cols)
    local = pd.read_csv(test_run.outdir / "summary" / "metrics.tsv", sep="\t")
    # The session's local run also ranks with Wilcoxon; SLURM runs the test profile's methods.
    assert "wilcoxon" not in set(slurm["method"])
    local = local[local["method"].isin(set(slurm["method"]))].sort_values(cols)
    pd.testing.assert_frame_equal(slurm.reset_index(drop=True), local.reset_index(drop=True))
