"""What the step commands share: options, output checks, errors, logging, progress.

Library code never prints or exits; these helpers are where that happens.
Nothing here imports numpy, torch or anndata: a command's ``--help`` and its
usage errors answer before any step module loads.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import click

from ..errors import InputError

CONTEXT = {"show_default": True, "help_option_names": ["-h", "--help"]}


class StepError(click.ClickException):
    """A user error in a step: ``Error: <step>: <message>``, exit code 2."""

    exit_code = 2


@contextlib.contextmanager
def errors(step: str) -> Iterator[None]:
    """Turn :class:`InputError` into a one-line message and exit code 2.

    Any other exception keeps its traceback (exit code 1): it is a bug.
    """
    try:
        yield
    except InputError as exc:
        msg = f"{step}: {exc}"
        raise StepError(msg) from None


class OutputPath(click.ParamType):
    """A file the command writes. Checked, with the others, by :class:`StepCommand`."""

    name = "file"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        return value if isinstance(value, Path) else Path(os.fsdecode(value))


def check_output(path: Path, option: str) -> None:
    """Refuse an output that cannot be written, or that must not be replaced.

    The writes are atomic (a temporary file renamed over the target), so the
    target must be a regular file or nothing: a folder, a device, a FIFO or a
    socket is refused, never replaced. Its folder must exist and be writable.
    """
    folder = path.parent
    if path.is_dir():
        msg = f"{option}: {path} is a folder, expected a file"
        raise InputError(msg)
    if path.exists() and not path.is_file():
        msg = f"{option}: {path} is not a regular file (a device, FIFO or socket); not replacing it"
        raise InputError(msg)
    if not folder.is_dir():
        msg = f"{option}: {path}: output folder {folder} does not exist"
        raise InputError(msg)
    if not os.access(folder, os.W_OK | os.X_OK):
        msg = f"{option}: {path}: output folder {folder} is not writable"
        raise InputError(msg)


def check_outputs(ctx: click.Context) -> None:
    """:func:`check_output` on every :class:`OutputPath` option; no two at one path."""
    seen: dict[Path, str] = {}
    for param in ctx.command.params:
        path = ctx.params.get(param.name) if isinstance(param.type, OutputPath) else None
        if path is None:
            continue
        option = param.opts[0]
        check_output(path, option)
        other = seen.setdefault(path.resolve(), option)
        if other != option:
            msg = f"{option}: must differ from {other}, both are {path}"
            raise InputError(msg)


class StepCommand(click.Command):
    """A step's command: every output is checked before any work, and an
    :class:`InputError` anywhere becomes ``Error: <step>: <message>``, exit code 2."""

    def __init__(self, *args: Any, step: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.step = step

    def invoke(self, ctx: click.Context) -> Any:
        with errors(self.step):
            check_outputs(ctx)
            return super().invoke(ctx)


def command(name: str, *, step: str | None = None) -> Callable[[Callable], StepCommand]:
    """``@command("train")``: the click command of a step (``genexai train``,
    ``bin/train.py``); ``step`` (default: ``name``) prefixes its errors."""
    return click.command(name, cls=StepCommand, step=step or name, context_settings=CONTEXT)


def setup_logging(*, verbose: bool) -> None:
    """Route the package's logging to stderr (WARNING, or INFO when verbose)."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def set_threads(threads: int) -> None:
    """Use ``threads`` CPU threads in torch's intra-op pool (``torch.set_num_threads``).

    Only torch's: the BLAS and OpenMP pools behind numpy and scipy keep the
    sizes the environment gives them (``OMP_NUM_THREADS``,
    ``OPENBLAS_NUM_THREADS``; by default, every core). Limiting them here could
    change the order of float sums in numpy/scipy code, and so its outputs.
    """
    import torch

    torch.set_num_threads(threads)


