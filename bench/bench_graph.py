"""Benchmark: the blockwise correlation graph (issue 5).

SimuA-shaped training matrix (720 samples x 50,000 genes, blocks of 10
co-varying genes). Prints the wall time of
``genexai.graph.correlation_graph`` for each block size, the number of
edges, and the peak RSS of a fresh process per run (the input matrix alone
is ``n_samples x n_genes`` float32). With ``--check-genes`` it also compares
the result with the dense ``np.corrcoef`` reference on that many genes.

Usage::

    python bench/bench_graph.py [--n-samples 720] [--n-genes 50000] \\
        [--block-sizes 512,1024,2048] [--threads 2] [--check-genes 4000]
"""

from __future__ import annotations

import argparse
import platform
import resource
import subprocess
import sys
import time

import numpy as np
import torch

from genexai.graph import correlation_graph


def make_matrix(n_samples: int, n_genes: int, seed: int) -> np.ndarray:
    """Blocks of 10 genes sharing one latent activity, plus gene noise."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n_samples, n_genes // 10), dtype=np.float32)
    x = np.repeat(latent, 10, axis=1)
    x += 0.6 * rng.standard_normal(x.shape, dtype=np.float32)
    return x


def run_one(args: argparse.Namespace, block_size: int) -> None:
    """One graph in this process; prints time, edges and peak RSS."""
    torch.set_num_threads(args.threads)
    x = make_matrix(args.n_samples, args.n_genes, args.seed)
    data_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    start = time.perf_counter()
    adj = correlation_graph(x, threshold=args.threshold, block_size=block_size)
    seconds = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(
        f"block {block_size}: {seconds:.1f} s, nnz {adj.nnz} "
        f"({adj.nnz / args.n_genes:.1f} per gene), peak RSS {peak_gb:.2f} GB "
        f"(after making the data: {data_gb:.2f} GB)",
        flush=True,
    )


def check(args: argparse.Namespace) -> None:
    """Blockwise vs dense np.corrcoef on the first --check-genes genes."""
    x = make_matrix(args.n_samples, args.check_genes, args.seed)
    start = time.perf_counter()
    adj = correlation_graph(x, threshold=args.threshold, block_size=256).toarray()
    fast = time.perf_counter() - start
    start = time.perf_counter()
    a = np.nan_to_num(np.corrcoef(x.T.astype(np.float64)))
    np.fill_diagonal(a, 0)
    a[a <= args.threshold] = 0
    a += np.eye(len(a))
    d = a.sum(axis=1)
    a /= np.sqrt(np.outer(d, d))
    dense = time.perf_counter() - start
    print(
        f"check on {args.check_genes} genes: blockwise {fast:.2f} s, dense np.corrcoef "
        f"{dense:.2f} s, same edges: {np.array_equal(adj != 0, a != 0)}, "
        f"max |difference| {np.abs(adj - a).max():.1e}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=720)
    parser.add_argument("--n-genes", type=int, default=50000)
    parser.add_argument("--block-sizes", default="512,1024,2048")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check-genes", type=int, default=0)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process mode
    args = parser.parse_args()
    if args.one is not None:
        run_one(args, args.one)
        return
    print(
        f"machine: {platform.machine()}, torch {torch.__version__}, {args.threads} threads; "
        f"{args.n_samples} samples x {args.n_genes} genes"
    )
    if args.check_genes:
        check(args)
    for block_size in args.block_sizes.split(","):
        # A fresh process per block size, so that each peak RSS is its own.
        subprocess.run([sys.executable, *sys.argv, "--one", block_size], check=True)


if __name__ == "__main__":
    main()
