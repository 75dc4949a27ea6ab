"""PREPARE: drop small classes, split train/test, transform (method.md §2).

Input: an imported (:mod:`genexai.import_data`) or simulated AnnData, samples
× genes, with raw values on a linear scale and a categorical ``obs['label']``.
The paper's gene and sample filters already ran at import.

Transforms (``transform=``), with statistics fitted on the training samples only:

``zscore``
    ``(x - mean) / std``. Simulations (§2.3).
``log2_zscore``
    ``y = log2(x + 1)``, then ``(y - mean) / std``. PanCan (§2.1).
``log2_cpm_center``
    ``y = log2(x / sum_g(x) * 1e6 + 1)`` (counts per million over the
    sample's genes), then ``y - mean``; no std division. BRCA/KIRC (§2.2):
    the importer has already turned Xena's log2(count+1) back into counts
    (the paper's ``2**x - 1``).
``center``
    ``x - mean``.
``none``
    ``x`` (mean 0, std 1 are recorded).

``std`` is the unbiased (ddof=1, torch's default) training std. Where a gene
is constant on the training split, ``std`` is 1 and ``mean`` that constant, so
its training values become exactly 0: never inf or NaN (method.md §10.14).
Statistics are computed in float64, in blocks of rows (two passes); ``X`` is
written as float32.

A sparse input stays sparse (single-cell atlases): ``X`` is then a float32
CSR holding only the per-sample part of the transform (``log2(x + 1)``, the
CPM, or ``x``), which keeps zeros zero, with ``uns['genexai']['prepare']
['sparse_x']`` True; :func:`genexai.io.expression` applies ``(y - mean) /
std`` to the rows a step reads. The paper's z-score stays exact, and the
file stays the size of the input (no counts layer: for a linear transform
``X`` is the counts).

Splits (``split=``):

``stratified``
    :func:`sklearn.model_selection.train_test_split` stratified on the label,
    ``random_state=seed``.
``paper``
    The paper's split (§2.4), not stratified: ``idx = list(range(N))``,
    shuffled by the legacy Mersenne-Twister seeded with ``seed`` (what
    ``np.random.seed(seed); np.random.shuffle(idx)`` does, without touching
    numpy's global state); test = ``idx[:floor(test_size * N)]``. The paper
    uses ``seed=43, test_size=0.4``.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.model_selection import train_test_split

from . import keys
from ._defaults import SPLITS, TRANSFORMS, SplitKind, Transform
from .errors import InputError
from .io import (
    align_genes,
    check_matrix,
    class_names,
    dense_rows,
    looks_like_counts,
    row_blocks,
    step_uns,
    stored_blocks,
)
from .io._values import first_cell

__all__ = [
    "SPLITS",
    "TRANSFORMS",
    "SplitKind",
    "Transform",
    "apply_transform",
    "check_classes",
    "fit_statistics",
    "prepare",
    "prepare_summary",
    "split_test_mask",
    "transform_rows",
]

logger = logging.getLogger(__name__)

#: Transforms that divide by the training std.
_SCALED = ("zscore", "log2_zscore")
#: Counts-per-million scale of ``log2_cpm_center``.
CPM_SCALE = 1e6
#: float64 elements per block of rows: bounds each temporary to 16 MiB.
BLOCK_ELEMENTS = 1 << 21


def _pre(block: np.ndarray, transform: Transform) -> np.ndarray:
    """The per-sample part of the transform (before centring), in place, float64."""
    if transform == "log2_cpm_center":
        block *= CPM_SCALE / block.sum(axis=1, keepdims=True)
    if transform in ("log2_zscore", "log2_cpm_center"):
        block += 1.0
        np.log2(block, out=block)
    return block


def _check_domain(
    x: Any,
    rows: np.ndarray,
    transform: Transform,
    *,
    samples: pd.Index,
    genes: pd.Index,
    where: str,
) -> None:
    """Refuse values the transform cannot take (log of <= 0, CPM of a zero sample).

    A sparse ``x`` is checked on its stored values: an implicit zero is valid.
    """
    if transform not in ("log2_zscore", "log2_cpm_center"):
        return
    sparse = sp.issparse(x)
    if sparse:
        x = _csr(x)
        blocks = stored_blocks(x.indptr, rows, max_stored=BLOCK_ELEMENTS)
    else:
        blocks = row_blocks(len(rows), x.shape[1], max_elements=BLOCK_ELEMENTS)
    cpm = transform == "log2_cpm_center"
    for block in blocks:
        index = rows[block]
        values = x[index].astype(np.float64) if sparse else dense_rows(x, index, dtype=np.float64)
        hit = first_cell(values, (lambda v: v < 0) if cpm else (lambda v: v <= -1))
        if hit is not None:
            i, j = hit
            expected = "counts (>= 0)" if cpm else "values > -1"
            msg = (
                f"{where}: value {values[i, j]} at sample {samples[index[i]]!r}, gene "
                f"{genes[j]!r}; transform {transform} expects {expected}"
            )
            raise InputError(msg)
        if cpm:
            empty = np.asarray(values.sum(axis=1)).ravel() <= 0
            if empty.any():
                i = int(np.flatnonzero(empty)[0])
                msg = (
                    f"{where}: sample {samples[index[i]]!r} has a total count of 0; "
                    "transform log2_cpm_center needs at least one count per sample"
                )
                raise InputError(msg)


def _csr(x: sp.spmatrix) -> sp.spmatrix:
    """``x`` as CSR (the row blocks index its ``indptr``), copied only if it is not."""
    return x if x.format == "csr" else x.tocsr()


def _pre_sparse(block: sp.csr_matrix, transform: Transform) -> sp.csr_matrix:
    """:func:`_pre` on a float64 CSR block, in place on its stored values."""
    if transform == "log2_cpm_center":
        sums = np.asarray(block.sum(axis=1)).ravel()
        block.data *= np.repeat(CPM_SCALE / sums, np.diff(block.indptr))
    if transform in ("log2_zscore", "log2_cpm_center"):
        block.data += 1.0
        np.log2(block.data, out=block.data)
    return block


def _fit_sparse(
    x: sp.spmatrix, train: np.ndarray, *, transform: Transform
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fit_statistics` from the stored values; implicit zeros are counted, not stored."""
    n_genes, n = x.shape[1], len(train)
    total = np.zeros(n_genes)
    stored = np.zeros(n_genes, dtype=np.int64)
    low = np.full(n_genes, np.inf)
    high = np.full(n_genes, -np.inf)
    blocks = stored_blocks(x.indptr, train, max_stored=BLOCK_ELEMENTS)
    for block in blocks:
        y = _pre_sparse(x[train[block]].astype(np.float64), transform)
        total += np.bincount(y.indices, weights=y.data, minlength=n_genes)
        stored += np.bincount(y.indices, minlength=n_genes)
        np.minimum.at(low, y.indices, y.data)
        np.maximum.at(high, y.indices, y.data)
    zeros = n - stored
    np.minimum(low, np.where(zeros > 0, 0.0, np.inf), out=low)
    np.maximum(high, np.where(zeros > 0, 0.0, -np.inf), out=high)
    mean = total / n
    constant = low == high
    mean[constant] = low[constant]
    std = np.ones(n_genes)
    if transform in _SCALED:
        # Two passes, as for a dense matrix: each implicit zero adds mean**2.
        squares = zeros * mean**2
        for block in blocks:
            y = _pre_sparse(x[train[block]].astype(np.float64), transform)
            squares += np.bincount(
                y.indices, weights=(y.data - mean[y.indices]) ** 2, minlength=n_genes
            )
        std = np.sqrt(squares / (n - 1))
        std[constant] = 1.0
    return mean, std


