"""Determinism, interruption and resume, and memory bounds of real runs."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from .conftest import NEXTFLOW, REPO, Run, run_nextflow

pytestmark = pytest.mark.pipeline
KEY = ["dataset", "model", "seed", "method", "metric", "variant"]


def _metrics(run: Run) -> pd.DataFrame:
    """The IG and accuracy rows: the runs here use the test profile's methods (IG
    only), the session's test_run adds a classical ranking (conftest.TEST_PROFILE)."""
    table = pd.read_csv(run.outdir / "summary" / "metrics.tsv", sep="\t")
    table = table[table["method"].isin(["integrated_gradients", "none"])]
    return table.sort_values(KEY).reset_index(drop=True)


def _can_unshare_network() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], check=False).returncode == 0


def test_same_seeds_same_metrics_without_network(tmp_path: Path, test_run: Run) -> None:
    """A second run, in a network namespace with no interface up, gives the same table."""
    if not _can_unshare_network():
        if os.environ.get("CI"):
            pytest.fail("unshare -n must work in CI (root)")
        pytest.skip("needs root and unshare -n")
    launch = tmp_path / "offline"
    launch.mkdir()
    proc = subprocess.run(
        ["unshare", "-n", str(NEXTFLOW), "run", str(REPO), "-profile", "test,local",
         "--outdir", "results"],
        cwd=launch, capture_output=True, text=True, timeout=1500, check=False,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    offline = Run(launch, launch / "results", proc.returncode, proc.stdout)
    pd.testing.assert_frame_equal(_metrics(offline), _metrics(test_run))


def test_different_seed_changes_metrics(tmp_path: Path, test_run: Run) -> None:
    run = run_nextflow(tmp_path, "-profile", "test,local", "--models", "LR", "--seeds", "3")
    assert run.returncode == 0, run.output[-5000:]
    other = _metrics(run)
    base = _metrics(test_run)
    base = base[(base.model == "LR") & (base.seed == 1)]
    merged = base.merge(other, on=["dataset", "model", "method", "metric", "variant"],
                        suffixes=("_1", "_3"))
    assert len(merged) > 10
    assert not (merged["value_1"] == merged["value_3"]).all()


def test_interrupted_run_resumes_to_the_same_result(tmp_path: Path, test_run: Run) -> None:
    """SIGTERM to Nextflow while TRAIN runs, then -resume: same final metrics."""
    launch = tmp_path / "interrupted"
    launch.mkdir()
    cmd = [str(NEXTFLOW), "run", str(REPO), "-profile", "test,local", "--outdir", "results"]
    log = (launch / "first.log").open("w")
    proc = subprocess.Popen(cmd, cwd=launch, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "NXF_ANSI_LOG": "false"})
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and proc.poll() is None:
        if re.search(r"Submitted process > GENEXAI:TRAIN", (launch / "first.log").read_text()):
            break
        time.sleep(0.5)
    assert proc.poll() is None, "the run ended before TRAIN started"
    time.sleep(3)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=300)
    log.close()
    assert not (launch / "results" / "summary" / "metrics.tsv").exists()

    resumed = run_nextflow(launch, "-profile", "test,local", "-resume")
    assert resumed.returncode == 0, resumed.output[-5000:]
    statuses = {}
    for row in resumed.trace():
        statuses.setdefault(row["process"].split(":")[-1], set()).add(row["status"])
    assert "CACHED" in statuses["SIMULATE"] | statuses["PREPARE"]
    pd.testing.assert_frame_equal(_metrics(resumed), _metrics(test_run))


def _gigabytes(text: str) -> float:
    value, unit = text.split()
    return float(value) * {"B": 1e-9, "KB": 2**10 / 1e9, "MB": 2**20 / 1e9, "GB": 2**30 / 1e9}[unit]


@pytest.mark.slow
def test_simua_sized_run_stays_within_8_gb(tmp_path: Path, nextflow_available) -> None:
    """50,000 genes end to end; every task's peak RSS (trace) at most 8 GB."""
    run = run_nextflow(
        tmp_path, "-profile", "test,local", "--simulate", "SimuA", "--sim_samples", "1200",
        "--models", "LR,DiffuseLR", "--seeds", "1", "--epochs", "5", "--n_steps", "100",
        "--baseline", "class_mean", "--baseline_class", "C1", "--studied_classes", "C0",
        timeout=3000,
    )
    assert run.returncode == 0, run.output[-5000:]
    rows = run.trace()
    assert {r["process"].split(":")[-1] for r in rows} >= {"SIMULATE", "GRAPH", "TRAIN", "REPORT"}
    peaks = {r["name"]: _gigabytes(r["peak_rss"]) for r in rows if r["peak_rss"] not in ("-", "")}
    assert peaks and max(peaks.values()) <= 8 * 2**30 / 1e9, peaks
