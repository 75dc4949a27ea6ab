"""TRAIN: fit one classifier (LR, MLP, DiffuseLR, DiffuseMLP) on a prepared dataset.

``genexai train`` and ``bin/train.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import click

from .._defaults import DEFAULT_HIDDEN, DEFAULTS, Arch, Device
from . import _options as opt


def _milestones(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        msg = f"expected comma-separated epochs such as 12,22, found {value!r}"
        raise click.BadParameter(msg) from None


@opt.command("train")
@opt.input_option(help="Prepared .h5ad file (obs 'label' and 'split').")
@click.option("--model", "arch", required=True, type=click.Choice(get_args(Arch)), help="Model.")
@click.option(
    "--graph",
    "graph_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Gene graph .npz from GRAPH (DiffuseLR and DiffuseMLP only).",
)
@opt.seed_option()
@click.option("--epochs", type=click.IntRange(min=1), default=DEFAULTS.epochs, help="Epochs.")
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULTS.lr,
    help="SGD learning rate.",
)
@click.option(
    "--momentum", type=click.FloatRange(min=0), default=DEFAULTS.momentum, help="SGD momentum."
)
@click.option(
    "--weight-decay",
    type=click.FloatRange(min=0),
    default=DEFAULTS.weight_decay,
    help="SGD weight decay (L2).",
)
@click.option(
    "--milestones",
    default=",".join(map(str, DEFAULTS.milestones)),
    callback=_milestones,
    help="Epochs after which the learning rate is multiplied by --gamma (comma-separated).",
)
@click.option(
    "--gamma",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULTS.gamma,
    help="Learning-rate decay factor.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULTS.batch_size,
    help="Samples per batch.",
)
@click.option(
    "--hidden",
    type=click.IntRange(min=1),
    default=DEFAULT_HIDDEN,
    help="Hidden units (MLP, DiffuseMLP).",
)
@click.option(
    "--dropout",
    type=click.FloatRange(min=0, max=1, max_open=True),
    help="Input dropout [default: 0.2 for LR and DiffuseLR, 0 for MLP and DiffuseMLP].",
)
@click.option(
    "--shuffle/--no-shuffle", default=DEFAULTS.shuffle, help="New batch order every epoch."
)
@click.option(
    "--device",
    type=click.Choice(get_args(Device)),
    default="auto",
    help="Torch device; cuda fails if unavailable.",
)
@opt.output_option(help="Output checkpoint .pt, written atomically.")
@opt.output_option("--metrics", "metrics_path", help="Output metrics .json, written atomically.")
@click.option("--dataset", help="Dataset name, written in the metrics .json.")
@opt.common_options
def main(
    *,
    input_path: Path,
    arch: str,
    graph_path: Path | None,
    seed: int,
    hidden: int,
    dropout: float | None,
    device: str,
    output_path: Path,
    metrics_path: Path,
    dataset: str | None,
    threads: int,
    verbose: bool,
    **schedule,
) -> None:
    """Train one model; write its checkpoint and its metrics."""
    from .. import io
    from ..graph import load_graph
    from ..models import save_checkpoint
    from ..train import Schedule, fit, write_metrics

    opt.setup_logging(verbose=verbose)
    opt.set_threads(threads)
    # A sparse prepared X stays sparse: TRAIN densifies a chunk of batches at a time.
    adata = io.read_h5ad(input_path, keep_sparse=True)
    graph = None if graph_path is None else load_graph(graph_path)
    result = fit(
        adata,
        arch=arch,
        seed=seed,
        graph=graph,
        hidden=hidden,
        dropout=dropout,
        schedule=Schedule(**schedule),
        device=device,
        where=str(input_path),
        progress=opt.progress(schedule["epochs"], f"train {output_path.name}", unit="epochs"),
    )
    with io.atomic_paths(output_path, metrics_path) as (checkpoint, metrics):
        save_checkpoint(checkpoint, result.model, meta=result.meta)
        write_metrics({"dataset": dataset, **result.metrics}, metrics)