def transform_sparse(
    x: sp.spmatrix, rows: np.ndarray, *, transform: Transform, overwrite: bool = False
) -> sp.csr_matrix:
    """The per-sample part of the transform of rows ``rows``, sparse.

    Parameters
    ----------
    x
        ``(n_samples, n_genes)`` sparse raw values.
    rows
        ``(n_rows,)`` int, sorted row indices.
    transform
        One of :data:`TRANSFORMS`.
    overwrite
        The result may take ``x``'s float32 values array for its own, leaving
        ``x`` transformed: an atlas then holds its non-zeros once, not twice.

    Returns
    -------
    ``(len(rows), n_genes)`` float32 CSR of ``log2(x + 1)``, ``log2(CPM + 1)``
    or ``x``: the values before centring and scaling, zeros still zero
    (:class:`genexai.io.ScaledRows` reads them standardised). Its index
    arrays are ``x``'s when every row is kept.
    """
    csr = _csr(x)
    owned = csr is not x or len(rows) != csr.shape[0]
    out = csr[rows] if len(rows) != csr.shape[0] else csr
    if not out.has_sorted_indices:
        out = out if owned else out.copy()
        out.sort_indices()
        owned = True
    in_place = (owned or overwrite) and out.data.dtype == np.float32
    data = out.data if in_place else np.empty(out.nnz, dtype=np.float32)
    for block in stored_blocks(out.indptr, max_stored=BLOCK_ELEMENTS):
        start, stop = out.indptr[block.start], out.indptr[block.stop]
        piece = sp.csr_matrix(
            (
                out.data[start:stop].astype(np.float64),
                out.indices[start:stop],
                out.indptr[block.start : block.stop + 1] - start,
            ),
            shape=(block.stop - block.start, out.shape[1]),
        )
        data[start:stop] = _pre_sparse(piece, transform).data
    return sp.csr_matrix((data, out.indices, out.indptr), shape=out.shape)


