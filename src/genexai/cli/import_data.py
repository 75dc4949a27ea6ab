"""IMPORT: read expression data and labels into an AnnData, samples × genes.

``genexai import-data`` and ``bin/import_data.py``.
"""

from __future__ import annotations

from pathlib import Path

import click

from .._defaults import FORMATS
from . import _options as opt


@opt.command("import-data", step="import")
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Expression file; for star_counts, the folder of per-sample files.",
)
@click.option("--format", "format_", required=True, type=click.Choice(FORMATS), help="Layout.")
@click.option(
    "--labels",
    "labels_path",
    type=click.Path(path_type=Path),
    help="Labels / phenotype / clinical table, or GDC sample sheet (all but h5ad).",
)
@click.option(
    "--input-name",
    metavar="NAME",
    help="What error messages call --input [default: its path]; the pipeline stages "
    "files under fixed names and passes the name the user gave here.",
)
@click.option(
    "--labels-name", metavar="NAME", help="What error messages call --labels [default: its path]."
)
@click.option("--label-key", help="Label column (h5ad: obs column) [default: per format].")
@click.option("--layer", help="h5ad: layer instead of X; star_counts: value column.")
@click.option("--use-raw", is_flag=True, help="h5ad: read raw.X.")
@click.option("--transpose", is_flag=True, help="table: the file is genes x samples.")
@click.option("--keep-label", multiple=True, help="Keep only samples with this label (repeat).")
@click.option("--drop-label", multiple=True, help="Drop samples with this label (repeat).")
@click.option(
    "--filter-genes/--no-filter-genes",
    default=None,
    help="The paper's gene filters [default: on, except for h5ad and table].",
)
@opt.output_option(help="Output .h5ad file, written atomically.")
@opt.memory_option
@click.option("--verbose", is_flag=True, help="Log what each filter dropped.")
def main(
    *,
    input_path: Path,
    format_: str,
    labels_path: Path | None,
    input_name: str | None,
    labels_name: str | None,
    label_key: str | None,
    layer: str | None,
    use_raw: bool,
    transpose: bool,
    keep_label: tuple[str, ...],
    drop_label: tuple[str, ...],
    filter_genes: bool | None,
    output_path: Path,
    verbose: bool,
) -> None:
    """Import TCGA/GDC/Xena files, a CSV/TSV matrix or an .h5ad for PREPARE."""
    from .. import io
    from ..import_data import import_data, input_size

    opt.setup_logging(verbose=verbose)
    adata = import_data(
        input_path,
        format=format_,
        labels=labels_path,
        label_key=label_key,
        layer=layer,
        use_raw=use_raw,
        transpose=transpose,
        keep_labels=keep_label or None,
        drop_labels=drop_label,
        filter_genes=filter_genes,
        progress=opt.progress(input_size(input_path), f"import {output_path.name}", unit="bytes"),
        input_name=input_name,
        labels_name=labels_name,
    )
    io.write_h5ad(adata, output_path)
