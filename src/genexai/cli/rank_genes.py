"""RANK_GENES: classical, model-free gene rankings per class (Wilcoxon, t-test, mutual information).

``genexai rank-genes`` and ``bin/rank_genes.py``.
"""

from __future__ import annotations

from pathlib import Path

import click

from .._defaults import RANKINGS
from . import _options as opt


@opt.command("rank-genes")
@opt.input_option(help="Prepared .h5ad from PREPARE (its training split is used).")
@click.option(
    "--method",
    required=True,
    type=click.Choice(RANKINGS),
    help="Ranking: one class against the rest of the training samples.",
)
@click.option("--dataset", required=True, help="Dataset name, recorded in the file.")
@opt.seed_option()
@opt.output_option(help="Output rankings .h5ad (classes x genes), written atomically.")
@opt.common_options
def main(
    *,
    input_path: Path,
    method: str,
    dataset: str,
    seed: int,
    output_path: Path,
    threads: int,
    verbose: bool,
) -> None:
    """Score every gene for every class from the training split, without a model."""
    from .. import io, keys
    from ..rank_genes import progress_total, rank_genes

    opt.setup_logging(verbose=verbose)
    # A sparse prepared X stays sparse (scanpy's tests and the MI blocks take
    # it), and only the training rows are read: an atlas's others never load.
    prepared = io.read_h5ad(input_path, keep_sparse=True, rows=io.split_selector([keys.TRAIN]))
    rankings = rank_genes(
        prepared,
        method=method,
        dataset=dataset,
        seed=seed,
        n_jobs=threads,
        where=str(input_path),
        progress=opt.progress(
            progress_total(prepared), f"rank-genes {output_path.name}", unit="genes"
        ),
    )
    io.write_h5ad(rankings, output_path)