def fit_statistics(
    x: Any, train: np.ndarray, *, transform: Transform
) -> tuple[np.ndarray, np.ndarray]:
    """Per-gene training mean and std of the pre-transformed values.

    Parameters
    ----------
    x
        ``(n_samples, n_genes)`` dense or sparse matrix of raw values.
    train
        ``(n_train,)`` int row indices of the training samples (at least 2).
    transform
        One of :data:`TRANSFORMS`.

    Returns
    -------
    ``(mean, std)``, each ``(n_genes,)`` float64. ``std`` is the unbiased std
    for ``zscore``/``log2_zscore`` and 1 otherwise; for a gene constant on the
    training rows, ``mean`` is the constant and ``std`` 1.
    """
    n_genes = x.shape[1]
    if transform == "none":
        return np.zeros(n_genes), np.ones(n_genes)
    if sp.issparse(x):
        return _fit_sparse(_csr(x), train, transform=transform)
    total = np.zeros(n_genes)
    low = np.full(n_genes, np.inf)
    high = np.full(n_genes, -np.inf)
    for block in row_blocks(len(train), n_genes, max_elements=BLOCK_ELEMENTS):
        y = _pre(dense_rows(x, train[block], dtype=np.float64), transform)
        total += y.sum(axis=0)
        np.minimum(low, y.min(axis=0), out=low)
        np.maximum(high, y.max(axis=0), out=high)
    mean = total / len(train)
    constant = low == high
    mean[constant] = low[constant]
    std = np.ones(n_genes)
    if transform in _SCALED:
        squares = np.zeros(n_genes)
        for block in row_blocks(len(train), n_genes, max_elements=BLOCK_ELEMENTS):
            y = _pre(dense_rows(x, train[block], dtype=np.float64), transform)
            y -= mean
            squares += np.einsum("ij,ij->j", y, y)
        std = np.sqrt(squares / (len(train) - 1))
        std[constant] = 1.0
    return mean, std


def transform_rows(
    x: Any, rows: np.ndarray, *, transform: Transform, mean: np.ndarray, std: np.ndarray
) -> np.ndarray:
    """Transform rows ``rows`` of ``x`` with fitted statistics.

    Returns
    -------
    ``(len(rows), n_genes)`` float32: ``(pre(x) - mean) / std``.
    """
    out = np.empty((len(rows), x.shape[1]), dtype=np.float32)
    for block in row_blocks(len(rows), x.shape[1], max_elements=BLOCK_ELEMENTS):
        y = _pre(dense_rows(x, rows[block], dtype=np.float64), transform)
        y -= mean
        y /= std
        out[block] = y
    return out


def split_test_mask(
    labels: np.ndarray, *, split: SplitKind, test_size: float, seed: int
) -> np.ndarray:
    """Which samples go to the test split.

    Parameters
    ----------
    labels
        ``(n_samples,)`` class codes (stratification; unused by ``paper``).
    split, test_size, seed
        See the module docstring.

    Returns
    -------
    ``(n_samples,)`` bool, True for test samples.
    """
    n = len(labels)
    test = np.zeros(n, dtype=bool)
    if split == "paper":
        order = list(range(n))
        np.random.RandomState(seed).shuffle(order)
        test[order[: int(np.floor(test_size * n))]] = True
    else:
        _, test_index = train_test_split(
            np.arange(n), test_size=test_size, stratify=labels, random_state=seed
        )
        test[test_index] = True
    return test


