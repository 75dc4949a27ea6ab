#!/usr/bin/env python3
"""STABILITY: how much gene rankings agree across seeds and models (Jaccard, Spearman, Kendall)."""

from __future__ import annotations

from pathlib import Path

import click

from genexai import _cli, io
from genexai.metrics.stability import run_scores, stability


@click.command(context_settings=_cli.CONTEXT)
@click.option(
    "--input",
    "input_paths",
    required=True,
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Attributions .h5ad of one dataset; repeat for every model and seed.",
)
@click.option("--dataset", required=True, help="Dataset name for the 'dataset' column.")
@click.option(
    "--top-k",
    default="10,100",
    callback=_cli.positive_ints,
    help="Top-set sizes of jaccard@k, comma-separated.",
)
@_cli.output_option(help="Output pairwise .tsv (tidy), written atomically.")
@click.option(
    "--summary",
    "summary_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the mean over pairs of each model pair to this .tsv.",
)
@_cli.common_options
def main(
    *,
    input_paths: tuple[Path, ...],
    dataset: str,
    top_k: tuple[int, ...],
    output_path: Path,
    summary_path: Path | None,
    threads: int,
    verbose: bool,
) -> None:
    """Compare the global gene scores of every pair of attributions files."""
    _cli.setup_logging(verbose=verbose)
    _cli.set_threads(threads)
    with _cli.errors("stability"):
        runs = [run_scores(io.read_h5ad(path), where=str(path)) for path in input_paths]
        pairs, summary = stability(runs, dataset=dataset, top_k=top_k)
        io.write_table(pairs, output_path)
        if summary_path is not None:
            io.write_table(summary, summary_path)


if __name__ == "__main__":
    main()
