"""EVALUATE: prediction gaps, feature agreement, curves, top genes, gene scores (§6-8).

``genexai evaluate`` and ``bin/evaluate.py``.
"""

from __future__ import annotations

from pathlib import Path

import click

from .._defaults import BIOMARKER_TOP_K
from . import _options as opt

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@opt.command("evaluate")
@click.option(
    "--attributions",
    "attributions_path",
    required=True,
    type=FILE,
    help="Attributions .h5ad from ATTRIBUTE.",
)
@click.option("--model", "model_path", required=True, type=FILE, help="Checkpoint .pt from TRAIN.")
@opt.input_option(help="Prepared .h5ad holding the explained examples (matched by name).")
@click.option(
    "--graph", "graph_path", type=FILE, help="Gene graph .npz: adds the diffused FA variants."
)
@click.option("--dataset", required=True, help="Dataset name for the 'dataset' column.")
@click.option(
    "--gap", type=click.IntRange(min=1), default=10, help="Genes replaced per prediction-gap step."
)
@click.option("--n-random", type=click.IntRange(min=0), default=30, help="Random orders of PGR.")
@click.option(
    "--curve-random",
    type=click.IntRange(min=0),
    default=10,
    help="Random orders of the random_kept curve.",
)
@click.option(
    "--precision-k",
    default="10,100",
    callback=opt.positive_ints,
    help="k of fa_precision@k, comma-separated.",
)
@click.option(
    "--top-n", type=click.IntRange(min=1), default=100, help="Genes per class in --top-genes."
)
@click.option(
    "--openxai-k", type=click.IntRange(min=1), default=100, help="OpenXAI PGI/PGU: top-k genes."
)
@click.option(
    "--openxai-sigma",
    type=click.FloatRange(min=0, min_open=True),
    default=0.1,
    help="OpenXAI PGI/PGU: noise std (input units).",
)
@click.option(
    "--openxai-samples",
    type=click.IntRange(min=1),
    default=50,
    help="OpenXAI PGI/PGU: noise draws per example.",
)
@click.option(
    "--openxai-max-examples",
    type=click.IntRange(min=1),
    default=500,
    help="OpenXAI PGI/PGU: at most this many examples (seeded subset).",
)
@click.option(
    "--biomarker-k",
    type=click.IntRange(min=1),
    default=BIOMARKER_TOP_K,
    help="Per-class curves: the top-k point and the k random genes removed (clamped to genes - 1).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=64,
    help="Examples per prediction-gap batch (memory ~ batch x genes/gap x (hidden + 2 classes)).",
)
@opt.seed_option()
@opt.output_option(help="Output metrics .tsv (tidy), written atomically.")
@opt.output_option("--curves", "curves_path", help="Output curves .tsv.")
@opt.output_option("--top-genes", "top_genes_path", help="Output top genes .tsv.")
@opt.output_option(
    "--gene-scores",
    "gene_scores_path",
    help="Output per-class gene scores .h5ad (classes x genes), STABILITY's input.",
)
@opt.output_option(
    "--completeness",
    "completeness_path",
    help="Output completeness .tsv (one row per explained example).",
)
@opt.common_options
def main(
    *,
    attributions_path: Path,
    model_path: Path,
    input_path: Path,
    graph_path: Path | None,
    output_path: Path,
    curves_path: Path,
    top_genes_path: Path,
    gene_scores_path: Path,
    completeness_path: Path,
    threads: int,
    verbose: bool,
    **options,
) -> None:
    """Evaluate one model's explanations against the model and the ground truth.

    The five outputs are written together, or none of them.
    """
    import numpy as np

    from .. import io
    from ..evaluate import attribution_scope, evaluate, progress_total
    from ..graph import load_graph
    from ..models import load_model

    opt.setup_logging(verbose=verbose)
    opt.set_threads(threads)
    attributions = io.read_h5ad(attributions_path)
    model = load_model(model_path)
    # Only the explained rows are read, and made dense.
    explained = attributions.obs_names
    prepared = io.read_h5ad(
        input_path,
        dense_rows=attributions.n_obs,
        rows=lambda obs: np.flatnonzero(obs.index.isin(explained)),
    )
    graph = load_graph(graph_path) if graph_path is not None else None
    total = progress_total(
        n_random=options["n_random"],
        curve_random=options["curve_random"],
        scope=attribution_scope(attributions),
    )
    result = evaluate(
        prepared,
        model,
        attributions,
        graph=graph,
        progress=opt.progress(total, f"evaluate {output_path.name}", unit="steps"),
        **options,
    )
    outputs = (output_path, curves_path, top_genes_path, completeness_path, gene_scores_path)
    with io.atomic_paths(*outputs) as (metrics, curves, top_genes, completeness, gene_scores):
        io.write_table(result.metrics, metrics)
        io.write_table(result.curves, curves)
        io.write_table(result.top_genes, top_genes)
        io.write_table(result.completeness, completeness)
        io.write_h5ad(result.gene_scores, gene_scores)
