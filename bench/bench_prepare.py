"""Benchmark IMPORT + PREPARE on a samples × genes counts TSV.

Usage::

    python bench/bench_prepare.py                                # 10,000 × 20,000 (the target)
    python bench/bench_prepare.py --n-samples 1000 --n-genes 5000

Writes a gamma-Poisson counts TSV and a labels TSV (not timed), then, each in
a fresh Python process so peak RSS is the step's own:

1. ``import_data`` + ``prepare`` in one process (the library, no ``.h5ad``
   I/O), then ``io.write_h5ad`` of the result, each timed;
2. ``bin/import_data.py`` then ``bin/prepare.py``, as the pipeline runs them
   (including the gzip ``.h5ad`` writes and reads between the two steps).

Prints wall and CPU seconds (CPU shows how much other jobs took) and peak
RSS as a multiple of the dense float32 matrix. Targets (issue 4): import +
prepare <= 60 s on 2 cores; peak memory <= 3x the dense float32 matrix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import numpy as np

BIN = Path(__file__).resolve().parents[1] / "bin"

#: A child that runs a bin script and reports its CPU time and peak RSS.
RUN_SCRIPT = """
import json, resource, runpy, sys, time
script, *args = sys.argv[1:]
sys.argv = [script, *args]
start = time.perf_counter()
try:
    runpy.run_path(script, run_name="__main__")
except SystemExit as exc:
    assert not exc.code, exc.code
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": time.perf_counter() - start, "cpu": usage.ru_utime + usage.ru_stime,
                  "rss": usage.ru_maxrss * 1024}), file=sys.stderr)
"""

#: A child that only imports what the steps import: the RSS floor.
RUN_IMPORTS = """
import json, resource, sys
import genexai.import_data, genexai.prepare, genexai.cli.import_data, genexai.cli.prepare
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"rss": rss}), file=sys.stderr)
"""

#: A child that times the library calls separately.
RUN_LIBRARY = """
import json, resource, sys, time
from genexai import io
from genexai.import_data import import_data
from genexai.prepare import prepare
matrix, labels, transform, out = sys.argv[1:]
times = {}
def timed(name, call):
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    times[name] = (time.perf_counter() - wall, time.process_time() - cpu)
    return result
imported = timed("import_data", lambda: import_data(matrix, format="table", labels=labels))
prepared = timed("prepare", lambda: prepare(imported, transform=transform, split="paper"))
rss_compute = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
timed("write_h5ad", lambda: io.write_h5ad(prepared, out))
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({**times, "rss_compute": rss_compute, "rss": rss}), file=sys.stderr)
"""


def write_counts(path: Path, n_samples: int, n_genes: int, *, seed: int) -> None:
    """A samples × genes TSV of gamma-Poisson counts (many zeros, up to 4095)."""
    rng = np.random.default_rng(seed)
    words = np.array([str(i) for i in range(4096)], dtype=object)
    means = rng.gamma(0.5, 200.0, size=n_genes)
    with open(path, "w") as f:
        f.write("sample\t" + "\t".join(f"G{j:05d}" for j in range(n_genes)) + "\n")
        for start in range(0, n_samples, 200):
            rows = rng.poisson(means, size=(min(200, n_samples - start), n_genes))
            f.writelines(
                f"S{start + i:05d}\t" + "\t".join(words[row]) + "\n"
                for i, row in enumerate(rows.clip(0, 4095))
            )


def child(code_or_script: str, *args: str) -> dict:
    command = [sys.executable, "-c", code_or_script, *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stderr.strip().splitlines()[-1])


@click.command()
@click.option("--n-samples", type=int, default=10_000, show_default=True)
@click.option("--n-genes", type=int, default=20_000, show_default=True)
@click.option("--n-classes", type=int, default=10, show_default=True)
@click.option("--transform", default="log2_zscore", show_default=True, help="PREPARE --transform.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--workdir", type=click.Path(file_okay=False, path_type=Path), help="Keep files here."
)
def main(
    *,
    n_samples: int,
    n_genes: int,
    n_classes: int,
    transform: str,
    seed: int,
    workdir: Path | None,
) -> None:
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        folder = Path(tmp)
        matrix, labels = folder / "counts.tsv", folder / "labels.tsv"
        start = time.perf_counter()
        write_counts(matrix, n_samples, n_genes, seed=seed)
        labels.write_text(
            "sample\tlabel\n" + "".join(f"S{i:05d}\tc{i % n_classes}\n" for i in range(n_samples))
        )
        dense = n_samples * n_genes * 4
        print(
            f"input: {n_samples} x {n_genes} counts TSV, {matrix.stat().st_size / 2**20:.0f} MiB "
            f"(written in {time.perf_counter() - start:.1f} s); dense float32 "
            f"{dense / 2**20:.0f} MiB; load average {os.getloadavg()[0]:.1f}"
        )

        floor = child(RUN_IMPORTS)["rss"]
        print(f"RSS after imports alone: {floor / 2**20:.0f} MiB")
        lib = child(RUN_LIBRARY, str(matrix), str(labels), transform, str(folder / "lib.h5ad"))
        for name in ("import_data", "prepare", "write_h5ad"):
            wall, cpu = lib[name]
            print(f"library {name}: {wall:.1f} s wall, {cpu:.1f} s CPU")
        wall, cpu = (lib["import_data"][i] + lib["prepare"][i] for i in (0, 1))
        print(
            f"library import_data + prepare({transform}): {wall:.1f} s wall, {cpu:.1f} s CPU; "
            f"peak RSS {lib['rss_compute'] / 2**20:.0f} MiB = {lib['rss_compute'] / dense:.2f}x "
            f"dense (after write_h5ad: {lib['rss'] / dense:.2f}x)"
        )

        steps = {
            "import_data.py": [
                *("--input", str(matrix), "--format", "table", "--labels", str(labels)),
                *("--output", str(folder / "imported.h5ad")),
            ],
            "prepare.py": [
                *("--input", str(folder / "imported.h5ad"), "--output", str(folder / "p.h5ad")),
                *("--transform", transform, "--split", "paper"),
            ],
        }
        total = 0.0
        for script, args in steps.items():
            run = child(RUN_SCRIPT, str(BIN / script), *args)
            total += run["wall"]
            print(
                f"bin/{script}: {run['wall']:.1f} s wall, {run['cpu']:.1f} s CPU, peak RSS "
                f"{run['rss'] / 2**20:.0f} MiB = {run['rss'] / dense:.2f}x dense"
            )
        print(f"IMPORT + PREPARE scripts: {total:.1f} s")


if __name__ == "__main__":
    main()
