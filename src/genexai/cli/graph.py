"""GRAPH: the gene correlation graph Â of the diffused models, from the training split.

``genexai graph`` and ``bin/graph.py``.
"""

from __future__ import annotations

from pathlib import Path

import click

from .._defaults import DEFAULT_BLOCK_SIZE, DEFAULT_GRAPH_SEED, DEFAULT_MAX_CELLS, DEFAULT_THRESHOLD
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
@click.option(
    "--max-cells",
    type=click.IntRange(min=2),
    default=DEFAULT_MAX_CELLS,
    show_default=True,
    help="Correlate over at most this many training cells (a uniform seeded subsample of "
    "a larger training split; memory: cells x genes float32).",
)
@click.option(
    "--seed",
    type=int,
    default=DEFAULT_GRAPH_SEED,
    show_default=True,
    help="Seed of that subsample (fixed: one graph per dataset, whatever the model seed).",
)
@opt.output_option(help="Output graph .npz, written atomically.")
@opt.common_options
def main(
    *,
    input_path: Path,
    threshold: float,
    block_size: int,
    max_cells: int,
    seed: int,
    output_path: Path,
    threads: int,
    verbose: bool,
) -> None:
    """Correlate genes over the training samples; write the normalised graph."""
    from .. import io
    from ..graph import graph_from_adata, save_graph

    opt.setup_logging(verbose=verbose)
    opt.set_threads(threads)
    # Charged what it holds: the file's arrays (a sparse X stays sparse) plus
    # the dense standardised copy of at most max_cells rows.
    adata = io.read_h5ad(input_path, keep_sparse=True, dense_rows=max_cells)
    graph = graph_from_adata(
        adata,
        threshold=threshold,
        block_size=block_size,
        max_cells=max_cells,
        seed=seed,
        where=str(input_path),
        progress=opt.progress(adata.n_vars, f"graph {output_path.name}", unit="genes"),
    )
    save_graph(output_path, graph.adj, genes=graph.genes, threshold=graph.threshold)
