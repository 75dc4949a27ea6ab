#!/usr/bin/env python3
"""EVALUATE: prediction gaps, feature agreement, curves, top genes, gene scores (§6-8)."""

from __future__ import annotations

from pathlib import Path

import click

from genexai import _cli, io
from genexai.evaluate import evaluate, progress_total
from genexai.graph import load_graph
from genexai.models import load_model

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
OUT = click.Path(dir_okay=False, path_type=Path)


@click.command(context_settings=_cli.CONTEXT)
@click.option(
    "--attributions",
    "attributions_path",
    required=True,
    type=FILE,
    help="Attributions .h5ad from ATTRIBUTE.",
)
@click.option("--model", "model_path", required=True, type=FILE, help="Checkpoint .pt from TRAIN.")
@_cli.input_option(help="Prepared .h5ad holding the explained examples (matched by name).")
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
    callback=_cli.positive_ints,
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
    "--batch-size",
    type=click.IntRange(min=1),
    default=64,
    help="Examples per prediction-gap batch (memory ~ batch x genes/gap x (hidden + 2 classes)).",
)
@_cli.seed_option()
@_cli.output_option(help="Output metrics .tsv (tidy), written atomically.")
@click.option("--curves", "curves_path", required=True, type=OUT, help="Output curves .tsv.")
@click.option(
    "--top-genes", "top_genes_path", required=True, type=OUT, help="Output top genes .tsv."
)
@click.option(
    "--gene-scores",
    "gene_scores_path",
    required=True,
    type=OUT,
    help="Output per-class gene scores .h5ad (classes x genes), STABILITY's input.",
)
@click.option(
    "--completeness",
    "completeness_path",
    required=True,
    type=OUT,
    help="Output completeness .tsv (one row per explained example).",
)
@_cli.common_options
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
    """Evaluate one model's explanations against the model and the ground truth."""
    _cli.setup_logging(verbose=verbose)
    _cli.set_threads(threads)
    with _cli.errors("evaluate"):
        attributions = io.read_h5ad(attributions_path)
        model = load_model(model_path)
        prepared = io.read_h5ad(input_path)
        graph = load_graph(graph_path) if graph_path is not None else None
        total = progress_total(n_random=options["n_random"], curve_random=options["curve_random"])
        result = evaluate(
            prepared,
            model,
            attributions,
            graph=graph,
            progress=_cli.progress(total, "evaluate"),
            **options,
        )
        io.write_table(result.metrics, output_path)
        io.write_table(result.curves, curves_path)
        io.write_table(result.top_genes, top_genes_path)
        io.write_table(result.completeness, completeness_path)
        io.write_h5ad(result.gene_scores, gene_scores_path)


if __name__ == "__main__":
    main()
