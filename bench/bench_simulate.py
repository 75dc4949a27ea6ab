"""Benchmark genexai.simulate against plain two-stage samplers, in one run.

Usage::

    python bench/bench_simulate.py --config SIMU1 --threads 2
    python bench/bench_simulate.py --config SimuA --threads 2 --baseline-samples 2

Prints the wall and CPU time of :func:`genexai.simulate.simulate` at the
requested size (CPU time shows how much of the wall time other jobs took),
its peak RSS (measured before the baselines run), the time to write
the ``.h5ad`` (gzip), and samples/s of two plain per-sample, per-pathway
two-stage samplers on a few samples drawn from the same parameters:

- ``dense``: the reference code's scheme, one multinomial over all genes per
  pathway (method.md §10.1);
- ``support``: the same, restricted to each pathway's genes.
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

import click
import numpy as np

from genexai import io
from genexai.simulate import CONFIGS, simulate
from genexai.simulation import draw_parameters


def two_stage(params, subclass, n_reads, rng, *, dense):
    """Per sample theta ~ Dirichlet, pathway counts, then per pathway gene counts."""
    beta = params.beta
    n_genes = beta.shape[1]
    out = np.zeros((len(subclass), n_genes), dtype=np.int64)
    for i, c in enumerate(subclass):
        per_pathway = rng.multinomial(n_reads, rng.dirichlet(params.alpha[c]))
        for p, m in enumerate(per_pathway):
            genes = beta.indices[beta.indptr[p] : beta.indptr[p + 1]]
            weights = beta.data[beta.indptr[p] : beta.indptr[p + 1]]
            if dense:
                row = np.zeros(n_genes)
                row[genes] = weights
                out[i] += rng.multinomial(m, row)
            else:
                out[i, genes] += rng.multinomial(m, weights)
    return out


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB


@click.command()
@click.option("--config", "name", default="SIMU1", type=click.Choice(list(CONFIGS)))
@click.option("--n-samples", type=int, help="Default: the configuration's.")
@click.option("--threads", type=int, default=2)
@click.option("--seed", type=int, default=0)
@click.option("--baseline-samples", type=int, default=5, help="Samples per baseline.")
@click.option("--write/--no-write", default=True, help="Also time the gzip .h5ad write.")
def main(*, name, n_samples, threads, seed, baseline_samples, write):
    config = CONFIGS[name]
    n = n_samples or config.n_samples
    print(f"{name}: {n} samples x {config.n_genes} genes, {threads} thread(s)")
    start, cpu = time.perf_counter(), time.process_time()
    adata = simulate(config, n_samples=n, seed=seed, threads=threads)
    fast, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"simulate: {fast:.2f} s wall ({cpu:.1f} s CPU), {n / fast:.0f} samples/s, "
        f"peak RSS {peak_rss_gb():.2f} GiB"
    )
    if write:
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            io.write_h5ad(adata, Path(folder) / "sim.h5ad")
            seconds = time.perf_counter() - start
            size = (Path(folder) / "sim.h5ad").stat().st_size / 2**20
        print(f"write_h5ad (gzip): {seconds:.2f} s, {size:.0f} MiB")
    del adata

    params = draw_parameters(config, np.random.default_rng(seed))
    subclass = np.arange(baseline_samples) % config.n_classes
    for dense in (True, False):
        start, base_cpu = time.perf_counter(), time.process_time()
        two_stage(params, subclass, config.n_reads, np.random.default_rng(seed), dense=dense)
        wall = (time.perf_counter() - start) / baseline_samples
        base_cpu = (time.process_time() - base_cpu) / baseline_samples
        kind = "dense" if dense else "support"
        print(
            f"two-stage ({kind}): {1 / wall:.2f} samples/s on {baseline_samples} samples; "
            f"fast path is {wall * n / fast:.0f}x faster in wall time, "
            f"{base_cpu * n / cpu:.0f}x in CPU time"
        )


if __name__ == "__main__":
    main()
