"""GRAPH: the gene correlation graph Â of the diffused models, from the training split.

``genexai graph`` and ``bin/graph.py``.
"""

from __future__ import annotations

from pathlib import Path

import click

from .._defaults import DEFAULT_BLOCK_SIZE, DEFAULT_THRESHOLD
from . import _options as opt


@opt.command("graph")
@opt.input_option(help="Prepared .h5ad file (obs 'split'); only 'train' rows are used.")
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
@opt.output_option(help="Output graph .npz, written atomically.")
@opt.common_options
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
    from .. import io
    from ..graph import graph_from_adata, save_graph

    opt.setup_logging(verbose=verbose)
    opt.set_threads(threads)
    adata = io.read_h5ad(input_path)
    graph = graph_from_adata(
        adata,
        threshold=threshold,
        block_size=block_size,
        where=str(input_path),
        progress=opt.progress(adata.n_vars, f"graph {output_path.name}", unit="genes"),
    )
    save_graph(output_path, graph.adj, genes=graph.genes, threshold=graph.threshold)
