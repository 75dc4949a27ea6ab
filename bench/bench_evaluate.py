"""Benchmark EVALUATE: the full metric suite on a SIMU1-sized test set.

Target (issue 7): local and global PGU/PGI, 30 PGR, FA in both variants with
and without diffusion, and the curves in ≤ 60 s on 2 cores, for LR and MLP.

The model is a freshly initialised genexai model; every example is labelled
with its prediction (all correct: the most work), attributions are
gradient × input of the predicted logit plus noise, and Â is a random sparse
symmetric graph. Run: ``python bench/bench_evaluate.py [--n-obs 3960 ...]``.
"""

from __future__ import annotations

import os
import platform
import resource
import time

import anndata as ad
import click
import numpy as np
import pandas as pd
import scipy.sparse
import torch

from genexai import keys
from genexai.evaluate import evaluate
from genexai.graph import Graph
from genexai.models import build_model


def make_inputs(arch: str, *, n_obs: int, n_genes: int, n_classes: int, degree: int, seed: int):
    rng = np.random.default_rng(seed)
    genes = [f"G{g:05d}" for g in range(n_genes)]
    classes = [f"C{c}" for c in range(n_classes)]
    model = build_model(arch, n_genes=n_genes, n_classes=n_classes, seed=seed).eval()
    model.genexai = {"arch": arch, "seed": seed, "genes": genes, "classes": classes}
    x = rng.standard_normal((n_obs, n_genes), dtype=np.float32)
    with torch.no_grad():
        logits = model(torch.from_numpy(x))
        probs = torch.softmax(logits, dim=-1).double().numpy()
    pred = probs.argmax(axis=1)
    weight = model.input_weight().detach().numpy()
    head_weight = weight[pred] if arch == "LR" else weight[pred % weight.shape[0]]
    a = x * head_weight + 0.01 * rng.standard_normal((n_obs, n_genes), dtype=np.float32)
    names = [f"sample{i:05d}" for i in range(n_obs)]
    label = pd.Categorical.from_codes(pred, categories=classes)
    prepared = ad.AnnData(
        X=x, obs=pd.DataFrame({keys.LABEL: label}, index=names), var=pd.DataFrame(index=genes)
    )
    informative = np.zeros((n_genes, n_classes), dtype=bool)
    per_class = min(370, n_genes // n_classes)
    for c in range(n_classes):
        informative[c * per_class : (c + 1) * per_class, c] = True
    obs = pd.DataFrame(
        {
            keys.LABEL: label,
            keys.PREDICTION: label,
            keys.CORRECT: True,
            keys.TARGET: pred,
            keys.TARGET_PROB: probs[np.arange(n_obs), pred],
            keys.DELTA: np.full(n_obs, 1e-4),
            keys.N_STEPS: np.full(n_obs, 3000),
        },
        index=names,
    )
    attributions = ad.AnnData(X=a, obs=obs, var=pd.DataFrame(index=genes))
    attributions.varm[keys.INFORMATIVE] = informative
    attributions.uns[keys.UNS] = {
        keys.ATTRIBUTE: {
            keys.METHOD: "integrated_gradients",
            keys.BASELINE: np.zeros(n_genes, np.float32),
            keys.TARGET_KIND: "true",
        }
    }
    upper = scipy.sparse.random(
        n_genes, n_genes, density=degree / n_genes / 2, random_state=seed, dtype=np.float32
    )
    adjacency = (upper + upper.T + scipy.sparse.eye(n_genes, dtype=np.float32)).tocsr()
    return prepared, model, attributions, Graph(adjacency, genes, 0.5)


def time_suite(arch: str, options: dict, sizes: dict) -> str:
    """Run :func:`evaluate` once; wall and CPU seconds, split at the progress calls."""
    prepared, model, attributions, graph = make_inputs(arch, **sizes, seed=0)
    stamps: list[tuple[float, float]] = []  # after each order (PG) or curve

    def stamp(_: int) -> None:
        stamps.append((time.perf_counter(), time.process_time()))

    start = (time.perf_counter(), time.process_time())
    result = evaluate(
        prepared, model, attributions, dataset="bench", graph=graph, progress=stamp, **options
    )
    end = (time.perf_counter(), time.process_time())
    pg_end = stamps[6 + options["n_random"] - 1]
    phases = {
        "prediction gaps": (start, pg_end),
        "curves": (pg_end, stamps[-1]),
        "OpenXAI + FA x2 + checks": (stamps[-1], end),
        "total": (start, end),
    }
    text = ", ".join(
        f"{name} {b[0] - a[0]:.1f} s ({b[1] - a[1]:.1f} s CPU)" for name, (a, b) in phases.items()
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    return (
        f"{arch}: {text}; {len(result.metrics)} metric rows, {len(result.curves)} curve rows; "
        f"peak RSS so far {peak:.1f} GiB"
    )


@click.command()
@click.option("--n-obs", default=3960, help="Explained examples (SIMU1 test set: 3960).")
@click.option("--n-genes", default=15000, help="Genes (SIMU1: 15000).")
@click.option("--n-classes", default=33, help="Classes (SIMU1: 33).")
@click.option("--arch", "archs", multiple=True, default=("LR", "MLP"), help="Models to time.")
@click.option("--n-random", default=30, help="PGR random orders.")
@click.option("--curve-random", default=10, help="random_kept orders.")
@click.option("--degree", default=20, help="Mean non-zeros per row of the random Â.")
@click.option("--threads", default=2, help="torch threads.")
@click.option("--batch-size", default=64, help="Prediction-gap examples per batch.")
def main(*, n_obs, n_genes, n_classes, archs, n_random, curve_random, degree, threads, batch_size):
    torch.set_num_threads(threads)
    print(
        f"# {platform.machine()}, torch {torch.__version__}, {threads} threads; "
        f"{n_obs} x {n_genes}, {n_classes} classes, {n_random} PGR, "
        f"{curve_random} random curves; load average {os.getloadavg()[0]:.1f}"
    )
    sizes = {"n_obs": n_obs, "n_genes": n_genes, "n_classes": n_classes, "degree": degree}
    options = {"n_random": n_random, "curve_random": curve_random, "batch_size": batch_size}
    for arch in archs:
        print(time_suite(arch, options, sizes), flush=True)
    print(f"# load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
