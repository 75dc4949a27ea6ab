"""Benchmark: the gap-curve kernel on one shared order, an older commit against this tree.

One SIMU1-sized shared order (15,000 genes, 33 classes, gap 10; MLP with 20
hidden units) over ``--n-obs`` examples, random float32 inputs and weights,
the compiled kernel (:func:`genexai.metrics._kernels.gap_curves_kernel`)
called directly, single-threaded. The older kernel is the file
``src/genexai/metrics/_kernels.py`` at ``--old``, imported from a temporary
copy. Prints the best of ``--repeats`` timings of each, the ratio, and how
the curves compare: the share of values that are bit-identical and the
largest absolute difference.

Usage::

    python bench/bench_gap_kernel.py --old c265f8d [--n-obs 3600] [--repeats 3]
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import click  # after the thread setting
import numpy as np

from genexai.metrics import _kernels

REPO = Path(__file__).resolve().parents[1]
N_GENES, N_CLASSES, N_HIDDEN, GAP = 15_000, 33, 20, 10


def old_kernels(ref: str):
    """The kernels module as it was at git commit ``ref``."""
    text = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{ref}:src/genexai/metrics/_kernels.py"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "old_kernels.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("old_kernels", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def inputs(*, mlp: bool, n_obs: int, seed: int = 0) -> tuple:
    """The kernel's arguments for one shared order, ``out`` last."""
    rng = np.random.default_rng(seed)
    hidden = N_HIDDEN if mlp else N_CLASSES
    x = rng.standard_normal((n_obs, N_GENES), dtype=np.float32)
    baseline = 0.1 * rng.standard_normal(N_GENES, dtype=np.float32)
    weight_t = 0.02 * rng.standard_normal((N_GENES, hidden), dtype=np.float32)
    z0 = x @ weight_t
    if mlp:
        scale = rng.uniform(0.5, 1.5, hidden).astype(np.float32)
        shift = 0.1 * rng.standard_normal(hidden, dtype=np.float32)
        head_weight_t = rng.standard_normal((hidden, N_CLASSES), dtype=np.float32)
        head_bias = 0.1 * rng.standard_normal(N_CLASSES, dtype=np.float32)
    else:
        scale = shift = head_bias = np.zeros(0, np.float32)
        head_weight_t = np.zeros((0, N_CLASSES), np.float32)
    order = rng.permutation(N_GENES)[None]
    target = rng.integers(0, N_CLASSES, n_obs)
    in_order = np.ascontiguousarray(weight_t[order[0]])  # as prediction_gaps passes it
    out = np.empty((n_obs, N_GENES // GAP), np.float32)
    return (x, baseline, z0, in_order, order, target, GAP, mlp, scale, shift, head_weight_t,
            head_bias, out)  # fmt: skip


def best_of(kernel, args: tuple, repeats: int) -> float:
    kernel(*args)  # compiles, or loads numba's cache
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        kernel(*args)
        times.append(time.perf_counter() - start)
    return min(times)


@click.command()
@click.option("--old", required=True, help="Git commit of the older kernel.")
@click.option("--n-obs", default=3600, show_default=True)
@click.option("--repeats", default=3, show_default=True)
def main(old: str, n_obs: int, repeats: int) -> None:
    before = old_kernels(old)
    print(f"{os.cpu_count()} CPUs, numba threads {os.environ['NUMBA_NUM_THREADS']}")
    for arch, mlp in (("LR", False), ("MLP", True)):
        args = inputs(mlp=mlp, n_obs=n_obs)
        t_old = best_of(before.gap_curves_kernel, args, repeats)
        want = args[-1].copy()
        t_new = best_of(_kernels.gap_curves_kernel, args, repeats)
        got = args[-1]
        same = float(np.mean(got == want))
        diff = float(np.abs(got.astype(np.float64) - want).max())
        print(
            f"{arch}: old {t_old:.3f} s, new {t_new:.3f} s, old/new {t_old / t_new:.2f}; "
            f"{100 * same:.1f} % of values bit-identical, largest difference {diff:.1e}"
        )


if __name__ == "__main__":
    sys.exit(main())
