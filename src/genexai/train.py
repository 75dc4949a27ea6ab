"""Training and evaluating the classifiers (method.md §4).

SGD (lr 0.1, momentum 0.9, weight decay 1e-4 on every parameter),
cross-entropy on logits without class weights, MultiStepLR at epochs 12 and
22 (γ 0.1), 25 epochs, batches of 32 with a partial last batch; every
setting can be changed. Metrics, in eval mode after the last epoch: train
accuracy, balanced test accuracy (scikit-learn), confusion matrix and
per-class recall, all in percent.

Reproducibility: ``seed`` fixes the batch order (a private
:class:`torch.Generator`) and the dropout masks (the global generator, seeded
inside :func:`torch.random.fork_rng` and restored afterwards); the
initialisation comes from :func:`genexai.models.build_model`'s seed. On the
CPU, the same seed and thread count give bit-identical results.

Speed: the diffusion of the diffused models is frozen, so it is applied once
to the whole training set; each epoch then gathers the samples in batch
order into one contiguous buffer, so a batch is a view, not a copy. A sparse
prepared input (:class:`genexai.io.ScaledRows`) is never made dense whole:
each epoch makes dense one chunk of whole batches at a time, in the same
order, so it trains as the same data given dense.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import anndata as ad
import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score, confusion_matrix
from torch import nn

from . import __version__, io, keys
from ._defaults import DEFAULTS, Schedule
from .errors import InputError
from .models import (
    DEFAULT_HIDDEN,
    Arch,
    Device,
    GeneModel,
    build_model,
    cpu_dropout_draws,
    derived_seed,
    describe_device,
    preprocessing_reference,
    resolve_device,
    seeded_global_rngs,
)

if TYPE_CHECKING:
    from .graph import Graph

logger = logging.getLogger(__name__)


class TrainResult(NamedTuple):
    """What :func:`fit` returns."""

    model: GeneModel  #: trained, eval mode, ``model.genexai`` = meta
    meta: dict  #: checkpoint metadata (JSON-serialisable)
    metrics: dict  #: the metrics JSON (JSON-serialisable)


def _check_schedule(schedule: Schedule) -> None:
    checks = (
        ("epochs", schedule.epochs >= 1, "a positive integer", schedule.epochs),
        ("lr", schedule.lr > 0, "a positive number", schedule.lr),
        ("momentum", schedule.momentum >= 0, "a non-negative number", schedule.momentum),
        (
            "weight_decay",
            schedule.weight_decay >= 0,
            "a non-negative number",
            schedule.weight_decay,
        ),
        ("gamma", schedule.gamma > 0, "a positive number", schedule.gamma),
        ("batch_size", schedule.batch_size >= 1, "a positive integer", schedule.batch_size),
        (
            "milestones",
            all(m >= 1 for m in schedule.milestones)
            and list(schedule.milestones) == sorted(set(schedule.milestones)),
            "increasing positive epochs",
            list(schedule.milestones),
        ),
    )
    for field, ok, expected, found in checks:
        if not ok:
            msg = f"{field}: expected {expected}, found {found}"
            raise InputError(msg)


def train_model(
    model: GeneModel,
    x: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    *,
    epochs: int = DEFAULTS.epochs,
    lr: float = DEFAULTS.lr,
    momentum: float = DEFAULTS.momentum,
    weight_decay: float = DEFAULTS.weight_decay,
    milestones: Sequence[int] = DEFAULTS.milestones,
    gamma: float = DEFAULTS.gamma,
    batch_size: int = DEFAULTS.batch_size,
    shuffle: bool = DEFAULTS.shuffle,
    seed: int,
    device: Device | str | torch.device = "cpu",
    progress: Callable[[int], object] | None = None,
) -> dict[str, list]:
    """Train ``model`` in place with SGD + MultiStepLR + cross-entropy.

    Parameters
    ----------
    model
        From :func:`genexai.models.build_model`; moved to ``device``.
    x
        Training inputs ``(n_train, n_genes)``, float32 (transformed values),
        dense or a :class:`genexai.io.ScaledRows` (made dense a chunk of
        batches at a time, :data:`SCALED_CHUNK_ELEMENTS`).
    y
        Class indices ``(n_train,)``, int, in ``[0, n_classes)``.
    epochs, lr, momentum, weight_decay, milestones, gamma, batch_size
        See :class:`Schedule`; ``milestones`` are the epochs after which the
        learning rate is multiplied by ``gamma``.
    shuffle
        Draw a new batch order every epoch (from ``seed``); otherwise keep
        the row order.
    seed
        Seeds the batch order and the dropout masks.
    device
        ``cpu``, ``cuda`` (an error if unavailable) or ``auto``.
    progress
        Called with 1 after each epoch.

    Returns
    -------
    The training curve, one entry per epoch: ``epoch`` (1-based), ``lr``
    (used during the epoch), ``loss`` (mean cross-entropy over the epoch's
    samples, in train mode) and ``accuracy`` (% of the epoch's samples
    predicted right while training). The model is left in eval mode.

    Notes
    -----
    With batch normalisation a batch of one sample cannot be normalised;
    when ``n_train % batch_size == 1`` that last sample is left out of the
    epoch (a warning is logged).
    """
    schedule = Schedule(
        epochs=epochs,
        lr=lr,
        momentum=momentum,
        weight_decay=weight_decay,
        milestones=tuple(int(m) for m in milestones),
        gamma=gamma,
        batch_size=batch_size,
        shuffle=shuffle,
    )
    _check_schedule(schedule)
    device = resolve_device(device)
    scaled = x if isinstance(x, io.ScaledRows) else None
    if scaled is None:
        x = torch.as_tensor(x, dtype=model.linear.weight.dtype)
    y = torch.as_tensor(y, dtype=torch.int64)
    n = x.shape[0]
    if n == 0:
        msg = "training data: empty training split (0 samples)"
        raise InputError(msg)
    if x.ndim != 2 or x.shape[1] != model.n_genes or y.shape != (n,):
        msg = (
            f"training data: expected x ({n}, {model.n_genes}) and y ({n},), "
            f"found {tuple(x.shape)} and {tuple(y.shape)}"
        )
        raise InputError(msg)
    if int(y.min()) < 0 or int(y.max()) >= model.n_classes:
        msg = (
            f"training labels: expected class indices in [0, {model.n_classes}), "
            f"found {int(y.min())}..{int(y.max())}"
        )
        raise InputError(msg)
    batch_norm = any(isinstance(m, nn.BatchNorm1d) for m in model.modules())
    drop_single = batch_norm and n % batch_size == 1
    if batch_norm and n == 1:
        msg = (
            f"training data: {model.arch} uses batch normalisation and needs at least "
            "2 training samples, found 1"
        )
        raise InputError(msg)
    if drop_single:
        logger.warning(
            "%d training samples: the last batch of 1 is skipped every epoch (batch normalisation)",
            n,
        )
    logger.info(
        "training %s on %s (torch %s, CUDA %s): %d samples x %d genes, %d epochs, batch %d",
        model.arch,
        describe_device(device),
        torch.__version__,
        torch.version.cuda,
        n,
        model.n_genes,
        epochs,
        batch_size,
    )

    model.to(device)
    y = y.to(device)
    order = torch.Generator().manual_seed(derived_seed(seed, "order")) if shuffle else None
    if scaled is None:
        with torch.no_grad():
            # Row-major, so that each batch is one contiguous block.
            features = model.features(x.to(device)).contiguous()
        epoch_buffers = (torch.empty_like(features), torch.empty_like(y)) if shuffle else None
    # The fused kernel updates each parameter in one pass (25% of an LR step).
    optimiser = torch.optim.SGD(
        model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay, fused=True
    )
    scheduler = torch.optim.lr_scheduler.MultiStepLR(
        optimiser, milestones=list(schedule.milestones), gamma=gamma
    )
    loss_fn = nn.CrossEntropyLoss()
    stop = n - 1 if drop_single else n
    history: dict[str, list] = {"epoch": [], "lr": [], "loss": [], "accuracy": []}
    dropout_seed = derived_seed(seed, "dropout")
    with seeded_global_rngs(dropout_seed, device), cpu_dropout_draws(model, dropout_seed):
        for epoch in range(1, epochs + 1):
            model.train()
            perm = torch.randperm(n, generator=order).to(device) if shuffle else None
            if scaled is None:
                chunks = _dense_epoch(features, y, perm, epoch_buffers)
            else:
                chunks = _scaled_epoch(model, scaled, y, perm, batch_size=batch_size, device=device)
            # Summed on the device: no host sync per batch.
            total_loss = torch.zeros((), device=device)
            correct = torch.zeros((), dtype=torch.int64, device=device)
            offset = 0
            for x_chunk, y_chunk in chunks:
                for start in range(0, min(len(y_chunk), stop - offset), batch_size):
                    xb = x_chunk[start : start + batch_size]
                    yb = y_chunk[start : start + batch_size]
                    logits = model.body(xb)
                    loss = loss_fn(logits, yb)
                    optimiser.zero_grad(set_to_none=True)
                    loss.backward()
                    optimiser.step()
                    total_loss += loss.detach() * yb.shape[0]
                    correct += (logits.detach().argmax(1) == yb).sum()
                offset += len(y_chunk)
            history["epoch"].append(epoch)
            history["lr"].append(optimiser.param_groups[0]["lr"])
            history["loss"].append(float(total_loss) / stop)
            history["accuracy"].append(100.0 * int(correct) / stop)
            scheduler.step()
            logger.info(
                "epoch %d/%d: loss %.4f, train accuracy %.2f%%",
                epoch,
                epochs,
                history["loss"][-1],
                history["accuracy"][-1],
            )
            if progress is not None:
                progress(1)
    model.eval()
    return history


#: Elements (float32) of the chunk of a sparse training set made dense at a
#: time: 64 MiB, so a million cells never exist densified at once.
SCALED_CHUNK_ELEMENTS = 1 << 24


def _dense_epoch(
    features: torch.Tensor,
    y: torch.Tensor,
    perm: torch.Tensor | None,
    buffers: tuple[torch.Tensor, torch.Tensor] | None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch's samples in batch order, as one chunk gathered into ``buffers``."""
    if perm is None:
        yield features, y
        return
    x_epoch, y_epoch = buffers
    torch.index_select(features, 0, perm, out=x_epoch)
    torch.index_select(y, 0, perm, out=y_epoch)
    yield x_epoch, y_epoch


