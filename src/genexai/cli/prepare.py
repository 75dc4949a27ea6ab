"""PREPARE: drop small classes, split train/test, transform with training statistics.

``genexai prepare`` and ``bin/prepare.py``.
"""

from __future__ import annotations

from pathlib import Path

import click

from .._defaults import SPLITS, TRANSFORMS
from . import _options as opt


@opt.command("prepare")
@opt.input_option(help="Imported or simulated .h5ad file.")
@opt.output_option(help="Output .h5ad file, written atomically.")
@click.option(
    "--transform",
    type=click.Choice(TRANSFORMS),
    default="zscore",
    help="Paper: log2_zscore (PanCan), log2_cpm_center (BRCA/KIRC), zscore (simulations).",
)
@click.option(
    "--split",
    type=click.Choice(SPLITS),
    default="stratified",
    help="stratified, or paper (not stratified; use --test-size 0.4 --seed 43).",
)
@click.option(
    "--test-size",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.4,
    help="Fraction of samples in the test split.",
)
@opt.seed_option(default=43)
@click.option(
    "--min-samples-per-class",
    type=click.IntRange(min=1),
    default=2,
    help="Drop the classes with fewer samples.",
)
@opt.output_option(
    "--summary",
    "summary_path",
    required=False,
    help="Also write the samples per class and split to this .tsv (needs --dataset).",
)
@click.option("--dataset", help="Dataset name for the summary's 'dataset' column.")
@click.option(
    "--baseline-class",
    help="Refuse now a class_mean baseline class that ATTRIBUTE would refuse later.",
)
@click.option(
    "--classes",
    help="Refuse now studied classes (comma-separated) that ATTRIBUTE would refuse later.",
)
@opt.memory_option
@click.option("--verbose", is_flag=True, help="Log the dropped classes.")
def main(
    *,
    input_path: Path,
    output_path: Path,
    transform: str,
    split: str,
    test_size: float,
    seed: int,
    min_samples_per_class: int,
    summary_path: Path | None,
    dataset: str | None,
    baseline_class: str | None,
    classes: str | None,
    verbose: bool,
) -> None:
    """Split and transform an AnnData for training (method.md §2)."""
    if summary_path is not None and not dataset:
        msg = "--summary needs --dataset (the summary's 'dataset' column)"
        raise click.UsageError(msg)
    from .. import io
    from ..prepare import check_classes, prepare, prepare_summary

    opt.setup_logging(verbose=verbose)
    prepared = prepare(
        # A sparse X stays sparse: PREPARE transforms its stored values.
        io.read_h5ad(input_path, keep_sparse=True),
        transform=transform,
        split=split,
        test_size=test_size,
        seed=seed,
        min_samples_per_class=min_samples_per_class,
        where=str(input_path),
        overwrite=True,  # the file's matrix is not used again: hold it once
    )
    studied = None if classes is None else [c.strip() for c in classes.split(",") if c.strip()]
    check_classes(prepared, baseline_class=baseline_class, classes=studied, where=str(input_path))
    summary = prepare_summary(prepared, dataset=dataset) if summary_path else None
    outputs = [output_path] if summary_path is None else [output_path, summary_path]
    with io.atomic_paths(*outputs) as tmp:
        # Dense z-scores do not compress; a sparse X's indices and stored
        # counts or logs do (to about the imported file's size).
        io.write_h5ad(prepared, tmp[0], compress=io.is_scaled_sparse(prepared))
        if summary is not None:
            io.write_table(summary, tmp[1])
