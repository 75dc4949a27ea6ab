"""What the bad-input suite shares: valid inputs, running a step, the refusal checks.

Every case runs a real ``bin/<step>.py`` script as a program (the pipeline's
way of calling it) on one hostile input, and checks what issue 21 asks of
every refusal: exit code 2; stderr exactly one line ``Error: <step>: ...``
naming the file or field; no traceback; and nothing left in the output
folder (no output, no temporary file).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / "bin"
#: The script of each step; its errors start ``Error: <step>: ``.
SCRIPTS = {
    "import": "import_data.py",
    "prepare": "prepare.py",
    "graph": "graph.py",
    "train": "train.py",
    "attribute": "attribute.py",
    "evaluate": "evaluate.py",
    "stability": "stability.py",
    "report": "report.py",
}

#: A small valid samples × genes matrix (counts) and its labels.
MATRIX = "id,g1,g2,g3,g4,g5,g6\n" + "".join(
    f"S{i:02d},{i % 5 + 1},{(i * 3) % 7 + 2},{i + 4},{9 - i % 3},{(i * 7) % 11},{i % 2 * 6 + 1}\n"
    for i in range(12)
)
LABELS = "id,label\n" + "".join(f"S{i:02d},{'ab'[i % 2]}\n" for i in range(12))


@dataclasses.dataclass(frozen=True)
class Valid:
    """Valid files of every kind, made once per session by the real scripts."""

    folder: Path
    matrix: Path
    labels: Path
    imported: Path
    prepared: Path
    model: Path
    graph: Path
    attributions: Path
    #: A results folder REPORT accepts (a PREPARE summary and TRAIN's JSON).
    results: Path


@dataclasses.dataclass(frozen=True)
class Case:
    """The folders of one case: inputs are written to ``inp``, outputs go to ``out``."""

    inp: Path
    out: Path
    valid: Valid

    def write(self, name: str, content: str | bytes) -> Path:
        path = self.inp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path


def run_step(
    step: str, *args: object, cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess:
    """``bin/<script> args`` as a program, with this interpreter first on PATH."""
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), str(BIN), os.environ["PATH"]]),
        "GENEXAI_PROGRESS": "0",
    }
    env.pop("GENEXAI_MAX_MEMORY_GB", None)
    return subprocess.run(
        [sys.executable, str(BIN / SCRIPTS[step]), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def listing(folder: Path) -> set[str]:
    """Every entry below ``folder`` (hidden temporary files included)."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


def assert_refused(
    done: subprocess.CompletedProcess,
    step: str,
    names: Sequence[str],
    *,
    out: Path,
    before: set[str],
) -> str:
    """Exit code 2, one line ``Error: <step>: ...`` holding every one of ``names``,
    no traceback, and ``out`` as it was. Returns the line."""
    both = done.stdout + done.stderr
    assert "Traceback" not in both, both
    assert done.returncode == 2, both
    lines = done.stderr.strip("\n").splitlines()
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert line.startswith(f"Error: {step}: "), line
    for name in names:
        assert name in line, f"{name!r} not in {line!r}"
    assert listing(out) == before, f"left behind: {sorted(listing(out) - before)}"
    return line


def check_case(case: Case, step: str, build: Callable[[Case], list], names: Sequence[str]) -> str:
    """Build the case's arguments, run the step, check the refusal."""
    args = build(case)
    before = listing(case.out)
    done = run_step(step, *args, cwd=case.inp)
    return assert_refused(done, step, names, out=case.out, before=before)


@pytest.fixture
def case(tmp_path: Path, valid: Valid) -> Case:
    inp, out = tmp_path / "in", tmp_path / "out"
    inp.mkdir()
    out.mkdir()
    return Case(inp, out, valid)


def _ok(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="session")
def valid(tmp_path_factory: pytest.TempPathFactory) -> Valid:
    """The valid chain IMPORT → PREPARE → TRAIN (LR, 1 epoch) → ATTRIBUTE, and GRAPH, run once."""
    folder = tmp_path_factory.mktemp("valid")
    results = folder / "results"
    results.mkdir()
    matrix, labels = folder / "m.csv", folder / "l.csv"
    matrix.write_text(MATRIX)
    labels.write_text(LABELS)
    imported, prepared = folder / "imported.h5ad", folder / "prepared.h5ad"
    model, graph = folder / "model.pt", folder / "graph.npz"
    table = ["--input", matrix, "--format", "table", "--labels", labels]
    _ok(run_step("import", *table, "--output", imported, cwd=folder))
    summary = ["--summary", results / "D.prepare.tsv", "--dataset", "D"]
    _ok(run_step("prepare", "--input", imported, "--output", prepared, *summary, cwd=folder))
    metrics = ["--metrics", results / "D.LR.0.train.json", "--dataset", "D"]
    train = ["--input", prepared, "--model", "LR", "--epochs", "1", "--device", "cpu"]
    _ok(run_step("train", *train, "--output", model, *metrics, cwd=folder))
    _ok(run_step("graph", "--input", prepared, "--output", graph, cwd=folder))
    attributions = folder / "attributions.h5ad"
    explain = ["--input", prepared, "--model", model, "--n-steps", "5", "--device", "cpu"]
    _ok(run_step("attribute", *explain, "--output", attributions, cwd=folder))
    return Valid(folder, matrix, labels, imported, prepared, model, graph, attributions, results)
