"""The pipeline with hostile file names: '[', ']', '{', '}', '*', '?' are legal in
file names and work; paths that cannot be read are refused before any task,
one line each, with no Groovy or Java error."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import anndata as ad
import pandas as pd
import pytest

from .conftest import REPO

pytestmark = pytest.mark.pipeline
TABLE = REPO / "tests" / "data" / "formats" / "table"
SMALL = ("--models", "LR", "--seeds", "1", "--epochs", "1", "--n_steps", "5", "--gap", "1")


def _nextflow(launch: Path, *args: str) -> subprocess.CompletedProcess:
    if shutil.which("java") is None or not (REPO / ".nf" / "engine").is_file():
        pytest.skip("no Nextflow engine (java, or `make setup`)")
    cmd = [str(REPO / "scripts" / "nextflow"), "run", str(REPO), "-profile", "test,local", *args]
    env = {**os.environ, "NXF_ANSI_LOG": "false"}
    return subprocess.run(
        [*cmd, "--outdir", "results"],
        cwd=launch,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )


def _no_stack_trace(output: str) -> None:
    assert "Traceback" not in output, output[-3000:]
    assert "LinkedList" not in output, output[-3000:]
    assert not re.search(r"Exception|^\s+at [\w.$]+\(", output, flags=re.M), output[-3000:]


def test_glob_characters_in_file_names_work(tmp_path: Path) -> None:
    """The files are staged as themselves, never as a glob pattern: decoys that
    the pattern would match (and that bash would stage) are not read."""
    data, labels = tmp_path / "expr[1]{a}*?.csv", tmp_path / "lab[1].csv"
    shutil.copy(TABLE / "expression.csv", data)
    shutil.copy(TABLE / "labels.csv", labels)
    (tmp_path / "expr1{a}xy.csv").write_text("decoy,g1\nD1,1\n")  # matches expr[1]{a}*?.csv
    (tmp_path / "lab1.csv").write_text("decoy,label\nD1,x\n")  # matches lab[1].csv
    done = _nextflow(
        tmp_path,
        "--input", data.name, "--labels", labels.name, "--input_format", "table",
        "--label_key", "condition", *SMALL,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-5000:]
    _no_stack_trace(output)
    imported = ad.read_h5ad(next((tmp_path / "results" / "import").glob("*.imported.h5ad")))
    expected = pd.read_csv(TABLE / "expression.csv", index_col=0)
    assert set(imported.obs_names) <= set(expected.index) and imported.n_obs > 0
    assert list(imported.var_names) == list(expected.columns)
    assert (tmp_path / "results" / "report" / "report.html").is_file()


def test_unreadable_paths_are_refused_before_any_task(tmp_path: Path) -> None:
    """A symbolic-link loop, a missing file whose name is a glob that matches
    another file, and a baseline class without a class-mean baseline: one line
    per parameter, and nothing runs or is published."""
    os.symlink("loop.h5ad", tmp_path / "loop.h5ad")
    (tmp_path / "lab1.csv").write_text("id,label\n")
    args = ["--input", "loop.h5ad", "--labels", "lab[1].csv", "--baseline_class", "C1"]
    done = _nextflow(tmp_path, *args, *SMALL)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    _no_stack_trace(output)
    assert "--input: 'loop.h5ad' is a loop of symbolic links" in output
    assert "--labels: 'lab[1].csv' does not exist" in output
    # Known before any data is read: ATTRIBUTE used to refuse it after TRAIN had published.
    assert "--baseline_class: used only with --baseline class_mean" in output
    work = tmp_path / "work"
    assert not work.exists() or not any(p.name != "genexai-inputs" for p in work.iterdir())
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").rglob("*.h5ad"))


def test_a_class_the_data_lack_stops_the_run_in_prepare(tmp_path: Path) -> None:
    """A class_mean baseline class that names no class of the data: PREPARE refuses
    it, one line, and TRAIN neither runs nor publishes anything."""
    cells = REPO / "tests" / "data" / "formats" / "h5ad" / "cells.h5ad"
    args = ["--input", str(cells), "--label_key", "cell_type"]
    args += ["--baseline", "class_mean", "--baseline_class", "nope"]
    done = _nextflow(tmp_path, *args, *SMALL)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    _no_stack_trace(output)
    assert re.search(r"Error: prepare: .*baseline_class: 'nope'", output), output[-3000:]
    assert "GENEXAI:TRAIN" not in output
    assert not (tmp_path / "results" / "train").exists()


def test_a_broken_file_is_named_as_the_user_gave_it(tmp_path: Path) -> None:
    """IMPORT stages the files as input.data and labels.data; its error still names
    the user's file, from the name passed as data (--input-name)."""
    data, labels = "my cohort [v2].csv", "my labels (v2).csv"
    rows = (TABLE / "expression.csv").read_text().splitlines(keepends=True)
    rows[3] = rows[3].rstrip("\n").rsplit(",", 2)[0] + "\n"  # S02 loses two fields
    (tmp_path / data).write_text("".join(rows))
    shutil.copy(TABLE / "labels.csv", tmp_path / labels)
    args = ["--input", data, "--labels", labels, "--input_format", "table"]
    done = _nextflow(tmp_path, *args, "--label_key", "condition", *SMALL)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    _no_stack_trace(output)
    errors = [line.strip() for line in output.splitlines() if "Error: import:" in line]
    assert errors, output[-3000:]
    assert errors[0] == (
        "Error: import: my cohort [v2].csv: row 'S02' has 7 fields, the header has 9 (line 4)"
    ), output[-3000:]
    assert not any("input.data" in line for line in errors)
