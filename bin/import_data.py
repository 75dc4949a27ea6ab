#!/usr/bin/env python3
"""IMPORT: read expression data and labels into an AnnData, samples × genes."""

from __future__ import annotations

from pathlib import Path

import click

from genexai import _cli, io
from genexai.import_data import FORMATS, import_data, input_size


@click.command(context_settings=_cli.CONTEXT)
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
@_cli.output_option(help="Output .h5ad file, written atomically.")
@_cli.memory_option
@click.option("--verbose", is_flag=True, help="Log what each filter dropped.")
def main(
    *,
    input_path: Path,
    format_: str,
    labels_path: Path | None,
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
    _cli.setup_logging(verbose=verbose)
    with _cli.errors("import"):
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
            progress=_cli.progress(input_size(input_path), "import"),
        )
        io.write_h5ad(adata, output_path)


if __name__ == "__main__":
    main()
