"""BIOMARKERS: per class, are the top genes sufficient, necessary, stable and true?

``genexai biomarkers`` and ``bin/biomarkers.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import click

from .._defaults import BIOMARKER_TOP_K, PRIMARY_METHOD, RANKINGS, THRESHOLDS, Method
from . import _options as opt

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@opt.command("biomarkers")
@click.option(
    "--gene-scores",
    "gene_score_paths",
    required=True,
    multiple=True,
    type=FILE,
    help="Gene scores .h5ad from EVALUATE; repeat for every method, model and seed of the dataset.",
)
@click.option(
    "--curves",
    "curve_paths",
    required=True,
    multiple=True,
    type=FILE,
    help="Curves .tsv from EVALUATE (with the class_* curves) of the same runs; repeat.",
)
@click.option(
    "--rankings",
    "rankings_path",
    required=True,
    type=FILE,
    help="Wilcoxon rankings .h5ad from RANK_GENES (the evidence columns).",
)
@click.option(
    "--prepared",
    "prepared_path",
    required=True,
    type=FILE,
    help="Prepared .h5ad (genes, classes, truth; X is not read).",
)
@click.option(
    "--gene-sets",
    "gene_sets_path",
    type=FILE,
    help="Gene sets .gmt to score [default: the simulator's pathways on simulations, else none].",
)
@click.option("--dataset", required=True, help="Dataset name for the 'dataset' column.")
@click.option(
    "--primary-method",
    type=click.Choice([*get_args(Method), *RANKINGS]),
    default=PRIMARY_METHOD,
    help="Method of the --output table (the top genes per class).",
)
@click.option(
    "-k",
    "--top-k",
    type=click.IntRange(min=1),
    default=BIOMARKER_TOP_K,
    help="Genes per class; EVALUATE's --biomarker-k must be the same.",
)
@click.option(
    "--sufficiency",
    type=click.FloatRange(0, 100),
    default=THRESHOLDS.sufficiency,
    help="sufficient: keep_accuracy >= this (%).",
)
@click.option(
    "--necessity-margin",
    type=float,
    default=THRESHOLDS.necessity_margin,
    help="necessary: remove_drop - random_drop >= this (percentage points).",
)
@click.option(
    "--stability",
    type=click.FloatRange(0, 1),
    default=THRESHOLDS.stability,
    help="stable: mean Jaccard of the seeds' top-k sets >= this.",
)
@click.option(
    "--truth",
    type=click.FloatRange(0, 100),
    default=THRESHOLDS.truth,
    help="true: precision of the consensus top k >= this (%; simulations).",
)
@opt.output_option(
    "--output", "biomarkers_path", help="Output .tsv: the primary method's top genes per class."
)
@opt.output_option(
    "--verdict", "verdict_path", help="Output .tsv: evidence and verdict per method and class."
)
@opt.output_option(
    "--pathways", "pathways_path", help="Output .tsv: gene-set scores per method, model and class."
)
@opt.common_options
def main(
    *,
    gene_score_paths: tuple[Path, ...],
    curve_paths: tuple[Path, ...],
    rankings_path: Path,
    prepared_path: Path,
    gene_sets_path: Path | None,
    dataset: str,
    primary_method: str,
    top_k: int,
    sufficiency: float,
    necessity_margin: float,
    stability: float,
    truth: float,
    biomarkers_path: Path,
    verdict_path: Path,
    pathways_path: Path,
    threads: int,
    verbose: bool,
) -> None:
    """Per class: evidence that the top genes are markers, and a verdict."""
    from .. import io
    from ..biomarkers import Thresholds, biomarkers, read_curves

    opt.setup_logging(verbose=verbose)
    opt.set_threads(threads)
    result = biomarkers(
        io.read_annotations(prepared_path),
        [io.read_h5ad(path) for path in gene_score_paths],
        [read_curves(path) for path in curve_paths],
        io.read_h5ad(rankings_path),
        dataset=dataset,
        gene_sets=None if gene_sets_path is None else io.read_gmt(gene_sets_path),
        primary_method=primary_method,
        top_k=top_k,
        thresholds=Thresholds(
            sufficiency=sufficiency,
            necessity_margin=necessity_margin,
            stability=stability,
            truth=truth,
        ),
        where=[str(path) for path in gene_score_paths],
        curves_where=[str(path) for path in curve_paths],
    )
    with io.atomic_paths(biomarkers_path, verdict_path, pathways_path) as (b, v, p):
        io.write_table(result.biomarkers, b)
        io.write_table(result.verdict, v)
        io.write_table(result.pathways, p)
