"""Benchmark: a reduced paper grid, an older commit against the working tree.

The paper profile on SIMU1 and SimuB x LR and MLP x seeds 1-2 (two seeds per
task): every step of ``make paper`` at full dataset size, in about 9 minutes
on 2 cores. The older code runs from a ``git worktree`` of ``--old`` (the
working tree's ``.venv`` and Nextflow engine, its own ``src/`` first on
``PYTHONPATH``), the two alternating, old first, so that both see the same
drift of a shared machine. Per run it prints the wall time and the CPU
minutes of each process (from the trace), then the ratios old/new, and
compares the runs' ``summary/metrics.tsv``: same rows, NaN in the same
places, and the largest relative difference of the values.

Usage::

    python bench/bench_grid.py --old HEAD~1 [--pairs 2] [--workdir /tmp/genexai-grid]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import click
import numpy as np
import pandas as pd
from paper_results import trace_summary

REPO = Path(__file__).resolve().parents[1]
GRID = (
    "-profile", "paper,local", "--simulate", "SIMU1,SimuB", "--models", "LR,MLP",
    "--seeds", "1-2", "--seeds_per_task", "2", "--skip_multiqc",
)  # fmt: skip


def cpu_minutes(outdir: Path) -> dict[str, float]:
    """CPU minutes per process (realtime x %cpu) from the run's newest trace."""
    trace = max((outdir / "pipeline_info").glob("execution_trace_*.txt"), key=os.path.getmtime)
    table, _ = trace_summary(pd.read_csv(trace, sep="\t"))
    return table["cpu_min"].drop("**all**").to_dict()


def run_grid(project: Path, launch: Path, env: dict[str, str]) -> tuple[float, dict[str, float]]:
    """One grid run of ``project`` in ``launch``: wall seconds and CPU minutes per process."""
    launch.mkdir(parents=True)
    cmd = [str(REPO / "scripts" / "nextflow"), "run", str(project), *GRID, "--outdir", "results"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=launch, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"{project}: the grid run failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return wall, cpu_minutes(launch / "results")


def compare(old: Path, new: Path) -> str:
    """How the new run's metrics.tsv differs from the old one's."""
    a, b = (pd.read_csv(p / "results" / "summary" / "metrics.tsv", sep="\t") for p in (old, new))
    index = [c for c in a.columns if c != "value"]
    if not a[index].equals(b[index]):
        return "metrics.tsv: the rows differ"
    va, vb = a["value"].to_numpy(), b["value"].to_numpy()
    if not np.array_equal(np.isnan(va), np.isnan(vb)):
        return "metrics.tsv: NaN in different places"
    ok = ~np.isnan(va) & (va != 0)
    rel = np.abs(vb[ok] - va[ok]) / np.abs(va[ok])
    moved = a.loc[ok].loc[rel > 0, "metric"].value_counts().to_dict()
    return (
        f"metrics.tsv: {len(a)} rows, {int((rel > 0).sum())} values moved "
        f"(largest relative difference {rel.max():.2e}; {moved})"
    )


@click.command()
@click.option("--old", required=True, help="Git commit of the older code.")
@click.option("--pairs", default=2, show_default=True, help="Old/new run pairs.")
@click.option(
    "--workdir", default="/tmp/genexai-grid", show_default=True, type=click.Path(path_type=Path)
)
def main(old: str, pairs: int, workdir: Path) -> None:
    if workdir.exists():
        sys.exit(f"--workdir: {workdir} exists; give a new folder")
    tree = workdir / "old-tree"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), old], check=True
    )
    for shared in (".venv", ".nf"):
        (tree / shared).symlink_to(REPO / shared)
    base = {**os.environ, "NXF_ANSI_LOG": "false"}
    envs = {"old": {**base, "PYTHONPATH": str(tree / "src")}, "new": base}
    projects = {"old": tree, "new": REPO}
    walls: dict[str, list[float]] = defaultdict(list)
    try:
        for i in range(pairs):
            for which in ("old", "new"):
                wall, cpu = run_grid(projects[which], workdir / f"{which}{i}", envs[which])
                walls[which].append(wall)
                summary = ", ".join(
                    f"{k} {v:.2f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1])
                )
                print(f"{which} run {i + 1}: {wall:.0f} s wall; CPU min: {summary}", flush=True)
    finally:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False
        )
    ratios = [o / n for o, n in zip(walls["old"], walls["new"], strict=True)]
    each = ", ".join(f"{r:.2f}" for r in ratios)
    print(f"wall old/new per pair: {each}; median {np.median(ratios):.2f}")
    print(compare(workdir / "old0", workdir / "new0"))


if __name__ == "__main__":
    main()
