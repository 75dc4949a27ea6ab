"""No parameter value reaches a task script as shell syntax (issue 21).

Hostile values (newlines and here-document terminators, quotes, ``$( )``,
backticks, ``;``) go through every parameter. Each one holds a command that
would create a marker file; the marker must never appear, and the run must
fail cleanly: one error line naming the parameter, or genexai's own
``Error:`` line from the task, never a stack trace.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from .conftest import NEXTFLOW, REPO, Run, run_nextflow

pytestmark = pytest.mark.pipeline

MARKER = "INJECTED"

# Not sent: the test's own output folder and the two switches of the run itself.
NOT_SENT = {"outdir", "help", "validate_params"}
# Free text, valid as far as the pipeline can tell: these pass validation and
# reach a task script, where genexai refuses them (the task-level tests below).
FREE_TEXT = {
    "label_key",
    "layer",
    "baseline_class",
    "studied_classes",
    "slurm_queue",
    "slurm_account",
    "slurm_options",
}

# "{m}" is the marker's absolute path. Each case: values given to the parameters
# in turn, and further parameters of the run.
CONTROL = {
    # The old TRAIN/ATTRIBUTE/EVALUATE scripts passed runs in a <<'RUNS' here-document.
    "newline-heredoc-terminator": (("C0\nRUNS\ntouch {m}\nRUNS",), {}),
    # Refused even without validation: a newline would also end a SLURM directive line.
    "cr-tab-nul-esc-c1": (
        tuple(f"C0{c}touch {{m}}" for c in "\r\t\x00\x1b\x85"),
        {"validate_params": False},
    ),
}
SHELL = {
    "quotes": ("C0'; touch {m}; echo '", 'C0"; touch {m}; echo "'),
    "substitution-separators": (
        "$(touch {m})",
        "`touch {m}`",
        "C0;touch {m}",
        "C0 && touch {m} | touch {m} > {m}",
    ),
}
# Every kind at once, without a control character: legal text that names no
# class, key or layer, so it passes validation and reaches the task script.
COMPOSITE = "C0'\"$(touch {m})`touch {m}`;touch {m} RUNS"
# The smallest run that reaches ATTRIBUTE: imported cells (no GRAPH), one LR model.
CELLS = ("--input", str(REPO / "tests/data/formats/h5ad/cells.h5ad"))
SMALL = ("--models", "LR", "--seeds", "1", "--epochs", "1", "--n_steps", "5")


def _schema_params() -> list[str]:
    schema = json.loads((REPO / "nextflow_schema.json").read_text())
    return [name for group in schema["$defs"].values() for name in group["properties"]]


SENT = [name for name in _schema_params() if name not in NOT_SENT]


def _hostile(values: tuple[str, ...], marker: Path) -> dict[str, str]:
    """Every sent parameter, each with one of ``values`` in turn."""
    return {name: values[i % len(values)].format(m=marker) for i, name in enumerate(SENT)}


def _run(tmp_path: Path, values: dict[str, object], *args: str) -> Run:
    """The test profile with ``values`` in a -params-file (JSON carries any character)."""
    params = tmp_path / "hostile.json"
    params.write_text(json.dumps(values))
    launch = tmp_path / "launch"
    return run_nextflow(launch, "-profile", "test,local", "-params-file", str(params), *args)


def _assert_clean(run: Run, tmp_path: Path) -> None:
    assert run.returncode != 0, run.output[-3000:]
    assert not list(tmp_path.rglob(f"*{MARKER}*")), "a hostile value ran as a command"
    assert "Traceback" not in run.output, run.output[-3000:]
    assert not re.search(r"Exception|^\s+at [\w.$]+\(", run.output, flags=re.M), run.output[-3000:]


def _no_task_ran(run: Run) -> None:
    work = run.launch_dir / "work"
    assert not work.exists() or not any(work.iterdir()), "a task started"


def test_every_parameter_that_reaches_a_script_is_sent() -> None:
    """The parameters the modules, profiles and workflow read are all in SENT."""
    sources = [
        "conf/base.config",
        "conf/modules.config",
        "conf/slurm.config",
        "nextflow.config",
        "main.nf",
        "workflows/genexai.nf",
    ]
    read = {
        m for f in sources for m in re.findall(r"(?<![\w'\"])params\.(\w+)", (REPO / f).read_text())
    }
    assert read - NOT_SENT <= set(SENT)
    assert FREE_TEXT <= set(SENT)


@pytest.mark.parametrize(("values", "extra"), list(CONTROL.values()), ids=list(CONTROL))
def test_control_characters_are_refused_in_every_parameter(
    tmp_path: Path, nextflow_available, values: tuple[str, ...], extra: dict[str, object]
) -> None:
    """Refused by name, in one line each, even with --validate_params false."""
    hostile = _hostile(values, tmp_path / MARKER)
    run = _run(tmp_path, {**hostile, **extra})
    _assert_clean(run, tmp_path)
    _no_task_ran(run)
    for name in SENT:
        assert re.search(rf"^  --{name}: contains a control character", run.output, re.M), name
    assert not any(value in run.output for value in hostile.values())  # never echoed


@pytest.mark.parametrize("values", list(SHELL.values()), ids=list(SHELL))
def test_shell_syntax_is_refused_at_validation(tmp_path: Path, nextflow_available, values):
    """Every parameter with a type, a choice or a pattern refuses it, by name, in one line."""
    run = _run(tmp_path, _hostile(values, tmp_path / MARKER))
    _assert_clean(run, tmp_path)
    _no_task_ran(run)
    for name in set(SENT) - FREE_TEXT:
        assert re.search(rf"^  --{name}[: ]", run.output, re.M), name


def test_free_text_reaches_the_prepare_script_as_data(tmp_path: Path, nextflow_available) -> None:
    """baseline_class and studied_classes pass validation; PREPARE refuses them, before TRAIN."""
    hostile = COMPOSITE.format(m=tmp_path / MARKER)
    values = {"baseline": "class_mean", "baseline_class": hostile, "studied_classes": hostile}
    run = _run(tmp_path, values, *CELLS, "--label_key", "cell_type", *SMALL)
    _assert_clean(run, tmp_path)
    assert "Process `GENEXAI:PREPARE" in run.output, run.output[-3000:]
    assert "Error: prepare:" in run.output, run.output[-3000:]
    assert "GENEXAI:TRAIN" not in run.output


def test_free_text_reaches_the_batch_script_as_data(tmp_path: Path, nextflow_available) -> None:
    """Unvalidated, ig_target reaches ATTRIBUTE (a batch of runs); its option refuses it."""
    hostile = COMPOSITE.format(m=tmp_path / MARKER)
    values = {"ig_target": hostile, "validate_params": False}
    run = _run(tmp_path, values, *CELLS, "--label_key", "cell_type", *SMALL)
    _assert_clean(run, tmp_path)
    assert "Process `GENEXAI:ATTRIBUTE" in run.output, run.output[-3000:]
    assert "Error: Invalid value for '--target'" in run.output, run.output[-3000:]


def test_unvalidated_values_reach_the_script_as_data(tmp_path: Path, nextflow_available) -> None:
    """With --validate_params false, any value reaches IMPORT; its options refuse them."""
    hostile = COMPOSITE.format(m=tmp_path / MARKER)
    names = ["input_format", "dataset_name", "label_key", "layer"]
    run = _run(tmp_path, {**dict.fromkeys(names, hostile), "validate_params": False}, *CELLS)
    _assert_clean(run, tmp_path)
    assert "Process `GENEXAI:IMPORT" in run.output, run.output[-3000:]
    assert "Error: Invalid value for '--format'" in run.output, run.output[-3000:]


def test_a_hostile_file_name_reaches_the_message_as_data(
    tmp_path: Path, nextflow_available
) -> None:
    """The user's file name, full of shell syntax and starting its last part with
    '-', reaches IMPORT's error message (as --input-name) as data: shown as it
    is, never run, never taken for an option."""
    name = "$(touch pwned) `touch pwned2` 'q' \"d\";x [v2] -e --format=h5ad.csv"
    table = REPO / "tests/data/formats/table"
    rows = (table / "expression.csv").read_text().splitlines(keepends=True)
    rows[2] = rows[2].replace(",", ",x", 1)  # S01: a non-numeric cell
    (tmp_path / name).write_text("".join(rows))
    args = ("--input", name, "--labels", str(table / "labels.csv"), "--input_format", "table")
    run = run_nextflow(
        tmp_path, "-profile", "test,local", *args, "--label_key", "condition", *SMALL
    )
    assert run.returncode != 0
    assert not list(tmp_path.rglob("pwned*")), "a file name was executed by a shell"
    assert "Traceback" not in run.output, run.output[-3000:]
    errors = [line.strip() for line in run.output.splitlines() if "Error: import:" in line]
    assert errors and errors[0].startswith(f"Error: import: {name}: non-numeric value 'x33'"), (
        run.output[-3000:]
    )


def test_module_quoting_round_trips(tmp_path: Path, nextflow_available) -> None:
    """shellWords and batchRuns (the modules' only way into a script) give back every value."""
    kinds = [*(values for values, _ in CONTROL.values()), *SHELL.values()]
    values = [v.format(m=tmp_path / MARKER) for kind in kinds for v in kind]
    values += [COMPOSITE.format(m=tmp_path / MARKER), "", " ", "'", "\\", "é ∑ 𝄞", "-n", "\u2028"]
    (tmp_path / "values.json").write_text(json.dumps(values))
    script = tmp_path / "quote.nf"
    script.write_text(
        f"include {{ shellWords; batchRuns }} from '{REPO}/subworkflows/local/utils_genexai'\n"
        "workflow {\n"
        "    def values = new groovy.json.JsonSlurper().parse(file(params.values).toFile())\n"
        "    file(params.words).text = shellWords(values.findAll { !it.contains('\\u0000') })\n"
        "    file(params.runs).text = batchRuns([values, values.reverse()])\n"
        "}\n"
    )
    done = subprocess.run(
        [str(NEXTFLOW), "run", str(script), "--values", "values.json"]
        + ["--words", "words.txt", "--runs", "runs.txt"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    words = (tmp_path / "words.txt").read_bytes().decode()  # bytes: keep the \r
    runs = (tmp_path / "runs.txt").read_bytes().decode()
    assert set(runs) <= set(map(chr, range(0x20, 0x7F))), "a run word is not printable ASCII"

    def bash(line: str) -> bytes:
        return subprocess.run(
            ["bash", "-c", line], cwd=tmp_path, capture_output=True, check=True
        ).stdout

    printed = bash(f"printf '%s\\0' {words}").decode().split("\0")[:-1]
    assert printed == [v for v in values if "\0" not in v]
    decode = "import json, sys; print(json.dumps([json.loads(a) for a in sys.argv[1:]]))"
    assert json.loads(bash(f"python3 -c '{decode}' {runs}")) == [values, values[::-1]]
    assert not list(tmp_path.rglob(f"*{MARKER}*"))