def _check_options(
    transform: str, split: str, test_size: float, min_samples_per_class: int
) -> None:
    if transform not in TRANSFORMS:
        msg = f"transform: expected one of {', '.join(TRANSFORMS)}, found {transform!r}"
        raise InputError(msg)
    if split not in SPLITS:
        msg = f"split: expected one of {', '.join(SPLITS)}, found {split!r}"
        raise InputError(msg)
    if not 0 < test_size < 1:
        msg = f"test_size: expected a fraction in (0, 1), found {test_size}"
        raise InputError(msg)
    if min_samples_per_class < 1:
        msg = f"min_samples_per_class: expected >= 1, found {min_samples_per_class}"
        raise InputError(msg)


def prepare(
    adata: ad.AnnData,
    *,
    transform: Transform = "zscore",
    split: SplitKind = "stratified",
    test_size: float = 0.4,
    seed: int = 43,
    min_samples_per_class: int = 2,
    where: str = "input",
    overwrite: bool = False,
) -> ad.AnnData:
    """Drop small classes, split, and transform with training statistics.

    Parameters
    ----------
    adata
        ``(n_samples, n_genes)`` raw values (dense or sparse), categorical
        ``obs['label']``. Not modified (unless ``overwrite``).
    transform
        See the module docstring. Default ``zscore``.
    split
        ``stratified`` or ``paper``. Default ``stratified``.
    test_size
        Fraction of samples in the test split. Default 0.4.
    seed
        Seed of the split. Default 43 (the paper's).
    min_samples_per_class
        Samples of classes with fewer samples are dropped first. Default 2
        (what a stratified split needs).
    where
        Names the input in error messages (the file name).
    overwrite
        A sparse ``X``'s values may be transformed in place (see
        :func:`transform_sparse`); ``adata`` is then left unusable.

    Returns
    -------
    AnnData
        The kept samples, in input order. ``X``: ``(n_kept, n_genes)`` float32,
        transformed; for a sparse input, a CSR of the per-sample part of the
        transform only, with ``uns['genexai']['prepare']['sparse_x']`` True
        (see the module docstring) and no counts layer. ``obs['label']``
        (dropped classes removed from the categories), ``obs['split']``
        categorical {train, test}, and the other obs columns.
        ``var['genexai_mean']``, ``var['genexai_std']``: float64 fitted
        statistics (:func:`apply_transform` re-applies them).
        ``layers['counts']``: the input values of the kept samples (the same
        array as the input's ``X`` when every sample is kept) when they are
        counts: the importer says so (``uns['genexai']['import']['has_counts']``)
        or, without an import record, every value is a non-negative integer.
        ``varm`` and ``uns`` are carried over (``obs['subclass']``,
        ``varm['informative']``, ``uns['genexai']['simulate']``...), and
        ``uns['genexai']['prepare']`` holds the parameters, ``n_train``,
        ``n_test`` and the dropped classes.

    Raises
    ------
    InputError
        Bad options, a non-finite or empty matrix, missing labels, fewer than
        two classes or two training samples left, values outside the
        transform's domain.
    """
    _check_options(transform, split, test_size, min_samples_per_class)
    check_matrix(adata, where=where)
    classes = class_names(adata, where=where)
    labels = adata.obs[keys.LABEL]
    if labels.isna().any():
        msg = f"{where}: sample {labels.index[labels.isna()][0]!r} has no obs[{keys.LABEL!r}]"
        raise InputError(msg)
    codes = labels.cat.codes.to_numpy()
    sizes = np.bincount(codes, minlength=len(classes))
    small = [c for c, n in zip(classes, sizes, strict=True) if 0 < n < min_samples_per_class]
    rows = np.flatnonzero(sizes[codes] >= min_samples_per_class)
    kept = labels.iloc[rows].cat.remove_unused_categories()
    if len(kept.cat.categories) < 2:
        msg = (
            f"{where}: {len(kept.cat.categories)} class(es) with >= {min_samples_per_class} "
            f"samples (sizes: {dict(zip(classes, sizes.tolist(), strict=True))}); expected at "
            "least 2 (lower min_samples_per_class?)"
        )
        raise InputError(msg)
    try:
        is_test = split_test_mask(
            kept.cat.codes.to_numpy(), split=split, test_size=test_size, seed=seed
        )
    except ValueError as exc:
        msg = f"{where}: split {split}: {str(exc).splitlines()[0]}"
        raise InputError(msg) from None
    train = rows[~is_test]
    if len(train) < 2:
        msg = (
            f"{where}: {len(train)} training sample(s) of {len(rows)}; the statistics need "
            "at least 2 (lower test_size?)"
        )
        raise InputError(msg)
    sparse = sp.issparse(adata.X)
    matrix = _csr(adata.X) if sparse else adata.X
    _check_domain(
        matrix, rows, transform, samples=adata.obs_names, genes=adata.var_names, where=where
    )
    mean, std = fit_statistics(matrix, train, transform=transform)
    if sparse:
        x = transform_sparse(matrix, rows, transform=transform, overwrite=overwrite)
    else:
        x = transform_rows(matrix, rows, transform=transform, mean=mean, std=std)

    obs = adata.obs.iloc[rows].copy()
    obs[keys.LABEL] = kept
    obs[keys.SPLIT] = pd.Categorical(
        np.where(is_test, keys.TEST, keys.TRAIN), categories=[keys.TRAIN, keys.TEST]
    )
    var = adata.var.copy()
    var[keys.MEAN] = mean
    var[keys.STD] = std
    imported = adata.uns.get(keys.UNS, {}).get(keys.IMPORT, {})
    if keys.HAS_COUNTS in imported:
        has_counts = bool(imported[keys.HAS_COUNTS])
    else:
        has_counts = not sp.issparse(adata.X) and looks_like_counts(np.asarray(adata.X))
    layers = {}
    if has_counts and not sparse:
        layers[keys.COUNTS] = adata.X if len(rows) == adata.n_obs else adata.X[rows]
    out = ad.AnnData(
        X=x,
        obs=obs,
        var=var,
        varm={k: v.copy() for k, v in adata.varm.items()},
        uns=copy.deepcopy(dict(adata.uns)),
        layers=layers,
    )
    record = step_uns(out, keys.PREPARE)
    record.clear()
    record.update(
        {
            keys.TRANSFORM: transform,
            "split": split,
            "test_size": float(test_size),
            "seed": int(seed),
            "min_samples_per_class": int(min_samples_per_class),
            "n_train": int(len(train)),
            "n_test": int(is_test.sum()),
            "n_dropped_samples": int(adata.n_obs - len(rows)),
            "counts_layer": has_counts and not sparse,
        }
    )
    if sparse:
        record[keys.SPARSE_X] = True
    if small:
        record["dropped_classes"] = small
        logger.info("%s: dropped classes of < %d samples: %s", where, min_samples_per_class, small)
    return out


