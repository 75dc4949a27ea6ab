"""Issue 20: what a run records about itself, and the MultiQC report, in the test profile's run."""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import REPO, Run, run_nextflow

pytestmark = pytest.mark.pipeline


def _nextflow_version(run: Run) -> str:
    return re.search(r"N E X T F L O W\s+~\s+version (\S+)", run.output).group(1)


def _git_commit() -> str | None:
    proc = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", "-q", "HEAD"],
        capture_output=True, text=True, check=False,
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def test_software_versions_has_the_workflow_entry(test_run: Run) -> None:
    path = test_run.outdir / "pipeline_info" / "software_versions.yml"
    versions = yaml.safe_load(path.read_text())
    commit = _git_commit()
    assert versions["Workflow"] == {
        "genexai": "v0.1.0" + (f"-g{commit[:7]}" if commit else ""),
        "Nextflow": _nextflow_version(test_run),
    }
    assert "GENEXAI:TRAIN" in versions  # the steps' entries are still there


def test_params_json_is_written(test_run: Run) -> None:
    files = sorted((test_run.outdir / "pipeline_info").glob("params_*.json"))
    assert files
    for path in files:
        assert re.fullmatch(r"params_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d\.json", path.name), path.name
        params = json.loads(path.read_text())
        assert params["outdir"] == "results"
        assert params["models"] == "LR,MLP,DiffuseLR,DiffuseMLP"  # the test profile's
        assert params["skip_multiqc"] is False


def test_report_shows_the_run(test_run: Run) -> None:
    """The command line, run name, revision and Nextflow version of the run that published it."""
    # .nextflow/history: one line per run of this launch folder, the newest last
    # (date, duration, run name, status, script hash, session, command line).
    *_, last = (test_run.launch_dir / ".nextflow" / "history").read_text().splitlines()
    fields = last.split("\t")
    run_name, command_line = fields[2], fields[6]
    page = (test_run.outdir / "report" / "report.html").read_text(encoding="utf-8")
    start = page.index('id="run"')
    run = page[start : page.index("<h3>", start)]
    assert f"<code>{html.escape(command_line)}</code>" in run
    assert "-profile test,local" in command_line
    assert f'<th scope="row">Run name</th><td>{run_name}</td>' in run
    commit = _git_commit()
    assert "version 0.1.0" + (f" · commit {commit}" if commit else "") in run
    assert f'<th scope="row">Nextflow version</th><td>{_nextflow_version(test_run)}</td>' in run


SECTIONS = ("datasets", "accuracy", "prediction_gaps", "feature_agreement", "stability",
            "completeness")


def test_multiqc_report_holds_the_summary_tables(test_run: Run) -> None:
    out = test_run.outdir
    for section in SECTIONS:
        assert (out / "summary" / f"genexai_{section}_mqc.tsv").is_file(), section
    page = (out / "multiqc" / "multiqc_report.html").read_text(encoding="utf-8")
    positions = [page.index(f'id="genexai_{section}"') for section in SECTIONS]
    assert positions == sorted(positions)  # assets/multiqc_config.yml's order
    assert "test · LR · integrated_gradients" in page  # row names whole
    data = json.loads((out / "multiqc" / "multiqc_data" / "multiqc_data.json").read_text())
    assert data["config_title"] == "genexai"
    # The pipeline's versions, with the workflow entry, in MultiQC's versions section.
    versions = (out / "multiqc" / "multiqc_data" / "multiqc_software_versions.txt").read_text()
    assert "Nextflow" in versions and "torch" in versions


def test_skip_multiqc(tmp_path: Path, nextflow_available) -> None:
    """A stub run (seconds): with --skip_multiqc no MULTIQC task and no multiqc/ folder."""
    run = run_nextflow(tmp_path, "-profile", "test,local", "-stub-run", "--skip_multiqc")
    assert run.returncode == 0, run.output[-3000:]
    processes = {row["process"].split(":")[-1] for row in run.trace()}
    assert "REPORT" in processes and "MULTIQC" not in processes
    assert not (run.outdir / "multiqc").exists()
