"""Benchmark: training the four models (issue 5), graph included for the diffused ones.

Synthetic prepared data shaped like the paper's datasets (block pathways of
10 genes whose genes co-vary, class-specific over-expressed pathways,
z-scored with the training statistics), then for each model:
``genexai.graph.graph_from_adata`` (diffused models) and
``genexai.train.fit`` (training with the paper's schedule, then train and
test metrics). Prints wall times, the training accuracies and the process's
peak RSS (which includes making the data).

Usage::

    # SIMU1 size: 5,940 training x 15,000 genes, 33 classes (target <= 60 s each)
    python bench/bench_train.py --models LR,MLP
    # SimuA size: 720 training x 50,000 genes, 2 classes (target <= 5 min, <= 8 GB)
    python bench/bench_train.py --models DiffuseLR --n-train 720 --n-test 480 \\
        --n-genes 50000 --n-classes 2 --n-over 500
"""

from __future__ import annotations

import argparse
import platform
import resource
import time

import anndata as ad
import numpy as np
import pandas as pd
import torch

from genexai import keys
from genexai.graph import graph_from_adata
from genexai.models import ARCHS
from genexai.train import DEFAULTS, Schedule, fit


def make_data(
    n_train: int, n_test: int, n_genes: int, n_classes: int, *, n_over: int, seed: int
) -> ad.AnnData:
    """Prepared-like data: log pathway activity + gene noise, z-scored on train.

    Pathway ``p`` owns genes ``10p … 10p+9``; class ``c`` over-expresses
    pathways ``n_over·c … n_over·(c+1)-1`` (wrapping around).
    """
    rng = np.random.default_rng(seed)
    n, n_pathways = n_train + n_test, n_genes // 10
    y = np.arange(n) % n_classes
    rng.shuffle(y)
    activity = rng.standard_normal((n, n_pathways), dtype=np.float32)
    over = (np.arange(n_over)[None, :] + n_over * np.arange(n_classes)[:, None]) % n_pathways
    activity[np.arange(n)[:, None], over[y]] += 1.0
    x = np.repeat(activity, 10, axis=1)
    x += 0.6 * rng.standard_normal(x.shape, dtype=np.float32)
    train = np.arange(n) < n_train
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    x -= mean
    x /= std
    classes = [f"C{c}" for c in range(n_classes)]
    obs = pd.DataFrame(
        {
            keys.LABEL: pd.Categorical.from_codes(y, categories=classes),
            keys.SPLIT: pd.Categorical(np.where(train, keys.TRAIN, keys.TEST)),
        },
        index=[f"sample{i:05d}" for i in range(n)],
    )
    var = pd.DataFrame(
        {keys.MEAN: mean, keys.STD: std}, index=[f"G{g:05d}" for g in range(n_genes)]
    )
    adata = ad.AnnData(X=x, obs=obs, var=var)
    adata.uns[keys.UNS] = {keys.PREPARE: {"transform": "zscore", "seed": seed}}
    return adata


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", default="LR,MLP", help="comma-separated, from " + ",".join(ARCHS)
    )
    parser.add_argument("--n-train", type=int, default=5940)
    parser.add_argument("--n-test", type=int, default=3960)
    parser.add_argument("--n-genes", type=int, default=15000)
    parser.add_argument("--n-classes", type=int, default=33)
    parser.add_argument("--n-over", type=int, default=37, help="over-expressed pathways per class")
    parser.add_argument("--epochs", type=int, default=DEFAULTS.epochs)
    parser.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--block-size", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    print(
        f"machine: {platform.machine()}, torch {torch.__version__} "
        f"({args.threads} threads, device {args.device})"
    )
    start = time.perf_counter()
    adata = make_data(
        args.n_train, args.n_test, args.n_genes, args.n_classes, n_over=args.n_over, seed=args.seed
    )
    print(
        f"data: {args.n_train} train + {args.n_test} test x {args.n_genes} genes, "
        f"{args.n_classes} classes, made in {time.perf_counter() - start:.1f} s"
    )
    schedule = Schedule(epochs=args.epochs, batch_size=args.batch_size)
    graph = None
    for arch in args.models.split(","):
        graph_s = 0.0
        if arch.startswith("Diffuse") and graph is None:
            start = time.perf_counter()
            graph = graph_from_adata(adata, threshold=args.threshold, block_size=args.block_size)
            graph_s = time.perf_counter() - start
            print(
                f"graph: {graph_s:.1f} s, nnz {graph.adj.nnz} "
                f"({graph.adj.nnz / args.n_genes:.1f} per gene)"
            )
        start = time.perf_counter()
        result = fit(
            adata,
            arch=arch,
            seed=args.seed,
            graph=graph if arch.startswith("Diffuse") else None,
            schedule=schedule,
            device=args.device,
        )
        fit_s = time.perf_counter() - start
        m = result.metrics
        print(
            f"{arch}: fit (train {args.epochs} epochs + metrics) {fit_s:.1f} s, "
            f"graph + fit {graph_s + fit_s:.1f} s; train acc {m['train_accuracy']:.2f}%, "
            f"balanced test acc {m['balanced_accuracy']:.2f}%; "
            f"peak RSS so far {peak_rss_gb():.2f} GB"
        )


if __name__ == "__main__":
    main()
