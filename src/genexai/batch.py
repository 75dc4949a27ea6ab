"""Run one ``bin/`` step several times in one Python process.

Usage: ``python3 -m genexai.batch <script> < argument-lines``: each line of
standard input holds one invocation's arguments (shell quoting, as
:func:`shlex.split` reads it); the script's click command runs once per
line, in order, and the first failure ends the batch with its exit code.

Why: a step's own work on a small model (one seed of LR on SimuA) is a few
seconds, and starting Python with torch, anndata and scikit-learn costs
2–3 s of CPU per process. ``--seeds_per_task`` puts several seeds of one
dataset × model in one task (docs/benchmarks.md, the paper profile). Each
invocation seeds its own randomness (every step takes ``--seed``), so the
results equal those of separate processes. The prepared file that every
run reads is read once and copied to each run.
"""

from __future__ import annotations

import os
import runpy
import shlex
import shutil
import sys
from pathlib import Path

import click

from . import io


def load_command(script: str) -> click.Command:
    """The click command ``main`` of a ``bin/`` script, by path or name on PATH."""
    path = Path(script) if os.sep in script else shutil.which(script)
    if path is None or not Path(path).is_file():
        msg = f"genexai.batch: script not found: {script!r}"
        raise SystemExit(msg)
    command = runpy.run_path(str(path), run_name="genexai_batch").get("main")
    if not isinstance(command, click.Command):
        msg = f"genexai.batch: {script} defines no click command 'main'"
        raise SystemExit(msg)
    return command


def shared_files(runs: list[list[str]]) -> set[str]:
    """Arguments naming an ``.h5ad`` file that every run has (the prepared file)."""
    common = set.intersection(*(set(args) for args in runs)) if runs else set()
    return {arg for arg in common if arg.endswith(".h5ad") and Path(arg).is_file()}


def run_lines(command: click.Command, lines: list[str], *, prog: str) -> int:
    """Invoke ``command`` once per non-blank line; 0, or the first failure's exit code.

    A ``.h5ad`` file that every line names is read once (:func:`genexai.io.share_reads`).
    """
    runs = [shlex.split(line) for line in lines if line.strip()]
    if len(runs) > 1:
        io.share_reads(shared_files(runs))
    for args in runs:
        try:
            command.main(args, prog_name=prog, standalone_mode=True)
        except SystemExit as exc:
            if exc.code not in (0, None):
                return exc.code if isinstance(exc.code, int) else 1
    return 0


def main() -> None:
    if len(sys.argv) != 2:  # noqa: PLR2004
        sys.exit("usage: python3 -m genexai.batch <script> < argument-lines")
    script = sys.argv[1]
    sys.exit(run_lines(load_command(script), sys.stdin.read().splitlines(), prog=script))


if __name__ == "__main__":
    main()
