"""Benchmark: RANK_GENES' mutual information against scikit-learn's (issue 19).

A SIMU1-shaped training matrix (``--n-samples`` samples, ``--n-classes``
classes; log-scale counts with ties). Times, on one core,
:func:`genexai.metrics.mutual_info.mutual_info_block` on ``--n-genes`` genes
and every class, and scikit-learn's ``mutual_info_classif`` (what it
replaces, the same numbers) on one block of 256 genes and ``--sk-classes``
classes; prints seconds per gene and class for both, their ratio, the
extrapolation to 15,000 genes x 33 classes, and checks that the numbers are
equal bit for bit on the block both computed.

Usage::

    python bench/bench_rank_genes.py [--n-samples 6000] [--n-genes 1024] \\
        [--n-classes 33] [--sk-classes 2]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from sklearn.feature_selection import mutual_info_classif

from genexai.metrics.mutual_info import mutual_info_block
from genexai.rank_genes import MI_BLOCK_GENES, MI_NEIGHBORS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=6000)
    parser.add_argument("--n-genes", type=int, default=1024)
    parser.add_argument("--n-classes", type=int, default=33)
    parser.add_argument("--sk-classes", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    codes = np.arange(args.n_samples) % args.n_classes
    rates = rng.gamma(2.0, 2.0, size=(1, args.n_genes)) * (1 + (codes[:, None] % 7 == 0))
    x = np.log1p(rng.poisson(rates)).astype(np.float64)

    start = time.perf_counter()
    for s in range(0, args.n_genes, MI_BLOCK_GENES):
        block = x[:, s : s + MI_BLOCK_GENES]
        ours = mutual_info_block(block, codes, args.n_classes, seed=0, n_neighbors=MI_NEIGHBORS)
        if s == 0:
            first = ours
    ours_s = (time.perf_counter() - start) / (args.n_genes * args.n_classes)

    block = x[:, :MI_BLOCK_GENES]
    start = time.perf_counter()
    for c in range(args.sk_classes):
        want = mutual_info_classif(
            block, codes == c, discrete_features=False, n_neighbors=MI_NEIGHBORS, random_state=0
        )
        if not np.array_equal(want, first[c]):
            msg = f"class {c}: genexai's mutual information differs from scikit-learn's"
            raise SystemExit(msg)
    sk_s = (time.perf_counter() - start) / (MI_BLOCK_GENES * args.sk_classes)

    print(f"machine: {platform.machine()}, {platform.platform()}")
    print(f"samples {args.n_samples}, classes {args.n_classes}: equal bit for bit on the block")
    for name, per in (("genexai", ours_s), ("scikit-learn", sk_s)):
        print(
            f"{name:13s} {1e3 * per:7.2f} ms per gene and class; "
            f"15,000 genes x 33 classes: {per * 15000 * 33 / 60:6.1f} min"
        )
    print(f"ratio (scikit-learn / genexai): {sk_s / ours_s:.1f}")


if __name__ == "__main__":
    main()
