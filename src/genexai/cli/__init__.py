"""The command line: one click command per pipeline step, and the ``genexai`` command.

``genexai.cli.<step>.main`` is the step's command. Two ways run it, with the
same options and the same results:

- ``genexai <step> [OPTIONS]``, the console script (``pip install`` puts it
  on PATH): ``genexai simulate``, ``genexai import-data``, ``genexai prepare``,
  ``genexai rank-genes``, ``genexai graph``, ``genexai train``, ``genexai attribute``,
  ``genexai evaluate``, ``genexai stability``, ``genexai biomarkers``,
  ``genexai report``
  (``import_data`` is accepted for ``import-data``);
- ``bin/<step>.py [OPTIONS]``, the thin script the pipeline calls (Nextflow
  puts ``bin/`` on the tasks' PATH), and ``python3 -m genexai.batch <step>.py``.

Each command module imports only click and :mod:`genexai._defaults` at the
top; the step's module (and numpy, torch, anndata) loads in the command
body, so ``--help`` and usage errors answer at once. The shared options,
output checks and error handling are in :mod:`genexai.cli._options`.
"""

from __future__ import annotations

import importlib

import click

from .. import STEPS, __version__
from ._options import CONTEXT


def module_name(command: str) -> str | None:
    """The step module under ``genexai.cli`` of a subcommand name, or None."""
    name = command.replace("-", "_")
    return name if name in STEPS else None


class Steps(click.Group):
    """The step commands, each imported when it is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [step.replace("_", "-") for step in STEPS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        name = module_name(cmd_name)
        return None if name is None else importlib.import_module(f"{__name__}.{name}").main


@click.group("genexai", cls=Steps, context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="genexai")
def main() -> None:
    """genexai: evaluate gene-expression classifiers' explanations (Bontonou et al. 2023).

    One subcommand per step of the pipeline, the same command as
    bin/<step>.py; `genexai <step> --help` lists its options.
    """