def _scaled_epoch(
    model: GeneModel,
    x: io.ScaledRows,
    y: torch.Tensor,
    perm: torch.Tensor | None,
    *,
    batch_size: int,
    device: torch.device,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch's samples in batch order, made dense a chunk of whole batches at a time.

    The batches are those of :func:`_dense_epoch`; the values differ from a
    dense input's only by the float32 rounding of the sparse values.
    """
    order = np.arange(len(y)) if perm is None else perm.cpu().numpy()
    rows = batch_size * max(1, SCALED_CHUNK_ELEMENTS // (batch_size * max(x.shape[1], 1)))
    for start in range(0, len(order), rows):
        index = order[start : start + rows]
        with torch.no_grad():
            chunk = model.features(torch.from_numpy(x[index]).to(device))
        yield chunk, y[torch.as_tensor(index, device=device)]


def predict_logits(
    model: nn.Module, x: np.ndarray | torch.Tensor, *, batch_size: int = 1024
) -> np.ndarray:
    """Logits ``(n, n_classes)`` in eval mode, computed by batches.

    ``x`` is ``(n, n_genes)``, dense or a :class:`genexai.io.ScaledRows`
    (read a batch at a time); it is cast to the model's dtype (float32 for
    :func:`~genexai.models.build_model` models) and moved batch by batch to
    its device. The model is left in eval mode.
    """
    model.eval()
    weight = next(model.parameters(), torch.empty(0))
    if not isinstance(x, io.ScaledRows):
        x = torch.as_tensor(x, dtype=weight.dtype)
    with torch.no_grad():
        out = [
            model(
                torch.as_tensor(x[start : start + batch_size], dtype=weight.dtype).to(weight.device)
            ).cpu()
            for start in range(0, x.shape[0], batch_size)
        ]
    return torch.cat(out).numpy() if out else np.zeros((0, 0), dtype=np.float32)


def evaluate_model(
    model: nn.Module,
    x: np.ndarray | torch.Tensor,
    y: np.ndarray,
    classes: Sequence[str],
    *,
    batch_size: int = 1024,
) -> dict[str, Any]:
    """Accuracy metrics of ``model`` on ``(x, y)``, in eval mode.

    Parameters
    ----------
    x
        Inputs ``(n, n_genes)`` float32, ``n >= 1``.
    y
        True class indices ``(n,)`` int.
    classes
        Class names, in class-index order.

    Returns
    -------
    ``n``; ``accuracy`` (%); ``balanced_accuracy`` (%, scikit-learn's mean
    recall over the classes present in ``y``); ``confusion_matrix``
    (``n_classes × n_classes`` counts, rows = true, columns = predicted);
    ``recall`` (class name → %, ``None`` for a class absent from ``y``).
    """
    y = np.asarray(y)
    if y.size == 0:
        msg = "evaluation data: no samples"
        raise InputError(msg)
    predicted = predict_logits(model, x, batch_size=batch_size).argmax(axis=1)
    matrix = confusion_matrix(y, predicted, labels=np.arange(len(classes)))
    support = matrix.sum(axis=1)
    with warnings.catch_warnings():
        # A class predicted but absent from y is expected on small test sets.
        warnings.simplefilter("ignore", UserWarning)
        balanced = 100.0 * balanced_accuracy_score(y, predicted)
    return {
        "n": int(y.size),
        "accuracy": 100.0 * float(np.mean(predicted == y)),
        "balanced_accuracy": float(balanced),
        "confusion_matrix": matrix.tolist(),
        "recall": {
            str(name): (100.0 * matrix[i, i] / support[i] if support[i] else None)
            for i, name in enumerate(classes)
        },
    }


def _rows(x: Any, rows: np.ndarray) -> np.ndarray | io.ScaledRows:
    """Rows of a prepared matrix: dense, or still sparse when it is :class:`io.ScaledRows`."""
    return x.subset(rows) if isinstance(x, io.ScaledRows) else io.dense_rows(x, rows)


def fit(
    adata: ad.AnnData,
    *,
    arch: Arch,
    seed: int,
    graph: Graph | None = None,
    hidden: int = DEFAULT_HIDDEN,
    dropout: float | None = None,
    schedule: Schedule = DEFAULTS,
    device: Device | str = "auto",
    where: str = "input",
    progress: Callable[[int], object] | None = None,
) -> TrainResult:
    """Build, train and evaluate one model on a prepared dataset.

    Parameters
    ----------
    adata
        Prepared AnnData ``(n_obs, n_genes)``: transformed float32 ``X``,
        categorical ``obs['label']`` (its categories are the classes) and
        ``obs['split']`` (``train`` rows are fitted, ``test`` rows evaluated).
    arch
        ``LR``, ``MLP``, ``DiffuseLR`` or ``DiffuseMLP``.
    seed
        Seeds the initialisation, the batch order and the dropout masks.
    graph
        From :func:`genexai.graph.load_graph`; required by the diffused
        models. Its genes must be the data's genes (matched by name).
    hidden, dropout
        See :func:`genexai.models.build_model`.
    schedule
        Optimisation settings (:class:`Schedule`).
    device
        ``auto``, ``cpu`` or ``cuda`` (an error if CUDA is unavailable).
    where
        Names the data in error messages (usually its file).
    progress
        Called with 1 after each epoch.

    Returns
    -------
    :class:`TrainResult`. ``meta``: ``genes``, ``classes``, ``seed``,
    ``preprocessing`` (:func:`preprocessing_reference`), ``training`` (the
    schedule and device), ``graph`` (threshold and nnz, or ``None``),
    ``versions``. ``metrics``: ``model``, ``seed``, ``device``,
    ``n_train``, ``n_test``, ``classes``, ``train_accuracy``,
    ``test_accuracy`` and ``balanced_accuracy`` (% or ``None`` without
    test rows), ``train`` and ``test`` (:func:`evaluate_model`, or ``None``),
    ``history`` (:func:`train_model`), ``hparams``.
    """
    device = resolve_device(device)
    classes = io.class_names(adata, where=where)
    labels = io.label_codes(adata, classes, where=where)
    train_rows = io.split_indices(adata, keys.TRAIN, where=where)
    test_rows = io.split_indices(adata, keys.TEST, where=where)
    counts = np.bincount(labels[train_rows], minlength=len(classes))
    if len(classes) < 2 or (counts == 0).any():
        empty = [c for c, k in zip(classes, counts, strict=True) if k == 0]
        msg = (
            f"{where}: obs[{keys.LABEL!r}] needs at least 2 classes, each with training "
            f"samples; found classes {classes}, without training samples: {empty}"
        )
        raise InputError(msg)
    genes = [str(g) for g in adata.var_names]
    adj = None if graph is None else graph.align(genes, where=f"{where} vs graph")

    model = build_model(
        arch,
        n_genes=len(genes),
        n_classes=len(classes),
        graph=adj,
        hidden=hidden,
        dropout=dropout,
        seed=seed,
    )
    x = io.expression(adata, where=where)
    x_train = _rows(x, train_rows)
    history = train_model(
        model,
        x_train,
        labels[train_rows],
        **dataclasses.asdict(schedule),
        seed=seed,
        device=device,
        progress=progress,
    )
    train_eval = evaluate_model(model, x_train, labels[train_rows], classes)
    del x_train
    test_eval = (
        evaluate_model(model, _rows(x, test_rows), labels[test_rows], classes)
        if test_rows.size
        else None
    )
    training = {**dataclasses.asdict(schedule), "milestones": list(schedule.milestones)}
    meta = {
        "genes": genes,
        "classes": classes,
        "seed": seed,
        "preprocessing": preprocessing_reference(adata),
        "training": {**training, "device": str(device)},
        "graph": None if graph is None else {"threshold": graph.threshold, "nnz": int(adj.nnz)},
        "versions": {"genexai": __version__, "torch": torch.__version__},
    }
    model.genexai = {**meta, "arch": model.arch, "hparams": model.hparams}
    metrics = {
        "model": arch,
        "seed": seed,
        "device": describe_device(device),
        "n_train": int(train_rows.size),
        "n_test": int(test_rows.size),
        "classes": classes,
        keys.TRAIN_ACCURACY: train_eval["accuracy"],
        "test_accuracy": None if test_eval is None else test_eval["accuracy"],
        # The balanced accuracy on the test split: the paper's headline accuracy.
        keys.BALANCED_ACCURACY: None if test_eval is None else test_eval["balanced_accuracy"],
        "train": train_eval,
        "test": test_eval,
        "history": history,
        "hparams": {**model.hparams, **training},
    }
    return TrainResult(model, meta, metrics)


def write_metrics(metrics: dict, path: str | os.PathLike) -> None:
    """Write the metrics dict as indented JSON, atomically."""
    with io.atomic_path(path) as tmp:
        tmp.write_text(json.dumps(metrics, indent=2) + "\n")
