"""End-to-end runs of the real Nextflow engine on the test profile."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from genexai import keys

from .conftest import REPO, TEST_PROFILE, Run, run_nextflow

pytestmark = pytest.mark.pipeline


def test_outputs_exist(test_run: Run) -> None:
    out = test_run.outdir
    for rel in (
        "summary/metrics.tsv",
        "summary/biomarkers.tsv",
        "summary/verdict.tsv",
        "summary/pathways.tsv",
        "summary/methods.tsv",
        "report/report.html",
        "pipeline_info/software_versions.yml",
        "simulate/test.simulated.h5ad",
        "prepare/test.prepared.h5ad",
    ):
        assert (out / rel).is_file(), rel
    assert list((out / "pipeline_info").glob("pipeline_dag_*.dot"))
    assert list((out / "train").glob("test.LR.1.pt"))


def test_metrics_are_sane(test_run: Run) -> None:
    table = pd.read_csv(test_run.outdir / "summary" / "metrics.tsv", sep="\t")
    assert list(table.columns[: len(keys.METRIC_COLUMNS)]) == list(keys.METRIC_COLUMNS)
    assert table["value"].notna().all()
    # Four simulated classes: chance is 25 %; the test data separate easily.
    acc = table[(table.metric == "balanced_accuracy") & (table.model == "LR")]
    assert len(acc) == 2
    assert (acc["value"] > 70).all(), acc
    percent = table[
        table.metric.str.fullmatch(r"pg[iur]|fa|fa_precision@\d+|(balanced|train)_accuracy")
    ]
    assert len(percent) > 0
    assert percent["value"].between(0, 100).all(), percent[~percent["value"].between(0, 100)]
    # Every model and seed was evaluated.
    runs = table[table.metric == "pgi"][["model", "seed"]].drop_duplicates()
    assert len(runs) == 8


#: What REPORT is given: tables only, by the step that writes them.
REPORT_INPUTS = {
    ".metrics.tsv": 16,  # EVALUATE, one per model, seed and method (IG, Wilcoxon)
    ".curves.tsv": 16,
    ".top_genes.tsv": 16,
    ".completeness.tsv": 16,
    ".train.json": 8,  # TRAIN, one per model and seed
    ".stability_summary.tsv": 2,  # STABILITY, one per dataset and method
    ".prepare.tsv": 1,  # PREPARE
    ".biomarkers.tsv": 1,  # BIOMARKERS, one per dataset
    ".verdict.tsv": 1,
    ".pathways.tsv": 1,
}


def test_steps_after_evaluate_read_what_it_wrote(test_run: Run) -> None:
    out = test_run.outdir
    assert len(list((out / "evaluate").glob("test.*.gene_scores.h5ad"))) == 16
    assert len(list((out / "evaluate").glob("test.*.completeness.tsv"))) == 16
    for method in ("integrated_gradients", "wilcoxon"):
        assert (out / "stability" / f"test.{method}.stability_summary.tsv").is_file()
    assert (out / "prepare" / "test.prepare.tsv").is_file()
    (row,) = [r for r in test_run.trace() if r["process"].endswith(":REPORT")]
    staged = sorted(p.name for p in (Path(row["workdir"]) / "collected").iterdir())
    counts = {suffix: sum(n.endswith(suffix) for n in staged) for suffix in REPORT_INPUTS}
    assert counts == REPORT_INPUTS, staged
    assert len(staged) == sum(REPORT_INPUTS.values()), staged  # no .h5ad, nothing else
    completeness = pd.read_csv(out / "summary" / "completeness.tsv", sep="\t")
    per_example = sum(
        len(pd.read_csv(f, sep="\t")) for f in (out / "evaluate").glob("*.completeness.tsv")
    )
    assert completeness["n_examples"].sum() == per_example


def test_task_logs_show_progress(test_run: Run) -> None:
    """Issue 20: in a task stderr is not a terminal, so each ATTRIBUTE run writes
    plain progress lines to .command.err, up to 100 %, and nothing else."""
    pattern = re.compile(
        r"attribute test\.\w+\.\w+\.\d+\.attributions\.h5ad: \d+% \(\d+/\d+ examples\), "
        r"\w+ elapsed(, ~\w+ left)?"
    )
    rows = [r for r in test_run.trace() if r["process"].endswith(":ATTRIBUTE")]
    assert rows
    for row in rows:
        err = (Path(row["workdir"]) / ".command.err").read_text()
        lines = err.splitlines()
        assert lines and all(pattern.fullmatch(line) for line in lines), err
        assert " 100% " in lines[-1], err


#: Runs again under -resume by design: REPORT shows the run's name and command
#: line (run_info.json), which differ in every run. MULTIQC, after it, reads
#: REPORT's tables by content (cache 'deep') and stays cached.
RERUN_EACH_TIME = {"REPORT"}


def _statuses(run: Run) -> dict[str, set[str]]:
    statuses: dict[str, set[str]] = {}
    for row in run.trace():
        statuses.setdefault(row["process"].split(":")[-1], set()).add(row["status"])
    return statuses


def test_resume_caches_every_task(test_run: Run) -> None:
    first = (test_run.outdir / "summary" / "metrics.tsv").read_bytes()
    again = run_nextflow(test_run.launch_dir, *TEST_PROFILE, "-resume")
    assert again.returncode == 0, again.output[-5000:]
    statuses = _statuses(again)
    assert statuses["REPORT"] == {"COMPLETED"}, again.output[-3000:]
    cached = {step: s for step, s in statuses.items() if step not in RERUN_EACH_TIME}
    assert "MULTIQC" in cached
    assert all(s == {"CACHED"} for s in cached.values()), statuses
    # The re-run REPORT writes the same tables, to the byte.
    assert (again.outdir / "summary" / "metrics.tsv").read_bytes() == first


def test_stub_run(tmp_path: Path, nextflow_available) -> None:
    run = run_nextflow(tmp_path, "-profile", "test,local", "-stub-run")
    assert run.returncode == 0, run.output[-5000:]
    processes = {row["process"].split(":")[-1] for row in run.trace()}
    assert processes == {
        "SIMULATE",
        "PREPARE",
        "RANK_GENES",
        "GRAPH",
        "TRAIN",
        "ATTRIBUTE",
        "EVALUATE",
        "STABILITY",
        "BIOMARKERS",
        "REPORT",
        "MULTIQC",
    }


def _copy_project(dest: Path) -> Path:
    """A copy of the pipeline sharing this checkout's .venv and .nf engine."""
    ignore = shutil.ignore_patterns(
        ".venv",
        ".nf",
        "work",
        "results",
        ".nextflow*",
        ".git",
        "__pycache__",
        "*.egg-info",
        ".pytest_cache",
    )
    shutil.copytree(REPO, dest, ignore=ignore)
    (dest / ".venv").symlink_to(REPO / ".venv")
    (dest / ".nf").symlink_to(REPO / ".nf")
    return dest


def test_package_change_invalidates_cache(tmp_path: Path, nextflow_available) -> None:
    project = _copy_project(tmp_path / "project")
    launch = tmp_path / "launch"
    args = ("-profile", "test,local", "-stub-run", "--models", "LR", "--seeds", "1")
    first = run_nextflow(launch, *args, project=project)
    assert first.returncode == 0, first.output[-3000:]
    same = run_nextflow(launch, *args, "-resume", project=project)
    again = _statuses(same)
    assert set(again) == set(_statuses(first))
    assert all(s == {"CACHED"} for step, s in again.items() if step not in RERUN_EACH_TIME), again

    module = project / "src" / "genexai" / "keys.py"
    module.write_text(module.read_text() + "\n# an edit\n")
    edited = run_nextflow(launch, *args, "-resume", project=project)
    assert edited.returncode == 0, edited.output[-3000:]
    assert {r["status"] for r in edited.trace()} == {"COMPLETED"}
