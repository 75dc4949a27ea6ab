"""BIOMARKERS inputs: a small real simulation, and EVALUATE / RANK_GENES outputs
written by hand following their contracts (C1, C3, C4 of issue 19).

The gene scores favour each class's informative genes (plus seeded noise), so
the truth columns are not trivially all True or all False; the per-class
curves are saturating ramps whose values the tests set where they matter.
"""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd

import genexai as gx
from genexai import keys
from genexai.metrics import class_informative, gene_grid
from genexai.simulate import SimulationConfig

DATASET = "bio"
#: 3 classes, 60 genes in 6 disjoint pathways of 10, 2 over-expressed per class.
CONFIG = SimulationConfig("bio", 3, 60, 6, 2, 90, "block", genes_per_pathway=10)
K = 5
#: (method, model, seed) of every run; MLP seed 1 has no correct example of C2.
RUNS = (
    ("integrated_gradients", "LR", 0),
    ("integrated_gradients", "LR", 1),
    ("integrated_gradients", "LR", 2),
    ("integrated_gradients", "MLP", 0),
    ("integrated_gradients", "MLP", 1),
    ("saliency", "LR", 0),
    ("saliency", "MLP", 0),
)
MISSING = (("integrated_gradients", "MLP", 1), "C2")


def make_prepared() -> ad.AnnData:
    """SIMULATE then PREPARE of :data:`CONFIG` (real steps, seeded)."""
    return gx.prepare(gx.simulate(CONFIG, seed=0), seed=1)


def classes_of(run: tuple[str, str, int], classes: list[str]) -> list[str]:
    """The classes a run's gene scores hold (:data:`MISSING` left out)."""
    return [c for c in classes if (run, c) != MISSING]


def make_gene_scores(prepared: ad.AnnData, run: tuple[str, str, int], index: int) -> ad.AnnData:
    """Gene scores (C4) of one run: informative genes raised, seeded noise."""
    method, model, seed = run
    rng = np.random.default_rng(100 + index)
    classes = [str(c) for c in prepared.obs[keys.LABEL].cat.categories]
    held = classes_of(run, classes)
    truth = class_informative(
        np.asarray(prepared.varm[keys.INFORMATIVE], dtype=bool), n_classes=len(classes)
    )
    rows = np.array([classes.index(c) for c in held])
    scores = truth[rows] * rng.uniform(0.2, 1.0, (len(rows), prepared.n_vars))
    scores += 0.4 * rng.standard_normal(scores.shape)
    adata = ad.AnnData(
        X=scores,
        obs=pd.DataFrame({keys.N_EXAMPLES: rng.integers(3, 20, len(rows))}, index=held),
        var=pd.DataFrame(
            {keys.OVERALL: rng.standard_normal(prepared.n_vars)}, index=prepared.var_names
        ),
    )
    adata.uns[keys.UNS] = {
        keys.EVALUATE: {
            keys.DATASET: DATASET,
            keys.MODEL: model,
            keys.SEED: seed,
            keys.METHOD: method,
            keys.VERSION: gx.__version__,
        }
    }
    return adata


def make_curves(
    run: tuple[str, str, int],
    classes: list[str],
    n_genes: int,
    *,
    index: int,
    k: int = K,
    values: dict[str, dict[str, float]] | None = None,
) -> pd.DataFrame:
    """A curves table (C3) of one run: the per-class curves, plus an unrelated curve.

    ``values[class]`` may set ``keep`` (class_keep_best at ``k``), ``remove``
    (class_remove_best at ``G - k``), ``random`` and ``random_std``.
    """
    method, model, seed = run
    rng = np.random.default_rng(200 + index)
    grid = np.union1d(gene_grid(n_genes), [k])
    rows = [("keep_best", int(n), 50.0, np.nan) for n in grid]  # not read
    for c in classes:
        chosen = (values or {}).get(c, {})
        tau = rng.uniform(1, 6)
        keep = 100 * (1 - np.exp(-grid / tau))
        keep[grid == k] = chosen.get("keep", keep[grid == k][0])
        rows += [
            (f"class_keep_best:{c}", int(n), float(v), np.nan)
            for n, v in zip(grid, keep, strict=True)
        ]
        removed = grid[grid < n_genes]
        remove = 100 * np.exp(-removed / tau)
        remove[removed == k] = chosen.get("remove", remove[removed == k][0])
        rows += [
            (f"class_remove_best:{c}", int(n_genes - m), float(v), np.nan)
            for m, v in zip(removed, remove, strict=True)
        ]
        rows.append(
            (
                f"class_random_removed:{c}",
                n_genes - k,
                chosen.get("random", float(rng.uniform(80, 100))),
                chosen.get("random_std", float(rng.uniform(0, 5))),
            )
        )
    table = pd.DataFrame(rows, columns=["curve", "n_genes", "value", "std"])
    table.insert(0, "method", method)
    table.insert(0, "seed", seed)
    table.insert(0, "model", model)
    table.insert(0, "dataset", DATASET)
    return table[list(keys.CURVE_COLUMNS)]


def make_rankings(prepared: ad.AnnData, *, method: str = "wilcoxon") -> ad.AnnData:
    """Wilcoxon rankings (C1) by hand: seeded scores, fold changes and p-values."""
    rng = np.random.default_rng(7)
    classes = [str(c) for c in prepared.obs[keys.LABEL].cat.categories]
    shape = (len(classes), prepared.n_vars)
    rankings = ad.AnnData(
        X=rng.standard_normal(shape),
        obs=pd.DataFrame({"n_train": np.full(len(classes), 20, dtype=np.int64)}, index=classes),
        var=pd.DataFrame(index=prepared.var_names),
    )
    rankings.layers[keys.LOGFOLDCHANGES] = rng.standard_normal(shape)
    rankings.layers[keys.PVALS] = rng.uniform(0, 1, shape)
    rankings.layers[keys.PVALS_ADJ] = rng.uniform(0, 1, shape)
    rankings.uns[keys.UNS] = {keys.RANK_GENES: {keys.METHOD: method, keys.DATASET: DATASET}}
    return rankings


def make_inputs(
    values: dict[tuple[str, str, int], dict[str, dict[str, float]]] | None = None,
) -> tuple[ad.AnnData, list[ad.AnnData], list[pd.DataFrame], ad.AnnData]:
    """``(prepared, gene_scores, curves, rankings)`` of every run of :data:`RUNS`."""
    prepared = make_prepared()
    classes = [str(c) for c in prepared.obs[keys.LABEL].cat.categories]
    scores = [make_gene_scores(prepared, run, i) for i, run in enumerate(RUNS)]
    curves = [
        make_curves(
            run,
            classes_of(run, classes),
            prepared.n_vars,
            index=i,
            values=(values or {}).get(run),
        )
        for i, run in enumerate(RUNS)
    ]
    return prepared, scores, curves, make_rankings(prepared)
