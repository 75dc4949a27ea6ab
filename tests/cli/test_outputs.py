"""The output rules every step command shares (genexai.cli._options, genexai.io.atomic_paths).

Each output is checked before any work: its folder exists and is writable,
it is not a folder, and it is a regular file or nothing (a device, FIFO or
socket is refused, never replaced); no two outputs share a path. A refusal
is one line naming the option and the file, exit code 2, and nothing is
written. The inputs here are empty files: the checks come first, so they are
never read.
"""

from __future__ import annotations

import importlib
import os
import stat
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import genexai
from genexai import io
from genexai.cli import _options
from genexai.errors import InputError

#: Each step's required options other than its outputs; "@" is an (empty) input file.
REQUIRED = {
    "simulate": ["--config", "test"],
    "import_data": ["--input", "@", "--format", "table"],
    "prepare": ["--input", "@", "--dataset", "d"],
    "graph": ["--input", "@"],
    "train": ["--input", "@", "--model", "LR"],
    "attribute": ["--input", "@", "--model", "@"],
    "evaluate": ["--attributions", "@", "--model", "@", "--input", "@", "--dataset", "d"],
    "stability": ["--input", "@", "--input", "@"],
    "rank_genes": ["--input", "@", "--method", "wilcoxon", "--dataset", "d"],
    "biomarkers": [
        "--gene-scores", "@", "--curves", "@", "--rankings", "@", "--prepared", "@",
        "--dataset", "d",
    ],
}  # fmt: skip


def _command(step: str) -> click.Command:
    return importlib.import_module(f"genexai.cli.{step}").main


def _outputs(step: str) -> list[str]:
    """The output options of a step's command, in order (``--output`` first)."""
    return [p.opts[0] for p in _command(step).params if isinstance(p.type, _options.OutputPath)]


OUTPUTS = [pytest.param(step, option, id=f"{step}{option}") for step in REQUIRED
           for option in _outputs(step)]  # fmt: skip
PAIRS = [pytest.param(step, option, id=f"{step}{option}") for step in REQUIRED
         for option in _outputs(step)[1:]]  # fmt: skip


def _invoke(step: str, tmp_path: Path, **targets: Path):
    """Run the command with every output in ``tmp_path/out`` except ``targets``."""
    data = tmp_path / "in.dat"
    data.touch()
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    args = [str(data) if arg == "@" else arg for arg in REQUIRED[step]]
    for option in _outputs(step):
        target = targets.get(option, out / f"{option.lstrip('-')}.out")
        args += [option, str(target)]
    return CliRunner().invoke(_command(step), args)


