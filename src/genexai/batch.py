"""Run one step's command several times in one Python process.

Usage: ``python3 -m genexai.batch <step>.py <run> [<run> ...]``: each ``<run>``
is one invocation's arguments as a JSON list of strings (one element, one
argv word; ``'["--seed", "1"]'``); the script's click command runs once per
run, in order, and the first failure ends the batch with its exit code.
``<step>.py`` names the script (``train.py``, as in ``bin/``); the command
run is the one that script runs, ``genexai.cli.<step>.main``.

The modules write each run as one single-quoted shell word
(``batchRuns`` in ``subworkflows/local/utils_genexai``), so the arguments are
data end to end: no shell parsing, no here-document, nothing in a value
(quotes, ``$( )``, newlines) can end the word or run a command.

Why: a step's own work on a small model (one seed of LR on SimuA) is a few
seconds, and starting Python with torch, anndata and scikit-learn costs
2–3 s of CPU per process. ``--seeds_per_task`` puts several seeds of one
dataset × model in one task (docs/benchmarks.md, the paper profile). Each
invocation seeds its own randomness (every step takes ``--seed``), so the
results equal those of separate processes. The prepared file that every
run reads is read once and copied to each run.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import click

from . import STEPS, io


def load_command(script: str) -> click.Command:
    """The click command of a step's script, ``<step>.py`` (as the modules name it)
    or a path to one: ``genexai.cli.<step>.main``, the command ``bin/<step>.py`` runs."""
    step = Path(script).name.removesuffix(".py")
    if step not in STEPS:
        known = ", ".join(f"{name}.py" for name in STEPS)
        msg = f"genexai.batch: unknown step script {script!r} (expected one of {known})"
        raise SystemExit(msg)
    return importlib.import_module(f"genexai.cli.{step}").main


def shared_files(runs: list[list[str]]) -> set[str]:
    """Arguments naming an ``.h5ad`` file that every run has (the prepared file)."""
    common = set.intersection(*(set(args) for args in runs)) if runs else set()
    return {arg for arg in common if arg.endswith(".h5ad") and Path(arg).is_file()}


def parse_runs(words: list[str]) -> list[list[str]]:
    """Each word a JSON list of strings: one run's arguments."""
    runs = []
    for i, word in enumerate(words, start=1):
        try:
            run = json.loads(word)
        except json.JSONDecodeError as exc:
            msg = f"genexai.batch: run {i}: not JSON ({exc})"
            raise SystemExit(msg) from None
        if not isinstance(run, list) or not all(isinstance(arg, str) for arg in run):
            msg = f"genexai.batch: run {i}: expected a JSON list of strings, found {word[:80]!r}"
            raise SystemExit(msg)
        runs.append(run)
    return runs


def run_all(command: click.Command, runs: list[list[str]], *, prog: str) -> int:
    """Invoke ``command`` once per run; 0, or the first failure's exit code.

    A ``.h5ad`` file that every run names is read once (:func:`genexai.io.share_reads`).
    """
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
    if len(sys.argv) < 3:
        sys.exit("usage: python3 -m genexai.batch <script> <run>... (each a JSON list of strings)")
    script, words = sys.argv[1], sys.argv[2:]
    runs = parse_runs(words)
    sys.exit(run_all(load_command(script), runs, prog=script))


if __name__ == "__main__":
    main()
