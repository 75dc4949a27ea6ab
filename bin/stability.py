#!/usr/bin/env python3
"""STABILITY: how much gene rankings agree across seeds and models (Jaccard, Spearman, Kendall)."""

from __future__ import annotations

from pathlib import Path

import click

from genexai import _cli, io
from genexai.stability import stability

OUT = click.Path(dir_okay=False, path_type=Path)


@click.command(context_settings=_cli.CONTEXT)
@click.option(
    "--input",
    "input_paths",
    required=True,
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Gene scores .h5ad from EVALUATE, of one dataset; repeat for every model and seed.",
)
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
    required=True,
    type=OUT,
    help="Output .tsv of the mean and std over the pairs of each model pair.",
)
@_cli.common_options
def main(
    *,
    input_paths: tuple[Path, ...],
    top_k: tuple[int, ...],
    output_path: Path,
    summary_path: Path,
    threads: int,
    verbose: bool,
) -> None:
    """Compare the global gene scores of every pair of runs."""
    _cli.setup_logging(verbose=verbose)
    _cli.set_threads(threads)
    with _cli.errors("stability"):
        result = stability(
            [io.read_h5ad(path) for path in input_paths],
            top_k=top_k,
            where=[str(path) for path in input_paths],
        )
        io.write_table(result.pairs, output_path)
        io.write_table(result.summary, summary_path)


if __name__ == "__main__":
    main()
