#!/usr/bin/env python3
"""Benchmark REPORT: read every run's files, summarise, render and write the report.

Inputs are synthetic files in the schemas REPORT reads (the writer of
tests/helpers/report.py), at the size of a full pipeline run by default:
2 SIMU1-sized datasets (33 classes, 9900 samples, 15000 genes) × 5 models ×
10 seeds, 100 top genes per class.

    .venv/bin/python bench/bench_report.py [--datasets 2 --models 5 --seeds 10 ...]
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genexai.report import collect_results, summary_tables, write_report
from genexai.report._render import REPORT_PATH
from tests.helpers.report import write_synthetic_results


@click.command(context_settings={"show_default": True})
@click.option("--datasets", type=click.IntRange(min=1), default=2, help="Simulated datasets.")
@click.option("--models", type=click.IntRange(min=1), default=5, help="Models per dataset.")
@click.option("--seeds", type=click.IntRange(min=1), default=10, help="Seeds per model.")
@click.option("--genes", type=click.IntRange(min=10), default=15000, help="Genes.")
@click.option("--samples", type=click.IntRange(min=3), default=9900, help="Samples per dataset.")
@click.option("--classes", type=click.IntRange(min=2), default=33, help="Classes.")
@click.option("--top", type=click.IntRange(min=1), default=100, help="Top genes per class.")
@click.option("--repeats", type=click.IntRange(min=1), default=3, help="Timed repeats (best kept).")
def main(
    *,
    datasets: int,
    models: int,
    seeds: int,
    genes: int,
    samples: int,
    classes: int,
    top: int,
    repeats: int,
) -> None:
    """Print the time of each REPORT stage and the size of the report."""
    with tempfile.TemporaryDirectory(prefix="bench_report_") as tmp:
        folder = Path(tmp) / "collected"
        start = time.perf_counter()
        write_synthetic_results(
            folder,
            datasets=tuple(f"SIMU{i + 1}" for i in range(datasets)),
            models=tuple(f"model{i}" for i in range(models)),
            seeds=tuple(range(seeds)),
            n_genes=genes,
            n_samples=samples,
            n_classes=classes,
            n_top=top,
        )
        n_files = len(list(folder.iterdir()))
        print(f"inputs: {n_files} files, written in {time.perf_counter() - start:.1f} s")
        timings: dict[str, list[float]] = {"collect": [], "summary": [], "write": []}
        for repeat in range(repeats):
            start = time.perf_counter()
            results = collect_results(folder)
            timings["collect"].append(time.perf_counter() - start)
            start = time.perf_counter()
            summary_tables(results)
            timings["summary"].append(time.perf_counter() - start)
            start = time.perf_counter()
            write_report(results, Path(tmp) / f"out{repeat}", params={}, versions="")
            timings["write"].append(time.perf_counter() - start)
        rows = {name: len(getattr(results, name)) for name in ("metrics", "curves", "top_genes")}
        print(f"rows: {rows}, explained examples: {len(results.completeness)}")
        for stage, values in timings.items():
            print(f"{stage:>8}: {min(values):7.2f} s (best of {repeats})")
        print("   write = summary tables + figures + HTML + atomic writes")
        size = (Path(tmp) / "out0" / REPORT_PATH).stat().st_size
        print(f"report.html: {size / 2**20:.2f} MiB")
        script = Path(__file__).resolve().parents[1] / "bin" / "report.py"
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, str(script), "--results-dir", str(folder), "--outdir", tmp],
            check=True,
        )
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**10
        elapsed = time.perf_counter() - start
        print(f"bin/report.py end to end: {elapsed:.2f} s, peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
