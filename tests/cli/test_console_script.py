"""The ``genexai`` console script (a subcommand per step), the thin bin/ scripts, and
fast answers: ``--help`` and usage errors load no step module (issue 22)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import genexai
from genexai import cli, io

STEPS = list(genexai.STEPS)
#: Subcommand names: the step's, with a dash (``import-data``).
NAMES = [step.replace("_", "-") for step in STEPS]
GENEXAI = Path(sys.executable).parent / "genexai"


def test_help_lists_every_step():
    result = CliRunner().invoke(cli.main, ["--help"])
    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:")[1].split()
    assert [word for word in listed if word in NAMES] == NAMES


@pytest.mark.parametrize("step", STEPS)
def test_each_subcommand_is_the_step_command(step, command):
    name = step.replace("_", "-")
    assert cli.main.get_command(None, name) is command(step)
    result = CliRunner().invoke(cli.main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: genexai {name} [OPTIONS]")
    assert command(step).help.splitlines()[0] in result.output


def test_import_data_also_answers_with_an_underscore(command):
    assert cli.main.get_command(None, "import_data") is command("import_data")


def test_unknown_subcommand_is_a_usage_error():
    result = CliRunner().invoke(cli.main, ["fit"])
    assert result.exit_code == 2 and "No such command 'fit'" in result.output


def test_version():
    result = CliRunner().invoke(cli.main, ["--version"])
    assert result.exit_code == 0 and result.output == f"genexai, version {genexai.__version__}\n"


def test_the_entry_point_is_installed():
    (point,) = entry_points(group="console_scripts", name="genexai")
    assert point.value == "genexai.cli:main"
    assert GENEXAI.is_file() and os.access(GENEXAI, os.X_OK), "run make setup"
    done = subprocess.run([GENEXAI, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert all(name in done.stdout for name in NAMES)


def test_a_subcommand_run_equals_the_script_run(tmp_path, run_script):
    """``genexai simulate ...`` and ``bin/simulate.py ...``: same file, same error."""
    args = ["--config", "test", "--n-samples", "12", "--seed", "2", "--output"]
    done = subprocess.run(
        [GENEXAI, "simulate", *args, tmp_path / "a.h5ad"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert run_script("simulate", *args, tmp_path / "b.h5ad").returncode == 0
    a, b = io.read_h5ad(tmp_path / "a.h5ad"), io.read_h5ad(tmp_path / "b.h5ad")
    np.testing.assert_array_equal(a.X, b.X)
    pd.testing.assert_frame_equal(a.obs, b.obs)
    bad = ["--config", "SIMU9", "--output", tmp_path / "c.h5ad"]
    failed = subprocess.run([GENEXAI, "simulate", *bad], capture_output=True, text=True)
    assert failed.returncode == 2
    assert failed.stderr == run_script("simulate", *bad).stderr
    assert failed.stderr.startswith("Error: simulate: name: expected a configuration")
    assert not (tmp_path / "c.h5ad").exists()


@pytest.mark.parametrize("step", STEPS)
def test_the_bin_script_is_thin(step, script):
    """Shebang, exec bit, and the command imported from the package, nothing else."""
    path = script(step)
    assert os.access(path, os.X_OK)
    lines = path.read_text().splitlines()
    assert lines[0] == "#!/usr/bin/env python3"
    code = [line for line in lines[lines.index('"""', 2) + 1 :] if line.strip()]
    assert code == [
        f"from genexai.cli.{step} import main",
        'if __name__ == "__main__":',
        "    main()",
    ]


#: What must not load for --help or a usage error: the step modules and what they import.
HEAVY = ["torch", "anndata", "pandas", "sklearn", "numba", "h5py", "genexai.io"]
#: In a fresh interpreter: --help of genexai and of every subcommand, then a usage
#: error of every subcommand (no options), and the modules they loaded.
PROBE = """
import json, sys
from genexai.cli import main
codes = []
for args in [["--help"], *([name, "--help"] for name in NAMES), *([name] for name in NAMES)]:
    try:
        codes.append(main(args, standalone_mode=False))
    except Exception as exc:
        codes.append(type(exc).__name__)
print(json.dumps({"codes": codes, "loaded": [m for m in HEAVY if m in sys.modules]}))
"""


def test_help_and_usage_errors_load_no_step():
    code = f"NAMES = {NAMES!r}\nHEAVY = {HEAVY!r}\n{PROBE}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert probe["loaded"] == []
    n = len(NAMES)
    # --help exits 0; a command without its required options is a usage error
    # (report needs --results-dir).
    assert probe["codes"] == [0] * (1 + n) + ["MissingParameter"] * n
