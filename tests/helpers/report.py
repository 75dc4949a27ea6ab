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
    "biomarkers",
    "verdict",
    "pathways",
    "methods",
)

#: The verdicts :func:`write_biomarker_tables` gives classes C0, C1, … in turn.
VERDICTS = (
    ("sufficient, necessary and stable", True, True, True),
    ("no better than random", False, False, False),
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
    biomarkers: bool = True,
    seed: int = 0,
) -> Path:
    """Write every kind of table REPORT reads, for every dataset × model × seed.

    Datasets whose name starts with ``SIMU`` are simulated (``varm['informative']``,
    FA rows, an ``informative`` column in the top-gene lists). With ``biomarkers``,
    BIOMARKERS' tables too (:func:`write_biomarker_tables`, method ``ig``).
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
            (dataset, "ig", a, b, "top100_jaccard", "local", n_pairs[a == b], *rng.uniform(0, 1, 2))
            for a, b in itertools.combinations_with_replacement(sorted(models), 2)
        ]
        pd.DataFrame(summary, columns=keys.STABILITY_SUMMARY_COLUMNS).to_csv(
            folder / f"{dataset}.stability_summary.tsv", sep="\t", index=False
        )
        if biomarkers:
            write_biomarker_tables(
                folder,
                dataset,
                methods=("ig",),
                models=models,
                classes=tuple(classes),
                genes=tuple(genes),
                n_runs=len(models) * len(seeds),
                # not drawn from rng, which would move every later table
                seed=seed + datasets.index(dataset),
            )
    return folder


def write_biomarker_tables(
    folder: Path,
    dataset: str,
    *,
    methods: tuple[str, ...],
    models: tuple[str, ...],
    classes: tuple[str, ...],
    genes: tuple[str, ...],
    n_runs: int,
    k: int = 5,
    n_sets: int = 6,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """Write ``<dataset>.{biomarkers,verdict,pathways}.tsv`` as BIOMARKERS would.

    The biomarkers are the first method's (BIOMARKERS' primary method); the
    verdicts and pathways are every method's. ``SIMU*`` datasets get the truth
    columns (``informative``, ``over_expressed``, ``true``, ``precision``,
    ``pathway_agreement``); the others leave them out or empty. Class ``C<i>``
    gets verdict ``VERDICTS[i % 2]``. Returns the tables.
    """
    rng = np.random.default_rng(seed)
    simulated = dataset.startswith("SIMU")
    marker_rows, verdict_rows, pathway_rows = [], [], []
    for method in methods:
        for c, name in enumerate(classes):
            chosen = rng.choice(len(genes), k, replace=False)
            for rank, g in enumerate(chosen if method == methods[0] else [], start=1):
                marker_rows.append(
                    (
                        dataset, method, name, rank, genes[g], rank + rng.uniform(0, 1),
                        rng.uniform(0, 2), rng.uniform(0, 1), rng.uniform(0, 1), n_runs,
                        rng.normal(0, 2), rng.uniform(0, 0.05), g < len(genes) // 5,
                    )
                )  # fmt: skip
            verdict, sufficient, necessary, stable = VERDICTS[c % len(VERDICTS)]
            verdict_rows.append(
                (
                    dataset, method, name, k, n_runs, rng.uniform(5, 20),
                    rng.integers(1, 40) if sufficient else np.nan,
                    rng.uniform(80, 100), rng.uniform(0, 5), rng.uniform(0, 60),
                    rng.uniform(0, 5), rng.uniform(0, 20), rng.uniform(0, 5),
                    rng.uniform(0, 1),
                    rng.uniform(0, 100) if simulated else np.nan,
                    rng.uniform(0, 100) if simulated else np.nan,
                    sufficient, necessary, stable, sufficient if simulated else None,
                    verdict,
                )
            )  # fmt: skip
            for model in models:
                scores = np.sort(rng.uniform(-1, 1, n_sets))[::-1]
                for rank, score in enumerate(scores, start=1):
                    p = rng.uniform(0, 1)
                    pathway_rows.append(
                        (
                            dataset, method, model, name, f"P{rank - 1 + c:03d}", 10, 0,
                            int(rng.integers(0, k + 1)), 10 * score, score, p,
                            min(1.0, p * n_sets), rank, rank == 1,
                        )
                    )  # fmt: skip
    tables = {
        "biomarkers": pd.DataFrame(
            marker_rows, columns=[*keys.BIOMARKER_COLUMNS, keys.INFORMATIVE]
        ),
        "verdict": pd.DataFrame(verdict_rows, columns=keys.VERDICT_COLUMNS),
        "pathways": pd.DataFrame(
            pathway_rows, columns=[*keys.PATHWAY_COLUMNS, keys.OVER_EXPRESSED]
        ),
    }
    if not simulated:
        tables["biomarkers"] = tables["biomarkers"].drop(columns=keys.INFORMATIVE)
        tables["pathways"] = tables["pathways"].drop(columns=keys.OVER_EXPRESSED)
    for name, table in tables.items():
        table.to_csv(folder / f"{dataset}.{name}.tsv", sep="\t", index=False)
    return tables