def _duration(seconds: float) -> str:
    """``45s``, ``1m12s``, ``2h05m``: a duration for a log line (whole seconds)."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class ProgressLines:
    """Progress as plain lines, for a log (Nextflow's ``.command.err``).

    One line each time the work passes another tenth of ``total``, or when
    ``every_s`` seconds have gone by since the last line, whichever comes
    first; nothing at creation and nothing else. For example
    ``attribute SIMU1.MLP.1.attributions.h5ad: 40% (1584/3960 examples),
    1m12s elapsed, ~1m48s left``.

    Lines are written only from :meth:`update` (no thread): one update that
    takes longer than ``every_s`` shows as one late line. The time left is
    extrapolated from the pace since the first update, so the setup before
    the loop (reading, loading a model) does not inflate it. ``clock``
    returns seconds (:func:`time.monotonic`); the tests pass their own.
    """

    def __init__(
        self,
        total: int,
        desc: str,
        *,
        unit: str,
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        every_s: float = 30.0,
    ) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.stream, self.clock, self.every_s = stream, clock, every_s
        self.start = self.last = clock()
        self.done = 0
        self.tenths = 0  # tenths of ``total`` already reported
        self.first: tuple[float, int] | None = None  # (time, done) at the first update

    def update(self, n: int) -> None:
        """Count ``n`` more units done; write a line if one is due."""
        self.done += n
        now = self.clock()
        if self.first is None:
            self.first = (now, self.done)
        tenths = min(10, self.done * 10 // self.total) if self.total > 0 else 0
        if tenths > self.tenths or now - self.last >= self.every_s:
            self.tenths = max(tenths, self.tenths)
            self.last = now
            print(self.line(now), file=self.stream, flush=True)

    def line(self, now: float) -> str:
        """``<desc>: 40% (1584/3960 examples), 1m12s elapsed, ~1m48s left``."""
        elapsed = now - self.start
        done, total = self.done, self.total
        if self.unit == "bytes":  # file sizes read better in MB (kB for small files)
            scale, name = (1e6, "MB") if total >= 1e6 else (1e3, "kB")
            counts = f"{done / scale:.1f}/{total / scale:.1f} {name}"
        else:
            counts = f"{done}/{total} {self.unit}"
        percent = f"{min(100, 100 * done // total)}% " if total > 0 else ""
        text = f"{self.desc}: {percent}({counts}), {_duration(elapsed)} elapsed"
        if 0 < done < total:
            since, then = self.first if self.first and done > self.first[1] else (self.start, 0)
            text += f", ~{_duration((now - since) * (total - done) / (done - then))} left"
        return text


def progress(total: int, desc: str, *, unit: str) -> Callable[[int], Any]:
    """The ``progress`` callback of a long step: call it with the units just done.

    On a terminal, a tqdm bar on stderr. Otherwise (a Nextflow task, whose
    stderr is ``.command.err``; a pipe) plain lines, :class:`ProgressLines`,
    so a long task shows signs of life in its log. ``GENEXAI_PROGRESS=0``
    turns both off (scripts and tests that read stderr as one error line).
    ``unit`` names what ``total`` counts (``"examples"``; ``"bytes"`` shows MB).
    """
    if os.environ.get("GENEXAI_PROGRESS") == "0":
        return lambda n: None
    if sys.stderr.isatty():
        from tqdm.auto import tqdm

        units = {"unit": "B", "unit_scale": True} if unit == "bytes" else {"unit": f" {unit}"}
        bar = tqdm(total=total, desc=desc, file=sys.stderr, leave=False, **units)
        return bar.update
    return ProgressLines(total, desc, unit=unit, stream=sys.stderr).update


def input_option(**kwargs: Any) -> Callable:
    """``--input``: an existing file."""
    return click.option(
        "--input",
        "input_path",
        required=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        **{"help": "Input .h5ad file.", **kwargs},
    )


def output_option(*decls: str, **kwargs: Any) -> Callable:
    """An output file (default ``--output``), required unless ``required=False``.

    Written atomically; checked before any work (:class:`StepCommand`).
    """
    return click.option(
        *(decls or ("--output", "output_path")),
        type=OutputPath(),
        **{"required": True, "help": "Output file, written atomically.", **kwargs},
    )


def memory_option(func: Callable) -> Callable:
    """``--max-memory-gb``: refuse larger ``.h5ad`` inputs before loading them."""

    def apply(ctx: click.Context, param: click.Parameter, value: float | None) -> None:
        if value is None and "genexai.io._h5ad" not in sys.modules:
            return  # not loaded yet, so at its default: keep --help and usage errors fast
        from .. import io

        io.set_memory_limit(value)

    return click.option(
        "--max-memory-gb",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        envvar="GENEXAI_MAX_MEMORY_GB",
        expose_value=False,
        callback=apply,
        help="Refuse .h5ad inputs whose X needs more memory (GiB) [default: half the RAM].",
    )(func)


def common_options(func: Callable) -> Callable:
    """``--threads``, ``--verbose`` and ``--max-memory-gb``, shared by every step."""
    func = memory_option(func)
    func = click.option(
        "--threads",
        type=click.IntRange(min=1),
        default=1,
        envvar="GENEXAI_THREADS",
        help="CPU threads.",
    )(func)
    return click.option("--verbose", is_flag=True, help="Log progress details.")(func)


def positive_ints(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, ...]:
    """Click callback: ``"10,100"`` -> ``(10, 100)``; anything else is a BadParameter."""
    try:
        ints = tuple(int(v) for v in value.split(","))
    except ValueError:
        ints = ()
    if not ints or min(ints) < 1:
        msg = f"expected positive integers separated by commas, found {value!r}"
        raise click.BadParameter(msg)
    return ints


def seed_option(default: int = 0) -> Callable:
    """``--seed``: every random step takes one."""
    return click.option("--seed", type=click.IntRange(min=0), default=default, help="Random seed.")