def _refused(result, step: str, option: str) -> str:
    """The one line of a refusal, with exit code 2 and no traceback."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: {_command(step).step}: {option}: "), lines[0]
    return lines[0]


def test_every_step_with_outputs_is_covered():
    for step in genexai.STEPS:
        assert (step in REQUIRED) == bool(_outputs(step)), step
    assert _outputs("evaluate")[0] == "--output" and len(_outputs("evaluate")) == 5


@pytest.mark.parametrize(("step", "option"), OUTPUTS)
def test_missing_folder(step, option, tmp_path):
    target = tmp_path / "no" / "x.out"
    line = _refused(_invoke(step, tmp_path, **{option: target}), step, option)
    assert line.endswith(f"{target}: output folder {target.parent} does not exist")
    assert not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(("step", "option"), OUTPUTS)
def test_folder(step, option, tmp_path):
    target = tmp_path / "folder"
    target.mkdir()
    line = _refused(_invoke(step, tmp_path, **{option: target}), step, option)
    assert line.endswith(f"{target} is a folder, expected a file")
    assert target.is_dir() and not any(target.iterdir())
    assert not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(("step", "option"), OUTPUTS)
def test_fifo_is_refused_and_kept(step, option, tmp_path):
    target = tmp_path / "x.fifo"
    os.mkfifo(target)
    line = _refused(_invoke(step, tmp_path, **{option: target}), step, option)
    assert f"{target} is not a regular file" in line
    assert stat.S_ISFIFO(target.lstat().st_mode)
    assert not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(("step", "option"), OUTPUTS)
def test_link_to_dev_null_is_refused_and_kept(step, option, tmp_path):
    """``--curves /dev/null`` must not replace /dev/null: tested through a link to it."""
    target = tmp_path / "null.out"
    target.symlink_to(os.devnull)
    line = _refused(_invoke(step, tmp_path, **{option: target}), step, option)
    assert f"{target} is not a regular file" in line
    assert target.is_symlink() and os.readlink(target) == os.devnull
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(("step", "option"), OUTPUTS)
def test_read_only_folder(step, option, tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    # os.access, not chmod: root may write in a read-only folder
    monkeypatch.setattr(_options.os, "access", lambda path, mode: Path(path) != folder)
    line = _refused(_invoke(step, tmp_path, **{option: folder / "x.out"}), step, option)
    assert line.endswith(f"output folder {folder} is not writable")
    assert not any(folder.iterdir()) and not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(("step", "option"), PAIRS)
def test_two_outputs_at_one_path(step, option, tmp_path):
    same = tmp_path / "out" / "output.out"
    line = _refused(_invoke(step, tmp_path, **{option: same}), step, option)
    assert line.endswith(f"must differ from --output, both are {same}")
    assert not any((tmp_path / "out").iterdir())


def test_outputs_are_checked_in_a_real_process(tmp_path, run_script):
    """bin/evaluate.py --curves <FIFO>: one line on stderr, exit 2, nothing written."""
    data = tmp_path / "in.dat"
    data.touch()
    fifo = tmp_path / "c.fifo"
    os.mkfifo(fifo)
    args = [str(data) if arg == "@" else arg for arg in REQUIRED["evaluate"]]
    for option in _outputs("evaluate"):
        args += [option, str(fifo if option == "--curves" else tmp_path / f"{option[2:]}.out")]
    done = run_script("evaluate", *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"Error: evaluate: --curves: {fifo} is not a regular file (a device, FIFO or socket); "
        "not replacing it"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.fifo", "in.dat"]


# genexai.io: the atomic writes under every command ---------------------------------


@pytest.mark.parametrize("kind", ["fifo", "dev_null_link", "folder"])
def test_atomic_path_refuses_what_is_not_a_regular_file(tmp_path, kind):
    target = tmp_path / "target"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    else:
        target.symlink_to(os.devnull)
    with pytest.raises(InputError, match="not a regular file") as info, io.atomic_path(target):
        pytest.fail("atomic_path yielded")
    assert str(info.value).startswith(f"{target}: ") and "\n" not in str(info.value)
    assert target.is_symlink() if kind == "dev_null_link" else target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target"]


def test_atomic_paths_renames_every_output_at_the_end(tmp_path):
    paths = [tmp_path / "a.tsv", tmp_path / "b.tsv"]
    with io.atomic_paths(*paths) as tmps:
        assert len(tmps) == 2 and all(t.parent == tmp_path for t in tmps)
        for tmp, text in zip(tmps, "ab", strict=True):
            tmp.write_text(text)
        assert not any(p.exists() for p in paths)
    assert [p.read_text() for p in paths] == ["a", "b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tsv", "b.tsv"]


def test_atomic_paths_writes_nothing_when_a_later_output_fails(tmp_path):
    first, second = tmp_path / "a.tsv", tmp_path / "b.tsv"
    first.write_text("old")
    with pytest.raises(RuntimeError), io.atomic_paths(first, second) as (a, b):
        a.write_text("new")
        b.write_text("half")
        raise RuntimeError
    assert first.read_text() == "old" and not second.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tsv"]


def test_atomic_paths_refuses_a_missing_folder_before_writing(tmp_path):
    with (
        pytest.raises(InputError, match="does not exist"),
        io.atomic_paths(tmp_path / "a.tsv", tmp_path / "no" / "b.tsv"),
    ):
        pytest.fail("atomic_paths yielded")
    assert list(tmp_path.iterdir()) == []
