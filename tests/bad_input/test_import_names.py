"""Every IMPORT refusal names the file as the user gave it, not as it was staged.

The pipeline stages the user's files as ``input.data`` and ``labels.data``
(symbolic links in the task folder) and passes the names the user gave as
``--input-name``/``--labels-name``. Each bad input of ``test_import`` is
staged that way here; its one-line error must hold one of the user's names
and neither staged name. In process (click's runner), so ~130 cases stay quick.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from genexai.cli.import_data import main
from genexai.import_data import rename_paths

from .conftest import Case, listing
from .test_import import H5AD, LABEL_TABLES, STAR, TCGA, TEXT

INPUT_NAME = "data/my cohort [v2].csv"
LABELS_NAME = "-labels (2024)=x.tsv"  # starts with '-', holds '=': still only a name


def _stage(args: list, folder: Path) -> list[str]:
    """``args`` with ``--input``/``--labels`` as links named as the pipeline stages them."""
    args = [str(a) for a in args]
    for option, staged in (("--input", "input.data"), ("--labels", "labels.data")):
        if option in args:
            i = args.index(option) + 1
            os.symlink(os.path.abspath(args[i]), folder / staged)
            args[i] = staged
    return args


@pytest.mark.parametrize(("build", "names"), TEXT + LABEL_TABLES + STAR + TCGA + H5AD)
def test_errors_name_the_users_files(case: Case, build, names, monkeypatch) -> None:
    stage = case.inp / "task"
    stage.mkdir()
    args = _stage(build(case), stage)
    named = [f"--input-name={INPUT_NAME}", f"--labels-name={LABELS_NAME}"]
    before = listing(case.out)
    monkeypatch.chdir(stage)
    monkeypatch.setenv("GENEXAI_PROGRESS", "0")  # the error line alone
    result = CliRunner().invoke(main, [*args, *named])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: import: "), result.output
    line = lines[0]
    assert "input.data" not in line and "labels.data" not in line, line
    assert INPUT_NAME in line or LABELS_NAME in line, line
    assert listing(case.out) == before


def test_a_bad_file_given_with_a_name_shows_the_name(tmp_path, monkeypatch):
    """Through the command line, as the module calls it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GENEXAI_PROGRESS", "0")
    Path("input.data").write_text("id,g1,g2\nS1,1,2\nS2,3\n")
    Path("labels.data").write_text("id,label\nS1,a\nS2,b\n")
    args = ["--input", "input.data", "--format", "table", "--labels", "labels.data"]
    out = ["--output", "x.h5ad"]
    result = CliRunner().invoke(main, [*args, "--input-name", "my cohort [v2].csv", *out])
    assert result.output == (
        "Error: import: my cohort [v2].csv: row 'S2' has 2 fields, the header has 3 (line 3)\n"
    )
    Path("input.data").write_text("id,g1,g2\nS1,1,2\nS2,3,4\n")
    Path("labels.data").write_text("id,label\nS1,a\nS1,b\n")
    result = CliRunner().invoke(main, [*args, "--labels-name=my labels.csv", *out])
    assert result.output == "Error: import: my labels.csv: duplicate id in column 'id' 'S1'\n"
    assert sorted(os.listdir()) == ["input.data", "labels.data"]


def test_rename_paths_matches_whole_paths_only():
    names = {"input.data": "my cohort.csv", "input.data/sheet.tsv": "sheet (mine).tsv"}
    assert rename_paths("input.data: line 3: bad", names) == "my cohort.csv: line 3: bad"
    # A file below the input folder: the folder's name, then the rest of the path.
    assert rename_paths("input.data/a/b.tsv: x", names) == "my cohort.csv/a/b.tsv: x"
    # A path of its own inside the folder keeps its own name (the longer path wins).
    assert rename_paths("input.data/sheet.tsv: x", names) == "sheet (mine).tsv: x"
    assert rename_paths("x (in input.data, key 'k')", names) == "x (in my cohort.csv, key 'k')"
    # Quoted values and longer words are data, not the path.
    for kept in ("gene 'input.data' twice", "input.datas: x", "my_input.data: x"):
        assert rename_paths(kept, names) == kept
    # Control characters in a name are escaped: the message stays one line.
    assert rename_paths("input.data: x", {"input.data": "a\nb\x1b"}) == "a\\nb\\x1b: x"


def test_without_names_messages_keep_the_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GENEXAI_PROGRESS", "0")
    Path("m.csv").write_text("id,g1\nS1,x\n")
    Path("l.csv").write_text("id,label\nS1,a\n")
    args = ["--input", "m.csv", "--format", "table", "--labels", "l.csv", "--output", "x.h5ad"]
    result = CliRunner().invoke(main, args)
    assert result.output.startswith("Error: import: m.csv: non-numeric value 'x'"), result.output
