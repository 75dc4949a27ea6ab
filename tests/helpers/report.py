"""Synthetic inputs of REPORT, in the schemas of PREPARE, TRAIN, EVALUATE and STABILITY.

Used by the tests of genexai.report (the ``synthetic_results`` fixture,
tests/report/conftest.py) and by bench/bench_report.py.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

from genexai import keys
from genexai.prepare import prepare_summary

TABLES = (
    "metrics",
    "accuracy",
    "prediction_gaps",
    "feature_agreement",
    "curves",
    "stability",
    "top_genes",
    "completeness",
    "datasets",
    "class_counts",
)


def write_synthetic_results(
    folder: Path,
    *,
    datasets: tuple[str, ...] = ("SIMU1", "BRCA"),
    models: tuple[str, ...] = ("LR", "MLP"),
    seeds: tuple[int, ...] = (0, 1, 2),
    n_genes: int = 60,
    n_samples: int = 40,
    n_classes: int = 2,
    n_top: int = 12,
    informative_column: bool = True,
    seed: int = 0,
) -> Path:
    """Write every kind of table REPORT reads, for every dataset × model × seed.

    Datasets whose name starts with ``SIMU`` are simulated (``varm['informative']``,
    FA rows, an ``informative`` column in the top-gene lists).
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    genes = [f"G{g:05d}" for g in range(n_genes)]
    classes = [f"C{c}" for c in range(n_classes)]
    # the paper's K1 grid (method §8), below the number of genes
    grid = [
        k for k in (*range(1, 10), *range(10, 200, 10), *range(200, n_genes, 100)) if k < n_genes
    ]
    for dataset in datasets:
        simulated = dataset.startswith("SIMU")
        labels = pd.Categorical(rng.choice(classes, n_samples), categories=classes)
        split = pd.Categorical(np.where(np.arange(n_samples) % 3 == 0, "test", "train"))
        obs = pd.DataFrame(
            {keys.LABEL: labels, keys.SPLIT: split},
            index=[f"sample{i:05d}" for i in range(n_samples)],
        )
        # PREPARE's summary reads obs, n_vars and varm only: no X
        prepared = ad.AnnData(obs=obs, var=pd.DataFrame(index=genes))
        true_genes = set(genes[: n_genes // 5])
        if simulated:
            mask = np.zeros((n_genes, n_classes), dtype=bool)
            mask[: n_genes // 5, 0] = True
            prepared.varm[keys.INFORMATIVE] = pd.DataFrame(
                mask, index=genes, columns=[f"S{c}" for c in range(n_classes)]
            )
        prepare_summary(prepared, dataset=dataset).to_csv(
            folder / f"{dataset}.prepare.tsv", sep="\t", index=False
        )
        for model, run_seed in itertools.product(models, seeds):
            stem = folder / f"{dataset}.{model}.{run_seed}"
            (folder / f"{stem.name}.train.json").write_text(
                json.dumps(
                    {
                        "dataset": dataset,
                        "model": model,
                        "seed": run_seed,
                        keys.TRAIN_ACCURACY: float(rng.uniform(90, 100)),
                        keys.BALANCED_ACCURACY: float(rng.uniform(70, 95)),
                        "confusion_matrix": [[5, 1], [2, 6]],
                        "history": {"loss": [1.0, 0.5]},
                    }
                )
            )
            rows = [
                (dataset, model, run_seed, "ig", metric, variant, rng.uniform(0, 60))
                for metric in ("PGI", "PGU", "PGR")
                for variant in ("local", "global")
            ]
            if simulated:
                rows += [
                    (dataset, model, run_seed, "ig", "FA", variant, rng.uniform(0, 100))
                    for variant in ("local", "global_rank_mean_scores")
                ]
            pd.DataFrame(rows, columns=keys.METRIC_COLUMNS).to_csv(
                f"{stem}.metrics.tsv", sep="\t", index=False
            )
            curves = pd.DataFrame(
                [
                    (dataset, model, run_seed, "ig", curve, k, shape(k) + rng.normal(0, 2), std)
                    for curve, std, shape in (
                        ("keep_best", np.nan, lambda k: 50 + 45 * (1 - np.exp(-k / 8))),
                        ("remove_best", np.nan, lambda k: 95 - 45 * (1 - np.exp(-k / 8))),
                        ("random", 3.0, lambda k: 50 + 45 * (1 - np.exp(-k / 40))),
                        ("pg_local_pgi", np.nan, lambda k: 60 * (1 - np.exp(-k / 15))),
                    )
                    for k in grid
                ],
                columns=keys.CURVE_COLUMNS,
            )
            curves.to_csv(f"{stem}.curves.tsv", sep="\t", index=False)
            top = pd.DataFrame(
                [
                    (dataset, model, run_seed, "ig", c, r + 1, gene, float(n_top - r))
                    for c in classes
                    for r, gene in enumerate(rng.choice(genes, n_top, replace=False))
                ],
                columns=keys.TOP_GENES_COLUMNS,
            )
            if simulated and informative_column:
                top[keys.INFORMATIVE] = top["gene"].isin(true_genes)
            top.to_csv(f"{stem}.top_genes.tsv", sep="\t", index=False)
            n_explained = n_samples // 3
            pd.DataFrame(
                {
                    "dataset": dataset,
                    "model": model,
                    "seed": run_seed,
                    "method": "ig",
                    "example": obs.index[:n_explained],
                    "delta": 10.0 ** rng.uniform(-6, -1.5, n_explained),
                    "n_steps": 3000,
                },
                columns=keys.COMPLETENESS_COLUMNS,
            ).to_csv(f"{stem}.completeness.tsv", sep="\t", index=False)
        n_pairs = {True: len(seeds) * (len(seeds) - 1) // 2, False: len(seeds) ** 2}
        summary = [
            (dataset, a, b, "top100_jaccard", "local", n_pairs[a == b], *rng.uniform(0, 1, 2))
            for a, b in itertools.combinations_with_replacement(sorted(models), 2)
        ]
        pd.DataFrame(summary, columns=keys.STABILITY_SUMMARY_COLUMNS).to_csv(
            folder / f"{dataset}.stability_summary.tsv", sep="\t", index=False
        )
    return folder
