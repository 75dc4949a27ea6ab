"""ATTRIBUTE: explain a trained classifier gene by gene (Bontonou et al. 2023, §5).

``genexai attribute`` and ``bin/attribute.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import click

from .._defaults import (
    BATCH_SIZE,
    MAX_STEPS_FACTOR,
    N_SAMPLES,
    N_STEPS,
    RANKINGS,
    SEED,
    TOLERANCE,
    Device,
    Method,
    Split,
    Target,
)
from ..errors import InputError
from . import _options as opt


@opt.command("attribute")
@opt.input_option(help="Prepared .h5ad file (obs 'label' and 'split').")
@click.option(
    "--model",
    "model_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Checkpoint .pt from TRAIN.",
)
@click.option(
    "--method",
    type=click.Choice((*get_args(Method), *RANKINGS)),
    default="integrated_gradients",
    help="Attribution method, or a classical ranking (needs --rankings).",
)
@click.option(
    "--rankings",
    "rankings_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Rankings .h5ad from RANK_GENES (classes x genes), for --method wilcoxon, "
    "t_test or mutual_info.",
)
@click.option(
    "--baseline",
    default="zero",
    help="zero, class_mean, or a .npy (model gene order) or one-row .tsv (gene-name header) file.",
)
@click.option("--baseline-class", help="Class whose training mean is the class_mean baseline.")
@click.option(
    "--classes",
    help="Studied classes, comma-separated: only their examples are explained [default: all].",
)
@click.option(
    "--split", type=click.Choice(get_args(Split)), default="test", help="Rows to explain."
)
@click.option(
    "--target",
    type=click.Choice(get_args(Target)),
    default="true",
    help="Explain the probability of the true or predicted class, or the true class's logit.",
)
@click.option(
    "--n-steps", type=click.IntRange(min=1), default=N_STEPS, help="IG Gauss-Legendre nodes."
)
@click.option(
    "--max-steps",
    type=click.IntRange(min=1),
    default=None,
    help="IG: failing examples are redone with n-steps more nodes, up to this "
    f"[default: {MAX_STEPS_FACTOR} x n-steps].",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0),
    default=TOLERANCE,
    help="IG completeness tolerance, percentage points.",
)
@click.option(
    "--n-samples",
    type=click.IntRange(min=1),
    default=N_SAMPLES,
    help="GradientShap random points per example.",
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=BATCH_SIZE, help="Examples per batch."
)
@click.option(
    "--internal-batch-size",
    type=click.IntRange(min=1),
    help="Path points per forward/backward pass [default: the method's].",
)
@click.option(
    "--max-explained-per-class",
    type=click.IntRange(min=1),
    default=None,
    help="Explain at most this many correctly classified examples per class, drawn "
    "with the seed, the same for every method [default: all, as in the paper].",
)
@click.option("--device", type=click.Choice(get_args(Device)), default="auto", help="Torch device.")
@opt.seed_option(default=SEED)
@opt.output_option(help="Output attributions .h5ad, written atomically.")
@opt.common_options
def main(
    *,
    input_path: Path,
    model_path: Path,
    rankings_path: Path | None,
    baseline: str,
    classes: str | None,
    split: str,
    output_path: Path,
    threads: int,
    verbose: bool,
    **options,
) -> None:
    """Attribute each explained example's output to its genes."""
    from .. import io, keys
    from ..attribute import attribute, read_baseline
    from ..io import split_rows
    from ..models import file_sha256, load_model

    opt.setup_logging(verbose=verbose)
    opt.set_threads(threads)
    # A sparse prepared X stays sparse: ATTRIBUTE densifies a batch at a time.
    # Only the rows it uses are read: the split, and the training rows of a
    # class-mean baseline.
    splits = {split, keys.TRAIN} if baseline == "class_mean" else {split}
    adata = io.read_h5ad(input_path, keep_sparse=True, rows=io.split_selector(splits))
    model = load_model(model_path)
    genes = model.genexai["genes"]
    rows = split_rows(adata, split, where=str(input_path))
    io.class_names(rows, where=str(input_path))
    reference = None
    if baseline == "class_mean":
        reference = split_rows(adata, "train", where=str(input_path))
    elif baseline != "zero":
        if not Path(baseline).is_file():
            msg = f"--baseline: expected zero, class_mean or a .npy/.tsv file, found {baseline!r}"
            raise InputError(msg)
        baseline = read_baseline(baseline, genes)
    studied = None if classes is None else [c.strip() for c in classes.split(",") if c.strip()]
    labels = rows.obs[keys.LABEL]
    n = rows.n_obs if studied is None else int(labels.isin(studied).sum())
    rankings = io.read_h5ad(rankings_path) if rankings_path is not None else None
    result = attribute(
        io.align_genes(rows, genes, where=str(input_path)),
        model,
        rankings=rankings,
        baseline=baseline,
        classes=studied,
        reference=reference,
        checkpoint_sha256=file_sha256(model_path),
        progress=opt.progress(n, f"attribute {output_path.name}", unit="examples"),
        **options,
    )
    io.write_h5ad(result, output_path, compress=False)  # attributions do not compress