def apply_transform(adata: ad.AnnData, fitted: ad.AnnData, *, where: str = "input") -> ad.AnnData:
    """Transform new samples exactly as :func:`prepare` transformed ``fitted``.

    Parameters
    ----------
    adata
        ``(n_new, n_genes)`` raw values, genes matched to ``fitted`` by name
        (same set, any order).
    fitted
        The output of :func:`prepare`.
    where
        Names ``adata`` in error messages.

    Returns
    -------
    AnnData
        ``X``: ``(n_new, n_genes)`` float32 in ``fitted``'s gene order;
        ``obs`` copied from ``adata``, ``var`` and ``uns['genexai']['prepare']``
        from ``fitted``.
    """
    record = fitted.uns.get(keys.UNS, {}).get(keys.PREPARE)
    if record is None or keys.MEAN not in fitted.var or keys.STD not in fitted.var:
        msg = (
            f"fitted: not a prepared AnnData (no uns[{keys.UNS!r}][{keys.PREPARE!r}] "
            "or var statistics)"
        )
        raise InputError(msg)
    transform = record[keys.TRANSFORM]
    new = align_genes(adata, fitted.var_names, where=where)
    check_matrix(new, where=where)
    everyone = np.arange(new.n_obs)
    _check_domain(
        new.X, everyone, transform, samples=new.obs_names, genes=new.var_names, where=where
    )
    x = transform_rows(
        new.X,
        everyone,
        transform=transform,
        mean=fitted.var[keys.MEAN].to_numpy(dtype=np.float64),
        std=fitted.var[keys.STD].to_numpy(dtype=np.float64),
    )
    return ad.AnnData(
        X=x,
        obs=new.obs.copy(),
        var=fitted.var.copy(),
        uns={keys.UNS: {keys.PREPARE: copy.deepcopy(dict(record))}},
    )


