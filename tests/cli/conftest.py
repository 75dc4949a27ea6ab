"""What the command-line tests share: the step commands and the bin scripts.

A step's click command is ``genexai.cli.<step>.main`` (tests import it, or
take it from the ``command`` fixture); ``bin/<step>.py`` is the script the
pipeline runs, run here as a program by ``run_script``.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest

TESTS = Path(__file__).resolve().parents[1]
BIN = TESTS.parent / "bin"


def script_path(step: str) -> Path:
    """``bin/<step>.py``."""
    return BIN / f"{step}.py"


def script_env() -> dict[str, str]:
    """The environment of a script run: this interpreter first on PATH (the
    shebang's ``python3``), then ``bin/`` (as Nextflow does)."""
    path = os.pathsep.join([str(Path(sys.executable).parent), str(BIN), os.environ["PATH"]])
    return {**os.environ, "PATH": path}


@pytest.fixture(scope="session")
def command() -> Callable[[str], click.Command]:
    """``command("train")``: the click command of a step, ``genexai.cli.train.main``."""
    return lambda step: importlib.import_module(f"genexai.cli.{step}").main


@pytest.fixture(scope="session")
def script() -> Callable[[str], Path]:
    """``script("train")``: the path of ``bin/train.py``."""
    return script_path


@pytest.fixture(scope="session")
def run_script() -> Callable[..., subprocess.CompletedProcess]:
    """``run_script("train", *args, cwd=None, env=None)``: ``bin/train.py`` run as a
    program (through its shebang), ``env`` added to the environment, output
    captured as text, never raising on failure."""

    def run(
        step: str,
        *args: str | os.PathLike,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(script_path(step)), *map(str, args)],
            capture_output=True,
            text=True,
            env={**script_env(), **(env or {})},
            cwd=cwd,
            timeout=300,
            check=False,
        )

    return run
