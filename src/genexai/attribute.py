"""The ATTRIBUTE step: explain a trained classifier's examples, gene by gene.

:func:`attribute` runs one of :data:`genexai.attribution.METHODS` over the
examples of an AnnData, batch by batch, and writes the attributions file of
``docs/architecture.md``. The methods themselves (tensors in, tensors out)
live in :mod:`genexai.attribution`; their defaults are declared there once.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

import anndata as ad
import numpy as np
import pandas as pd
import torch
from torch import nn

from . import __version__, io, keys
from ._defaults import BATCH_SIZE, GLOBAL_METHODS, RANKINGS, Ranking, Target
from .attribution import (
    METHODS,
    N_SAMPLES,
    N_STEPS,
    SEED,
    TOLERANCE,
    Attribution,
    ClassScores,
    Method,
    default_max_steps,
)
from .errors import InputError
from .models import Device, derived_seed, model_meta, resolve_device

BaselineKind = Literal["zero", "class_mean"]


def attribute(
    adata: ad.AnnData,
    model: nn.Module,
    *,
    method: Method | Ranking = "integrated_gradients",
    rankings: ad.AnnData | None = None,
    baseline: BaselineKind | np.ndarray = "zero",
    baseline_class: str | None = None,
    reference: ad.AnnData | None = None,
    target: Target = "true",
    classes: Sequence[str] | None = None,
    n_steps: int = N_STEPS,
    max_steps: int | None = None,
    tolerance: float | None = TOLERANCE,
    n_samples: int = N_SAMPLES,
    batch_size: int = BATCH_SIZE,
    internal_batch_size: int | None = None,
    max_explained_per_class: int | None = None,
    device: Device | str = "cpu",
    seed: int = SEED,
    checkpoint_sha256: str | None = None,
    progress: Callable[[int], Any] | None = None,
) -> ad.AnnData:
    """Explain every example of the studied classes (method.md §5).

    Parameters
    ----------
    adata
        Examples ``(n_obs, n_genes)`` in the model's transformed space, with a
        categorical ``obs["label"]``. Genes are matched to the model by name.
        Not modified.
    model
        Eval-mode classifier from :func:`genexai.models.load_model`, with
        ``model.genexai`` metadata (``genes``, ``classes``, ``arch``). It is
        moved to ``device``. IG uses the fast hidden-space path when the model
        has the first-linear-layer contract, captum otherwise.
    method
        One of :data:`genexai.attribution.METHODS`, or a classical ranking
        (``wilcoxon``, ``t_test``, ``mutual_info``; needs ``rankings``).
        Default: ``"integrated_gradients"``.
    rankings
        RANK_GENES's file for a ranking ``method``: classes x genes, ``X`` the
        scores, ``obs_names`` the model's classes (any order),
        ``uns["genexai"]["rank_genes"]["method"]`` the method. Genes are
        matched to the model by name. Refused for the other methods.
    baseline
        ``"zero"``; ``"class_mean"``, the mean of the ``reference`` rows of
        ``baseline_class``; or a ``(n_genes,)`` vector in the model's gene
        order. Default: ``"zero"``.
    baseline_class
        Class of the ``"class_mean"`` baseline.
    reference
        Training rows (same genes and labels) for the ``"class_mean"`` baseline.
    target
        What is explained: ``"true"`` (softmax probability of the true class,
        the paper's choice), ``"predicted"`` (of the predicted class) or
        ``"logit"`` (logit of the true class). Default: ``"true"``.
    classes
        Studied classes: only examples whose true class is one of them are
        explained. Default: all the model's classes.
    n_steps, max_steps, tolerance, internal_batch_size
        Integrated Gradients' options, documented (and their defaults
        declared) in :class:`~genexai.attribution.IntegratedGradients`; the
        other methods ignore them.
    n_samples
        GradientShap's random points per example
        (:class:`~genexai.attribution.GradientShap`); ignored by the others.
    batch_size
        Examples per batch, at least 1; with ``internal_batch_size`` it
        bounds memory. Default: :data:`BATCH_SIZE` (256).
    max_explained_per_class
        Cap on the correctly classified examples explained per studied class,
        at least 1; None (the default, the paper's) explains every example.
        A class with more correct examples than the cap has exactly ``cap``
        of them explained, drawn without replacement from a stream of
        ``seed`` (:func:`genexai.models.derived_seed` ``"explained"``), its
        misclassified examples left out; a class at or below the cap keeps
        every row. The rows keep their input order. The draw depends on the
        model's predictions and ``seed`` only, not on ``method``, so that the
        methods of one model run explain the same examples.
    device
        ``"cpu"``, ``"cuda"`` or ``"auto"`` (CUDA when available). Default:
        ``"cpu"``.
    seed
        Seed of ``gradient_shap`` and ``random``, and of the cap's draw.
    checkpoint_sha256
        Digest of the model's checkpoint file, recorded in ``uns``.
    progress
        Called with the number of examples finished after each batch; with a
        cap, the rows it leaves out count as finished once the draw is made,
        so the total is still the studied classes' rows.

    Returns
    -------
    New AnnData, explained examples x genes (the model's gene order):

    - ``X``: attributions, float32.
    - ``obs["label"]``, ``obs["prediction"]``: categorical, categories the
      model's classes; ``obs["correct"]`` bool; ``obs["target"]`` int64, the
      explained class index; ``obs["target_prob"]``, ``obs["baseline_prob"]``
      float64: ``F(x)`` and ``F(b)`` (logits when ``target="logit"``);
      ``obs["completeness_delta"]`` float64, ``|sum_g a_g - (F(x) - F(b))|``,
      and ``obs["n_steps"]`` int64, the nodes (IG) or samples (GradientShap)
      used, 0 otherwise, both for the local methods only;
      ``obs["subclass"]`` when ``adata`` has it.
    - ``varm["informative"]`` when ``adata`` has it.
    - ``uns["genexai"]["attribute"]``: ``method``, ``baseline_kind``,
      ``baseline`` ``(n_genes,)`` float32, ``baseline_class`` (class mean
      only), ``target_kind``, ``classes`` (studied), ``checkpoint_sha256``
      (when given), ``arch``, ``seed``, ``n_steps``, ``max_steps``,
      ``tolerance`` (when not None), ``n_samples``, ``version``, and
      ``scope``: ``"global"`` for :data:`genexai._defaults.GLOBAL_METHODS`
      (each example's row is its target class's score vector: the
      coefficients' weight row, or the ranking's scores), else ``"local"``;
      with a cap, ``max_explained_per_class`` and, per studied class (int64,
      ``classes`` order), ``n_eligible`` (correctly classified input rows)
      and ``n_explained`` (correctly classified explained rows).
    """
    _check_choice("method", method, (*get_args(Method), *RANKINGS))
    _check_choice("target", target, get_args(Target))
    if batch_size < 1:
        msg = f"batch_size: expected at least 1, found {batch_size}"
        raise InputError(msg)
    if max_explained_per_class is not None and max_explained_per_class < 1:
        msg = f"max_explained_per_class: expected at least 1, found {max_explained_per_class}"
        raise InputError(msg)
    genes, model_classes, _ = model_meta(model)
    adata = io.align_genes(adata, genes, where="input")
    codes = io.label_codes(adata, model_classes, where="input")
    studied = model_classes if classes is None else list(classes)
    for name in studied:
        if name not in model_classes:
            msg = f"classes: {name!r} is not one of the model's classes {model_classes}"
            raise InputError(msg)
    keep = np.flatnonzero(np.isin(codes, [model_classes.index(c) for c in studied]))
    if not len(keep):
        msg = f"input: no example of the studied classes {studied} among {adata.n_obs} rows"
        raise InputError(msg)
    base, kind = _baseline(baseline, baseline_class, reference, genes, model_classes)
    scores = _ranking_scores(rankings, method, genes, model_classes)
    scope = "global" if method in GLOBAL_METHODS else "local"

    device = resolve_device(device)
    model.to(device)
    dtype = next(model.parameters(), torch.empty(0)).dtype
    explainer = _explainer(
        ClassScores if scores is not None else METHODS[method],
        model,
        output="logit" if target == "logit" else "probability",
        n_steps=n_steps,
        max_steps=max_steps,
        tolerance=tolerance,
        n_samples=n_samples,
        internal_batch_size=internal_batch_size,
        seed=seed,
        scores=scores,
    )
    b = torch.as_tensor(base, dtype=dtype, device=device)
    matrix = io.expression(adata)
    if max_explained_per_class is not None:
        correct = _predict(model, matrix, keep, b, batch_size=batch_size) == codes[keep]
        eligible = np.bincount(codes[keep][correct], minlength=len(model_classes))
        selected = _cap_rows(
            codes[keep],
            correct,
            max_explained_per_class,
            np.random.default_rng(derived_seed(seed, "explained")),
        )
        if progress is not None and len(selected) < len(keep):
            progress(len(keep) - len(selected))
        keep = keep[selected]
    res = _explain(
        explainer,
        matrix,
        keep,
        codes[keep],
        b,
        predicted=target == "predicted",
        batch_size=batch_size,
        progress=progress,
    )

    obs = pd.DataFrame(index=adata.obs_names[keep].copy())
    obs[keys.LABEL] = pd.Categorical.from_codes(codes[keep], categories=model_classes)
    obs[keys.PREDICTION] = pd.Categorical.from_codes(res["prediction"], categories=model_classes)
    obs[keys.CORRECT] = res["prediction"] == codes[keep]
    local = (keys.DELTA, keys.N_STEPS) if scope == "local" else ()
    for key in (keys.TARGET, keys.TARGET_PROB, keys.BASELINE_PROB, *local):
        obs[key] = res[key]
    if keys.SUBCLASS in adata.obs:
        obs[keys.SUBCLASS] = adata.obs[keys.SUBCLASS].iloc[keep].array
    out = ad.AnnData(X=res["values"], obs=obs, var=pd.DataFrame(index=pd.Index(genes, dtype=str)))
    if keys.INFORMATIVE in adata.varm:
        out.varm[keys.INFORMATIVE] = adata.varm[keys.INFORMATIVE]

    params: dict[str, Any] = {
        keys.METHOD: method,
        keys.BASELINE_KIND: kind,
        keys.BASELINE: base,
        keys.TARGET_KIND: target,
        keys.STUDIED_CLASSES: list(studied),
        keys.ARCH: str(model.genexai.get("arch", type(model).__name__)),
        keys.SEED: seed,
        keys.N_STEPS: n_steps,
        keys.MAX_STEPS: default_max_steps(n_steps) if max_steps is None else max_steps,
        keys.N_SAMPLES: n_samples,
        keys.VERSION: __version__,
        keys.SCOPE: scope,
    }
    if kind == "class_mean":
        params[keys.BASELINE_CLASS] = baseline_class
    if checkpoint_sha256 is not None:
        params[keys.CHECKPOINT_SHA256] = checkpoint_sha256
    if tolerance is not None:
        params[keys.TOLERANCE] = tolerance
    if max_explained_per_class is not None:
        explained = np.bincount(codes[keep][obs[keys.CORRECT].to_numpy()], minlength=len(eligible))
        studied_codes = [model_classes.index(c) for c in studied]
        params[keys.MAX_EXPLAINED_PER_CLASS] = max_explained_per_class
        params[keys.N_ELIGIBLE] = eligible[studied_codes].astype(np.int64)
        params[keys.N_EXPLAINED] = explained[studied_codes].astype(np.int64)
    io.step_uns(out, keys.ATTRIBUTE).update(params)
    return out


def _ranking_scores(
    rankings: ad.AnnData | None, method: str, genes: list[str], classes: list[str]
) -> np.ndarray | None:
    """The ranking's scores ``(n_classes, n_genes)`` float64 in the model's
    class and gene order, or None for a method that is not a ranking."""
    if method not in RANKINGS:
        if rankings is not None:
            msg = f"rankings: only used with the methods {list(RANKINGS)}, found method {method!r}"
            raise InputError(msg)
        return None
    if rankings is None:
        msg = f"rankings: method {method!r} needs RANK_GENES's rankings file, none given"
        raise InputError(msg)
    found = rankings.uns.get(keys.UNS, {}).get(keys.RANK_GENES, {}).get(keys.METHOD)
    if found != method:
        msg = (
            f"rankings: uns[{keys.UNS!r}][{keys.RANK_GENES!r}][{keys.METHOD!r}] is {found!r}, "
            f"expected the method {method!r}"
        )
        raise InputError(msg)
    names = [str(c) for c in rankings.obs_names]
    if sorted(names) != sorted(classes) or len(set(names)) != len(names):
        msg = f"rankings: classes (obs_names) {names} are not the model's classes {classes}"
        raise InputError(msg)
    aligned = io.align_genes(rankings, genes, where="rankings")
    scores = io.dense_rows(aligned.X, dtype=np.float64)
    scores = scores[[names.index(c) for c in classes]]
    if not np.isfinite(scores).all():
        msg = "rankings: X holds scores that are not finite numbers"
        raise InputError(msg)
    return scores


def _predict(
    model: nn.Module, matrix: Any, rows: np.ndarray, baseline: torch.Tensor, *, batch_size: int
) -> np.ndarray:
    """The predicted class indices ``(len(rows),)`` int64 of ``matrix[rows]``,
    in ``baseline``'s dtype and device, like :func:`_explain`'s."""
    # Not genexai.train.predict_logits: it reads every row of its matrix, and
    # here only the studied rows are read, a batch at a time (dense or not).
    out = np.empty(len(rows), dtype=np.int64)
    for start in range(0, len(rows), batch_size):
        batch = slice(start, min(start + batch_size, len(rows)))
        x = torch.as_tensor(io.dense_rows(matrix, rows[batch], dtype=None), dtype=baseline.dtype)
        with torch.no_grad():
            out[batch] = model(x.to(baseline.device)).argmax(dim=1).cpu().numpy()
    return out


def _cap_rows(
    labels: np.ndarray, correct: np.ndarray, cap: int, rng: np.random.Generator
) -> np.ndarray:
    """Positions (sorted, int64) of the rows explained under ``cap``.

    ``labels`` ``(n,)`` class indices and ``correct`` ``(n,)`` bool. A class
    with more than ``cap`` correct rows keeps ``cap`` of them, drawn without
    replacement, classes in index order, so each draw depends only on the
    seed and the rows before it; the other classes keep every row, the
    misclassified included, as without a cap.
    """
    kept = []
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        hits = rows[correct[rows]]
        kept.append(rng.choice(hits, size=cap, replace=False) if len(hits) > cap else rows)
    return np.sort(np.concatenate(kept)).astype(np.int64)


def _explainer(cls: type[Attribution], model: nn.Module, **options: Any) -> Attribution:
    """``cls(model, ...)`` with the step's options that its constructor takes.

    Each method takes only its own options; the step offers all of them, so
    a new method needs no change here.
    """
    accepted = inspect.signature(cls).parameters
    return cls(model, **{name: value for name, value in options.items() if name in accepted})


def _explain(
    explainer: Attribution,
    matrix: Any,
    rows: np.ndarray,
    labels: np.ndarray,
    baseline: torch.Tensor,
    *,
    predicted: bool,
    batch_size: int,
    progress: Callable[[int], Any] | None,
) -> dict[str, np.ndarray]:
    """Run ``explainer`` over ``matrix[rows]`` batch by batch.

    ``labels`` ``(n_obs,)`` are the true class indices; the explained class
    is the predicted one when ``predicted``. The forward pass that gives the
    prediction also gives ``F(x)``, and ``F(b)`` is computed once: the method
    reuses both for completeness. Returns ``values`` ``(n_obs, n_genes)``
    float32 and, per example, ``prediction``, the obs fields ``target``,
    ``n_steps`` (int64), ``target_prob``, ``baseline_prob`` and
    ``completeness_delta`` (float64).
    """
    n = len(rows)
    with torch.no_grad():
        f_base = explainer.forward(baseline[None])[0].double()
    out = {"values": np.empty((n, len(baseline)), dtype=np.float32)}
    out |= {k: np.empty(n, dtype=np.int64) for k in ("prediction", keys.TARGET, keys.N_STEPS)}
    out |= {
        k: np.empty(n, dtype=np.float64) for k in (keys.TARGET_PROB, keys.BASELINE_PROB, keys.DELTA)
    }
    for start in range(0, n, batch_size):
        batch = slice(start, min(start + batch_size, n))
        x = torch.as_tensor(io.dense_rows(matrix, rows[batch], dtype=None), dtype=baseline.dtype)
        x = x.to(baseline.device)
        with torch.no_grad():
            logits = explainer.model(x)
        prediction = logits.argmax(dim=1)
        target = (
            prediction
            if predicted
            else torch.as_tensor(labels[batch], dtype=torch.int64, device=x.device)
        )
        f_x = explainer.transform(logits).gather(1, target[:, None])[:, 0].double()
        f_b = f_base[target]
        res = explainer.attribute(x, baseline, target, expected=f_x - f_b)
        out["values"][batch] = res.values.float().cpu().numpy()
        out["prediction"][batch] = prediction.cpu().numpy()
        out[keys.TARGET][batch] = target.cpu().numpy()
        out[keys.N_STEPS][batch] = res.n_steps.numpy()
        out[keys.TARGET_PROB][batch] = f_x.cpu().numpy()
        out[keys.BASELINE_PROB][batch] = f_b.cpu().numpy()
        out[keys.DELTA][batch] = res.completeness.delta().cpu().numpy()
        if progress is not None:
            progress(batch.stop - batch.start)
    return out


def read_baseline(path: str | os.PathLike, genes: Sequence[str]) -> np.ndarray:
    """Read a baseline vector, ``(n_genes,)`` float32 in the order of ``genes``.

    ``.npy``: a 1-d array already in the model's gene order. ``.tsv``: a header
    of gene names and one row of values, matched by name.
    """
    path = Path(path)
    if path.suffix == ".npy":
        try:
            vec = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            msg = f"{path}: not a readable .npy array ({exc})"
            raise InputError(msg.splitlines()[0]) from None
        if vec.shape != (len(genes),):
            msg = f"{path}: expected a baseline of shape ({len(genes)},), found {vec.shape}"
            raise InputError(msg)
    elif path.suffix == ".tsv":
        try:
            table = pd.read_csv(path, sep="\t")
            values = table.to_numpy(dtype=np.float64)
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            msg = f"{path}: not a tab-separated table of numbers ({exc.__class__.__name__})"
            raise InputError(msg) from None
        if len(table) != 1:
            msg = (
                f"{path}: expected a header of gene names and one row of values, "
                f"found {len(table)} rows"
            )
            raise InputError(msg)
        row = ad.AnnData(X=values, var=pd.DataFrame(index=table.columns.astype(str)))
        vec = io.align_genes(row, genes, where=str(path)).X[0]
    else:
        msg = f"{path}: baseline file must end in .npy or .tsv, found {path.suffix!r}"
        raise InputError(msg)
    if vec.dtype.kind not in "fiu" or not np.isfinite(vec).all():
        msg = f"{path}: the baseline must be finite numbers"
        raise InputError(msg)
    return vec.astype(np.float32)


def _check_choice(option: str, value: object, allowed: tuple) -> None:
    if value not in allowed:
        msg = f"{option}: expected one of {list(allowed)}, found {value!r}"
        raise InputError(msg)


def _baseline(
    baseline: BaselineKind | np.ndarray,
    baseline_class: str | None,
    reference: ad.AnnData | None,
    genes: list[str],
    classes: list[str],
) -> tuple[np.ndarray, str]:
    """The baseline vector ``(n_genes,)`` float32 and its kind."""
    if baseline_class is not None and not (isinstance(baseline, str) and baseline == "class_mean"):
        msg = f"baseline_class: only used with baseline 'class_mean', found baseline {baseline!r}"
        raise InputError(msg)
    if isinstance(baseline, str):
        _check_choice("baseline", baseline, get_args(BaselineKind))
        if baseline == "zero":
            return np.zeros(len(genes), dtype=np.float32), "zero"
        if baseline_class not in classes:
            msg = f"baseline_class: expected one of the classes {classes}, found {baseline_class!r}"
            raise InputError(msg)
        if reference is None:
            msg = "reference: the 'class_mean' baseline needs the training rows"
            raise InputError(msg)
        reference = io.align_genes(reference, genes, where="reference")
        rows = io.label_codes(reference, classes, where="reference") == classes.index(
            baseline_class
        )
        if not rows.any():
            msg = f"reference: no training example of class {baseline_class!r}"
            raise InputError(msg)
        mean = io.mean_rows(io.expression(reference, where="reference"), np.flatnonzero(rows))
        return mean.astype(np.float32), "class_mean"
    vec = np.asarray(baseline)
    if vec.shape != (len(genes),) or vec.dtype.kind not in "fiu" or not np.isfinite(vec).all():
        msg = (
            f"baseline: expected {len(genes)} finite numbers, found shape {vec.shape} ({vec.dtype})"
        )
        raise InputError(msg)
    return vec.astype(np.float32), "vector"