def check_classes(
    prepared: ad.AnnData,
    *,
    baseline_class: str | None = None,
    classes: Sequence[str] | None = None,
    where: str = "input",
) -> None:
    """Refuse class names that a later step would refuse, once the classes are known.

    ATTRIBUTE explains the test examples of the studied ``classes`` against
    the training mean of ``baseline_class`` (:func:`genexai.attribute`); it
    learns only after IMPORT, PREPARE and TRAIN have published their results
    that a name matches no class. PREPARE calls this on its output, so such
    a run stops before TRAIN starts.

    Parameters
    ----------
    prepared
        The prepared AnnData (:func:`prepare`): categorical ``obs['label']``
        (classes too small were dropped) and ``obs['split']``.
    baseline_class
        The class whose training mean is the baseline (``class_mean``), or
        ``None``.
    classes
        The studied classes, or ``None`` (all).
    where
        The file, for the messages.

    Raises
    ------
    InputError
        ``baseline_class`` is not a class, or has no training sample; a
        studied class is not a class; no test sample belongs to a studied
        class. The message names the parameter and lists the classes.
    """
    names = class_names(prepared, where=where)
    labels = prepared.obs[keys.LABEL].astype(str).to_numpy()
    split = prepared.obs[keys.SPLIT].astype(str).to_numpy() if keys.SPLIT in prepared.obs else None
    record = prepared.uns.get(keys.UNS, {}).get(keys.PREPARE, {})
    dropped = {str(c) for c in record.get("dropped_classes", ())}
    shown = ", ".join(repr(c) for c in names[:20]) + (", ..." if len(names) > 20 else "")

    def unknown(option: str, name: str) -> str:
        minimum = record.get("min_samples_per_class")
        why = f", dropped for having fewer than {minimum} samples" if name in dropped else ""
        return f"{option}: {name!r} is not a class of {where}{why} (classes: {shown})"

    if baseline_class is not None:
        if baseline_class not in names:
            msg = unknown("baseline_class", baseline_class)
            raise InputError(msg)
        if split is not None and not ((labels == baseline_class) & (split == keys.TRAIN)).any():
            msg = (
                f"baseline_class: class {baseline_class!r} has no training sample in {where}, "
                "so no training mean"
            )
            raise InputError(msg)
    if classes is not None:
        for name in classes:
            if name not in names:
                msg = unknown("classes", name)
                raise InputError(msg)
        if split is not None and not (np.isin(labels, list(classes)) & (split == keys.TEST)).any():
            msg = f"classes: no test sample of the studied classes {list(classes)} in {where}"
            raise InputError(msg)


def prepare_summary(prepared: ad.AnnData, *, dataset: str) -> pd.DataFrame:
    """The samples of each class and split of a prepared dataset (REPORT's overview).

    Parameters
    ----------
    prepared
        The output of :func:`prepare`: ``obs['label']``, ``obs['split']``.
    dataset
        Written in the ``dataset`` column.

    Returns
    -------
    :data:`genexai.keys.PREPARE_SUMMARY_COLUMNS`, one row per class (in
    class-index order) and split (sorted) that holds samples: ``n_samples``
    int64; on every row, ``n_genes`` int64 and ``simulated`` bool (True when
    ``varm['informative']``, the true informative genes, is known).
    """
    for key in (keys.LABEL, keys.SPLIT):
        if key not in prepared.obs:
            msg = f"prepared: obs[{key!r}] is missing"
            raise InputError(msg)
    counts = (
        pd.DataFrame(
            {"class": prepared.obs[keys.LABEL], "split": prepared.obs[keys.SPLIT].astype(str)}
        )
        .groupby(["class", "split"], observed=True)
        .size()
        .rename("n_samples")
        .reset_index()
    )
    counts["class"] = counts["class"].astype(str)
    return counts.assign(
        dataset=dataset, n_genes=prepared.n_vars, simulated=keys.INFORMATIVE in prepared.varm
    )[list(keys.PREPARE_SUMMARY_COLUMNS)]
