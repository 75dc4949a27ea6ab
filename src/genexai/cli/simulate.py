"""SIMULATE: gene expression with known biomarkers (Bontonou et al. 2023, §1).

``genexai simulate`` and ``bin/simulate.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import click

from ..simulation import CONFIGS, Layout
from . import _options as opt


@opt.command("simulate")
@click.option("--config", "name", required=True, help=f"One of {', '.join(CONFIGS)}.")
@click.option("--n-samples", type=int, help="Samples [default: the configuration's].")
@click.option("--n-classes", type=int, help="Generated classes.")
@click.option("--n-genes", type=int, help="Genes.")
@click.option("--n-pathways", type=int, help="Pathways.")
@click.option("--n-over", type=int, help="Over-expressed pathways per generated class.")
@click.option(
    "--class-gap", type=float, help="Prior weight of over-expressed vs background pathways."
)
@click.option("--alpha-scale", type=float, help="Factor on the whole pathway prior.")
@click.option("--eta-concentration", type=float, help="Dirichlet concentration of genes.")
@click.option("--layout", type=click.Choice(get_args(Layout)), help="Pathway -> gene layout.")
@click.option("--genes-per-pathway", type=int, help="Genes (expected, if random) per pathway.")
@click.option("--n-reads", type=int, help="Reads per sample before per-million scaling.")
@click.option("--class-proportions", help="Per generated class, e.g. 0.25,0.75.")
@click.option("--min-prop", type=float, help="Validity rule [default: 0.1/genes-per-pathway].")
@click.option("--merge", help="identity, last_vs_rest, or a task class per class (0,0,1).")
@opt.seed_option()
@opt.output_option(help="Output .h5ad file, written atomically.")
@opt.common_options
def main(
    *,
    name: str,
    class_proportions: str | None,
    merge: str | None,
    seed: int,
    output_path: Path,
    threads: int,
    verbose: bool,
    **overrides: int | float | str | None,
) -> None:
    """Simulate per-million expression with known informative genes.

    Every option left out takes the value of the --config configuration.
    A sparse configuration (SingleCell) is written chunk by chunk.
    """
    from ..simulate import get_config, parse_merge, parse_proportions, write_simulation

    opt.setup_logging(verbose=verbose)
    config = get_config(
        name,
        class_proportions=parse_proportions(class_proportions) if class_proportions else None,
        merge=parse_merge(merge) if merge else None,
        **overrides,
    )
    write_simulation(
        config,
        output_path,
        seed=seed,
        threads=threads,
        progress=opt.progress(config.n_samples, f"simulate {output_path.name}", unit="samples"),
    )
