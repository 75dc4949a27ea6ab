"""File names never reach a shell; results respect the user's umask."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from .conftest import Run, run_nextflow

pytestmark = pytest.mark.pipeline
ODD_NAME = "my data $(touch pwned) 'q' ü.h5ad"


def test_odd_input_file_name(tmp_path: Path, test_run: Run) -> None:
    data_dir = tmp_path / "in $(touch pwned2) dir"
    data_dir.mkdir()
    odd = data_dir / ODD_NAME
    shutil.copy(test_run.outdir / "simulate" / "test.simulated.h5ad", odd)
    launch = tmp_path / "launch"
    run = run_nextflow(launch, "-profile", "test,local", "--input", str(odd),
                       "--label_key", "label", "--models", "LR", "--seeds", "1")
    assert run.returncode == 0, run.output[-5000:]
    assert not list(tmp_path.rglob("pwned*")), "a file name was executed by a shell"
    assert (run.outdir / "summary" / "metrics.tsv").is_file()
    names = {p.name for p in (run.outdir / "prepare").iterdir()}
    assert names == {"my_data_touch_pwned_q.prepared.h5ad", "my_data_touch_pwned_q.prepare.tsv"}


def test_results_are_not_world_writable(test_run: Run) -> None:
    for path in test_run.outdir.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert not mode & stat.S_IWOTH, path
        if path.is_file():
            umask = os.umask(0)
            os.umask(umask)
            assert not mode & umask & 0o777, (path, oct(mode), oct(umask))
