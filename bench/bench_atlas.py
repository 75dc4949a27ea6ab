"""Benchmark: the pipeline end to end on a sparse single-cell atlas (issue 18).

Simulates (once, in ``--workdir``) the ``SingleCell`` configuration at
``--n-cells`` cells × 20,000 genes (about 5 % non-zero, written in chunks by
``bin/simulate.py``), then runs the real pipeline on it, LR and MLP with one
seed, and prints one row per task from the Nextflow trace: wall time
(``realtime``), peak RSS and CPU, then the run's wall time from start to
end. The explained test examples are capped per class
(``--max_explained_per_class``), so ATTRIBUTE and EVALUATE do not grow
with the cells; every other step reads every cell. With
``--max-task-rss-gib`` it exits 1 when a task's peak RSS went above that
bound (the atlas-size memory check, kept out of ``make test`` for its time).

Usage::

    python bench/bench_atlas.py [--n-cells 200000] [--max-explained-per-class 50] \\
        [--methods integrated_gradients,wilcoxon] [--max-task-rss-gib 1.5] [--workdir /tmp/atlas] \\
        [-- extra nextflow args]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNITS = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}


def simulate(path: Path, n_cells: int, seed: int) -> None:
    """Write the SingleCell simulation of ``n_cells`` cells (streamed, bounded memory)."""
    command = [
        sys.executable,
        str(ROOT / "bin" / "simulate.py"),
        "--config",
        "SingleCell",
        "--n-samples",
        str(n_cells),
        "--seed",
        str(seed),
        "--threads",
        "2",
        "--output",
        str(path),
    ]
    subprocess.run(command, check=True)


def _bytes(text: str) -> float:
    """Bytes of a trace size such as ``1.2 GB`` (``-`` is 0)."""
    match = re.fullmatch(r"([\d.]+)\s*([KMGT]?B)", text.strip())
    return float(match[1]) * UNITS[match[2]] if match else 0.0


def _seconds(text: str) -> float:
    """Seconds of a trace duration such as ``1m 2s`` or ``350ms``."""
    total = 0.0
    for value, unit in re.findall(r"([\d.]+)(ms|s|m|h|d)", text):
        total += float(value) * {"ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    return total


def trace_rows(outdir: Path) -> list[dict[str, str]]:
    """The rows of the newest execution trace under ``outdir/pipeline_info``."""
    traces = sorted((outdir / "pipeline_info").glob("execution_trace_*.txt"))
    with traces[-1].open() as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-cells", type=int, default=200_000)
    parser.add_argument("--input", type=Path, help="an existing SingleCell .h5ad to use instead")
    parser.add_argument("--max-explained-per-class", type=int, default=50)
    parser.add_argument("--methods", default="integrated_gradients,wilcoxon")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--max-task-rss-gib", type=float, help="fail when a task's peak RSS exceeds this"
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/atlas"))
    parser.add_argument("nextflow_args", nargs="*", help="passed to nextflow run (after --)")
    args = parser.parse_args()

    args.workdir.mkdir(parents=True, exist_ok=True)
    data = args.input or args.workdir / f"singlecell_{args.n_cells}.h5ad"
    if not data.exists():
        simulate(data, args.n_cells, args.seed)
    outdir = args.workdir / f"results_{data.stem}"
    command = [
        str(ROOT / "scripts" / "nextflow"),
        "run",
        str(ROOT),
        "-profile",
        "local",
        "--input",
        str(data),
        "--label_key",
        "label",
        "--models",
        "LR,MLP",
        "--seeds",
        str(args.seed),
        "--methods",
        args.methods,
        "--max_explained_per_class",
        str(args.max_explained_per_class),
        "--outdir",
        str(outdir),
        "-w",
        str(args.workdir / "work"),
        *args.nextflow_args,
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=args.workdir)
    wall = time.perf_counter() - start

    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores; {data.name}")
    print("| task | wall | peak RSS | CPU |")
    print("|---|---|---|---|")
    peak = 0.0
    for row in trace_rows(outdir):
        rss = _bytes(row.get("peak_rss", "-"))
        peak = max(peak, rss)
        print(
            f"| {row['name']} | {_seconds(row['realtime']):.0f} s | {rss / (1 << 30):.2f} GiB "
            f"| {row.get('%cpu', '-')} |"
        )
    print(f"\nend to end: {wall / 60:.1f} min wall; largest peak RSS {peak / (1 << 30):.2f} GiB")
    if args.max_task_rss_gib is not None and peak > args.max_task_rss_gib * (1 << 30):
        sys.exit(
            f"bench_atlas: a task peaked at {peak / (1 << 30):.2f} GiB, "
            f"above --max-task-rss-gib {args.max_task_rss_gib}"
        )


if __name__ == "__main__":
    main()
