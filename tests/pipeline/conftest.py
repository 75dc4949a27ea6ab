"""Run the real Nextflow engine (scripts/nextflow) on the pipeline."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NEXTFLOW = REPO / "scripts" / "nextflow"


def _engine_missing() -> str | None:
    if shutil.which("java") is None:
        return "java is not installed"
    if not (REPO / ".nf" / "engine").is_file():
        return "no Nextflow engine: run `make setup`"
    return None


@dataclass
class Run:
    """One finished Nextflow run."""

    launch_dir: Path
    outdir: Path
    returncode: int
    output: str

    def trace(self) -> list[dict[str, str]]:
        """Rows of the newest trace file of this run's outdir."""
        traces = sorted(
            (self.outdir / "pipeline_info").glob("execution_trace_*.txt"),
            key=lambda p: p.stat().st_mtime,
        )
        with traces[-1].open() as f:
            return list(csv.DictReader(f, delimiter="\t"))


def run_nextflow(
    launch_dir: Path,
    *args: str,
    project: Path = REPO,
    outdir: str = "results",
    timeout: float = 1500,
    env: dict[str, str] | None = None,
) -> Run:
    """``scripts/nextflow run <project> <args> --outdir <outdir>`` in ``launch_dir``."""
    launch_dir.mkdir(parents=True, exist_ok=True)
    cmd = [str(project / "scripts" / "nextflow"), "run", str(project), *args, "--outdir", outdir]
    proc = subprocess.run(
        cmd,
        cwd=launch_dir,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NXF_ANSI_LOG": "false", **(env or {})},
        check=False,
    )
    return Run(launch_dir, launch_dir / outdir, proc.returncode, proc.stdout + proc.stderr)


@pytest.fixture(scope="session")
def nextflow_available() -> None:
    reason = _engine_missing()
    if reason:
        pytest.skip(reason)


#: The session's test-profile run: every model family and seed, IG and one
#: classical ranking (a global method) side by side.
TEST_PROFILE = ("-profile", "test,local", "--methods", "integrated_gradients,wilcoxon")


@pytest.fixture(scope="session")
def test_run(tmp_path_factory, nextflow_available) -> Run:
    """The real test profile (:data:`TEST_PROFILE`), run once for the session."""
    run = run_nextflow(tmp_path_factory.mktemp("nf-test"), *TEST_PROFILE)
    assert run.returncode == 0, run.output[-5000:]
    return run
