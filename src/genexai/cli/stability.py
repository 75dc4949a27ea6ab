"""STABILITY: how much gene rankings agree across seeds and models (Jaccard, Spearman, Kendall).

``genexai stability`` and ``bin/stability.py``.
"""

from __future__ import annotations

from pathlib import Path

import click

from . import _options as opt


@opt.command("stability")
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
    callback=opt.positive_ints,
    help="Top-set sizes of jaccard@k, comma-separated.",
)
@opt.output_option(help="Output pairwise .tsv (tidy), written atomically.")
@opt.output_option(
    "--summary",
    "summary_path",
    help="Output .tsv of the mean and std over the pairs of each model pair.",
)
@opt.common_options
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
    from .. import io
    from ..stability import progress_total, stability

    opt.setup_logging(verbose=verbose)
    opt.set_threads(threads)
    gene_scores = [io.read_h5ad(path) for path in input_paths]
    total = progress_total(gene_scores)
    result = stability(
        gene_scores,
        top_k=top_k,
        where=[str(path) for path in input_paths],
        progress=opt.progress(total, f"stability {output_path.name}", unit="variants"),
    )
    with io.atomic_paths(output_path, summary_path) as (pairs, summary):
        io.write_table(result.pairs, pairs)
        io.write_table(result.summary, summary)
