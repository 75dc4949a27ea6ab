#!/usr/bin/env python3
"""GRAPH: the gene correlation graph Â of the diffused models, from the training split."""

from __future__ import annotations

from pathlib import Path

import click

from genexai import _cli, io
from genexai.graph import DEFAULT_BLOCK_SIZE, DEFAULT_THRESHOLD, graph_from_adata, save_graph


@click.command(context_settings=_cli.CONTEXT)
@_cli.input_option(help="Prepared .h5ad file (obs 'split'); only 'train' rows are used.")
@click.option(
    "--threshold",
    type=click.FloatRange(min=-1, max=1),
    default=DEFAULT_THRESHOLD,
    help="Keep gene pairs whose Pearson correlation is above this.",
)
@click.option(
    "--block-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BLOCK_SIZE,
    help="Genes per block of correlations (memory: block x genes float32).",
)
@_cli.output_option(help="Output graph .npz, written atomically.")
@_cli.common_options
def main(
    *,
    input_path: Path,
    threshold: float,
    block_size: int,
    output_path: Path,
    threads: int,
    verbose: bool,
) -> None:
    """Correlate genes over the training samples; write the normalised graph."""
    _cli.setup_logging(verbose=verbose)
    _cli.set_threads(threads)
    with _cli.errors("graph"):
        adata = io.read_h5ad(input_path)
        graph = graph_from_adata(
            adata,
            threshold=threshold,
            block_size=block_size,
            where=str(input_path),
            progress=_cli.progress(adata.n_vars, "graph"),
        )
        save_graph(output_path, graph.adj, genes=graph.genes, threshold=graph.threshold)


if __name__ == "__main__":
    main()
