"""RANK_GENES: classical, model-free gene rankings per class, from the training split.

The yardstick for the attribution methods: a per-class score per gene that no
model produced. ATTRIBUTE takes them as global methods (``--method wilcoxon
--rankings <file>``), and BIOMARKERS reads the Wilcoxon fold changes and
adjusted p-values as evidence.

Methods (:data:`RANKINGS`), each class against the rest of the training samples:

``wilcoxon``
    :func:`scanpy.tl.rank_genes_groups` ``method="wilcoxon"``: the rank-sum
    z-score (normal approximation, no tie correction, no continuity
    correction: :func:`scipy.stats.ranksums`), two-sided p-values.
``t_test``
    ``method="t-test"``: Welch's t statistic and its two-sided p-value
    (:func:`scipy.stats.ttest_ind` ``equal_var=False``); a gene constant in
    both groups scores 0 with p-value 1.
``mutual_info``
    :func:`sklearn.feature_selection.mutual_info_classif` of the gene with
    "is class c" (Ross's k-nearest-neighbour estimate, ``n_neighbors=3``,
    nats, >= 0), on the prepared ``X``, in blocks of :data:`MI_BLOCK_GENES`
    genes: the same numbers, computed here from each gene's sorted values
    (estimator ``"ross_sorted"``), about 20 times faster at 6,000 samples.

For ``wilcoxon`` and ``t_test``, adjusted p-values are Benjamini–Hochberg
within each class over all genes, and the log2 fold changes are scanpy's,
``log2((expm1(mean_c) + 1e-9) / (expm1(mean_rest) + 1e-9))``, which assume
natural-log1p values; scores and p-values are computed on the same matrix
(:func:`log1p_input` says which).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import __version__, io, keys
from ._defaults import RANKINGS, Ranking
from .errors import InputError
from .metrics.mutual_info import mutual_info_block
from .metrics.wilcoxon import Values, wilcoxon_tests

__all__ = ["MI_BLOCK_GENES", "RANKINGS", "Ranking", "log1p_input", "progress_total", "rank_genes"]

logger = logging.getLogger(__name__)

#: Genes per block of ``mutual_info``: a block densifies ``n_train ×
#: MI_BLOCK_GENES`` float64 values (20 MiB for 10,000 samples). Fixed, not
#: sized from the memory: scikit-learn draws its tie-breaking jitter per
#: call, so the block width is part of what the seed gives.
MI_BLOCK_GENES = 256
#: Neighbours of the mutual-information estimate (scikit-learn's default).
MI_NEIGHBORS = 3
#: Names the mutual-information estimator in ``uns``:
#: :func:`genexai.metrics.mutual_info.mutual_info_block`,
#: Ross's estimate from sorted values, equal to scikit-learn's.
MI_ESTIMATOR = "ross_sorted"
#: Library size of the counts input (scanpy's usual normalize_total target).
COUNTS_TARGET = 1e4
#: Transforms whose values are ``log2(v + 1)`` shifted and scaled per gene
#: (``v`` the raw value or its counts per million; genexai.prepare).
_LOG2_TRANSFORMS = ("log2_zscore", "log2_cpm_center")
#: PREPARE's transforms of linear values: ``X * std + mean`` gives them back.
_LINEAR_TRANSFORMS = ("zscore", "center", "none")
_SCANPY_METHOD = {"wilcoxon": "wilcoxon", "t_test": "t-test"}
_KEY = "genexai_rank_genes"


def progress_total(prepared: ad.AnnData) -> int:
    """Units :func:`rank_genes` reports to ``progress``: its genes."""
    return prepared.n_vars


def log1p_input(
    prepared: ad.AnnData, rows: np.ndarray, *, where: str = "prepared"
) -> tuple[Any, str]:
    """Rows of a prepared matrix on scanpy's natural-log1p scale, and which input it is.

    Parameters
    ----------
    prepared
        A prepared AnnData (``X``, ``var`` statistics, ``layers["counts"]``
        when present, ``uns["genexai"]["prepare"]``).
    rows
        ``(n_rows,)`` int row indices (the training split).
    where
        Names the input in error messages.

    Returns
    -------
    ``(matrix, kind)``: ``(n_rows, n_genes)`` float64 and one of

    - ``"log2_restored"``: the transform was ``log2_zscore`` or
      ``log2_cpm_center``, i.e. ``X = (log2(v + 1) - mean) / std`` (``std``
      is 1 for ``log2_cpm_center``), so ``(X * std + mean) * ln 2`` is
      ``log1p(v)``: the values the model saw, on the scale the fold changes
      assume. Dense: centred values have no zeros to keep.
    - ``"counts_log1p"``: otherwise, when ``layers["counts"]`` holds the
      input counts: ``log1p`` of the counts scaled to
      :data:`COUNTS_TARGET` per sample (scanpy's ``normalize_total`` and
      ``log1p``), sparse when the counts are.
    - ``"linear_log1p"``: otherwise, for the linear transforms (``zscore``,
      ``center``, ``none``), the raw values ``X * std + mean`` (PREPARE's
      input is on a linear scale), when none is negative, scaled to
      :data:`COUNTS_TARGET` per sample and ``log1p``-ed as counts are (the
      simulations: per-million values, no counts layer). Dense, as the
      centred ``X`` is.
    - ``"x"``: otherwise ``X`` as it is (sparse when it is); its scale is not
      known to be logarithmic, so the fold changes mean nothing
      (:func:`rank_genes` writes NaN).
    """
    record = prepared.uns.get(keys.UNS, {}).get(keys.PREPARE, {})
    transform = record.get(keys.TRANSFORM)
    if record.get(keys.SPARSE_X):
        return _sparse_log1p_input(prepared, rows, transform)
    if transform in _LOG2_TRANSFORMS:
        for key in (keys.MEAN, keys.STD):
            if key not in prepared.var:
                msg = f"{where}: var[{key!r}] is missing; transform {transform} needs it"
                raise InputError(msg)
        return _restored(prepared, rows, log2=True), "log2_restored"
    if keys.COUNTS in prepared.layers:
        counts = prepared.layers[keys.COUNTS][rows]
        counts = counts.astype(np.float64) if sp.issparse(counts) else np.array(counts, np.float64)
        return _normalized_log1p(counts), "counts_log1p"
    if transform in _LINEAR_TRANSFORMS and keys.MEAN in prepared.var and keys.STD in prepared.var:
        raw = _restored(prepared, rows, log2=False)
        # float32 z-scores restore a zero to about -1e-7 x std: that is a zero.
        tolerance = 1e-5 * prepared.var[keys.STD].to_numpy(np.float64) + 1e-8
        if (raw >= -tolerance).all():
            return _normalized_log1p(np.maximum(raw, 0.0, out=raw)), "linear_log1p"
    x = prepared.X[rows]
    return (x.astype(np.float64) if sp.issparse(x) else np.array(x, np.float64)), "x"


def _sparse_log1p_input(
    prepared: ad.AnnData, rows: np.ndarray, transform: str | None
) -> tuple[Any, str]:
    """:func:`log1p_input` of a sparse prepared ``X``: float64, sparse."""
    x, kind, values = _sparse_stored(prepared, rows, transform)
    out = x.astype(np.float64)
    if values is not None:
        out.data = values(out.data, np.repeat(np.arange(x.shape[0]), np.diff(x.indptr)))
    return out, kind


def _sparse_stored(
    prepared: ad.AnnData, rows: np.ndarray, transform: str | None
) -> tuple[sp.csr_matrix, str, Values | None]:
    """The stored rows of a sparse prepared ``X``, :func:`log1p_input`'s kind, and the
    map of their values to that input (``None``: as stored), so that an atlas's rows
    need not be copied as float64 (:func:`genexai.metrics.wilcoxon.wilcoxon_tests`).

    Such an ``X`` holds ``log2(v + 1)`` or, for a linear transform, the raw
    values themselves (:func:`genexai.io.expression`), so the same kinds come
    without restoring anything: ``log2_restored`` is ``X * ln 2``, and a
    linear ``X`` is the counts when the importer says so (or, without an
    import record, every stored value is a non-negative integer).
    """
    x = _take_rows(prepared.X, rows)
    if transform in _LOG2_TRANSFORMS:
        return x, "log2_restored", lambda data, _cells: data * np.log(2.0)
    if transform in _LINEAR_TRANSFORMS:
        imported = prepared.uns.get(keys.UNS, {}).get(keys.IMPORT, {})
        has_counts = imported.get(keys.HAS_COUNTS)
        if has_counts is None:
            has_counts = io.looks_like_counts(x.data[None, :])
        if has_counts:
            return x, "counts_log1p", _normalized_log1p_values(x)
        if (x.data >= 0).all():
            return x, "linear_log1p", _normalized_log1p_values(x)
    return x, "x", None


def _take_rows(x: sp.spmatrix, rows: np.ndarray) -> sp.spmatrix:
    """``x[rows]``, or ``x`` itself when ``rows`` is every row in order (no copy)."""
    if len(rows) == x.shape[0] and np.array_equal(rows, np.arange(x.shape[0])):
        return x
    return x[rows]


def _normalized_log1p_values(x: sp.csr_matrix) -> Values:
    """:func:`_normalized_log1p` of ``x``'s rows as a map of stored values (float64)
    and their rows: scanpy's arithmetic, ``log1p(v / (row_sum / COUNTS_TARGET))``
    with the row sums added in float64 in stored order, so the same bits."""
    row_sums = np.zeros(x.shape[0])
    for block in io.stored_blocks(x.indptr):
        lo, hi = x.indptr[block.start], x.indptr[block.stop]
        lengths = np.diff(x.indptr[block.start : block.stop + 1])
        row = np.repeat(np.arange(block.stop - block.start), lengths)
        row_sums[block] = np.bincount(
            row,
            weights=x.data[lo:hi].astype(np.float64),
            minlength=block.stop - block.start,
        )
    factor = row_sums / COUNTS_TARGET
    factor[factor == 0] = 1.0  # scanpy's rule for an empty row: divide by 1
    return lambda data, cells: np.log1p(data / factor[cells])


def _restored(prepared: ad.AnnData, rows: np.ndarray, *, log2: bool) -> np.ndarray:
    """``X * std + mean`` of ``rows`` (``× ln 2`` for a log2 transform), dense float64."""
    mean = prepared.var[keys.MEAN].to_numpy(np.float64)
    std = prepared.var[keys.STD].to_numpy(np.float64)
    out = np.empty((len(rows), prepared.n_vars), dtype=np.float64)
    for block in io.row_blocks(len(rows), prepared.n_vars):
        values = io.dense_rows(prepared.X, rows[block], dtype=np.float64)
        values *= std
        values += mean
        if log2:
            values *= np.log(2.0)
        out[block] = values
    return out


def _normalized_log1p(values: Any) -> Any:
    """scanpy's ``normalize_total(target_sum=COUNTS_TARGET)`` then ``log1p``."""
    import scanpy as sc

    scaled = ad.AnnData(X=values)
    sc.pp.normalize_total(scaled, target_sum=COUNTS_TARGET)
    sc.pp.log1p(scaled)
    return scaled.X


def _scanpy_tests(
    x: Any, codes: np.ndarray, tested: np.ndarray, *, method: str
) -> dict[str, np.ndarray]:
    """scanpy's one-vs-rest test of every ``tested`` class (bool ``(n_classes,)``), as
    ``(n_classes, n_genes)`` float64 arrays in gene order: ``scores``,
    ``logfoldchanges``, ``pvals``, ``pvals_adj``; an untested class's row is 0,
    NaN, 1 and 1."""
    if method == "wilcoxon" and sp.issparse(x):
        return wilcoxon_tests(x, codes, tested)  # scanpy's numbers without densifying
    import scanpy as sc

    n_classes = len(tested)
    names = [str(c) for c in np.flatnonzero(tested)]

    n_genes = x.shape[1]
    # Positions as names: scanpy returns each class's genes sorted by score,
    # by name, and a position maps straight back to the gene order.
    groups = pd.Categorical(codes.astype(str), categories=[str(c) for c in range(n_classes)])
    data = ad.AnnData(
        X=x,
        obs=pd.DataFrame({"group": groups}, index=[str(i) for i in range(x.shape[0])]),
        var=pd.DataFrame(index=[str(g) for g in range(n_genes)]),
    )
    # On values not known to be log1p (kind "x") the fold changes take logs of
    # negative ratios; they are replaced by NaN, so numpy's warning is noise.
    with np.errstate(invalid="ignore", divide="ignore"):
        sc.tl.rank_genes_groups(
            data,
            "group",
            groups=names,
            reference="rest",
            method=_SCANPY_METHOD[method],
            n_genes=n_genes,
            corr_method="benjamini-hochberg",
            tie_correct=False,
            use_raw=False,
            key_added=_KEY,
        )
    result = data.uns[_KEY]
    out = {}
    untested = {"scores": 0.0, keys.LOGFOLDCHANGES: np.nan, keys.PVALS: 1.0, keys.PVALS_ADJ: 1.0}
    for field, fill in untested.items():
        table = np.full((n_classes, n_genes), fill, dtype=np.float64)
        for c in names:
            order = result["names"][c].astype(np.int64)
            table[int(c), order] = result[field][c]
        out[field] = table
    return out


def _column_block(
    columns: Any, block: slice, scale: tuple[np.ndarray, np.ndarray] | None
) -> np.ndarray:
    """Columns ``block`` of ``columns`` dense float64, standardised with ``scale`` if given."""
    values = io.dense_rows(columns[:, block], dtype=np.float64)
    if scale is None:
        return values
    mean, std = scale
    return ((values - mean[block]) / std[block]).astype(np.float32).astype(np.float64)


def _mutual_info(
    x: Any,
    codes: np.ndarray,
    n_classes: int,
    *,
    seed: int,
    n_jobs: int,
    progress: Callable[[int], object] | None,
    scale: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """``(n_classes, n_genes)`` float64 mutual information of each gene with each class.

    ``x`` is ``(n_train, n_genes)``, ``codes`` ``(n_train,)`` the class indices.
    ``scale``, the ``(mean, std)`` of a sparse prepared ``x``, standardises
    each block of columns as it is made dense, rounded to float32 as a dense
    prepared ``X`` is.
    Each class's row is :func:`sklearn.feature_selection.mutual_info_classif`
    of ``x`` with ``codes == c`` (``n_neighbors=MI_NEIGHBORS``,
    ``random_state=seed``), called per block of :data:`MI_BLOCK_GENES` genes:
    the same bits, computed by :func:`genexai.metrics.mutual_info.mutual_info_block`.
    """
    from joblib import Parallel, delayed

    n_genes = x.shape[1]
    # CSC: a block of columns of a sparse matrix is then a cheap slice.
    columns = x.tocsc() if sp.issparse(x) else x
    # Two classes: "is class 1" is "is not class 0", the same partition of
    # the samples, so its mutual information is the same; compute it once.
    targets = 1 if n_classes == 2 else n_classes
    blocks = [
        slice(start, min(start + MI_BLOCK_GENES, n_genes))
        for start in range(0, n_genes, MI_BLOCK_GENES)
    ]
    # Blocks are independent (each draws its own jitter from the seed), so
    # the processes change the speed, not the numbers.
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(mutual_info_block)(
            _column_block(columns, block, scale),
            codes,
            targets,
            seed=seed,
            n_neighbors=MI_NEIGHBORS,
        )
        for block in blocks
    )
    out = np.empty((n_classes, n_genes), dtype=np.float64)
    for block, mi in zip(blocks, results, strict=True):
        out[:targets, block] = mi
        if n_classes == 2:
            out[1, block] = mi[0]
        if progress is not None:
            progress(block.stop - block.start)
    return out


def rank_genes(
    prepared: ad.AnnData,
    *,
    method: Ranking,
    dataset: str,
    seed: int = 0,
    n_jobs: int = 1,
    where: str = "prepared",
    progress: Callable[[int], object] | None = None,
) -> ad.AnnData:
    """Score every gene for every class, one class against the rest, on the training split.

    Parameters
    ----------
    prepared
        PREPARE's output: ``(n_samples, n_genes)`` ``X`` (dense or sparse),
        categorical ``obs["label"]``, ``obs["split"]``. Not modified.
    method
        One of :data:`RANKINGS` (see the module docstring).
    dataset
        Recorded in ``uns["genexai"]["rank_genes"]``.
    seed
        Seed of ``mutual_info``'s estimator (recorded for every method).
    n_jobs
        Processes of ``mutual_info`` (joblib, one block of genes each); the
        numbers do not depend on it.
    where
        Names the input in error messages (usually its file).
    progress
        Called with the genes just scored (:func:`progress_total` in all).

    Returns
    -------
    AnnData
        Classes × genes. ``X`` ``(n_classes, n_genes)`` float64, the scores
        (larger = more characteristic of the class); ``obs_names`` the
        classes in class-index order, ``obs["n_train"]`` int64 their
        training samples; ``var_names`` the prepared genes, in order. For
        ``wilcoxon`` and ``t_test``, ``layers["logfoldchanges"]`` (log2; NaN
        when the input is not known to be on a log scale), ``layers["pvals"]``
        and ``layers["pvals_adj"]``, float64. ``uns["genexai"]["rank_genes"]``:
        ``method``, ``dataset``, ``seed``, ``n_train``, ``version``,
        ``reference`` (``"rest"``), the prepared ``transform``, and ``input``
        (:func:`log1p_input`'s kind) and ``corr_method``, or
        ``n_neighbors``, ``block_genes`` and ``estimator`` (``"ross_sorted"``:
        :func:`~genexai.metrics.mutual_info.mutual_info_block`, scikit-learn's
        numbers) for ``mutual_info``.

    Raises
    ------
    InputError
        An unknown method, no ``obs["split"]`` or ``obs["label"]``, fewer
        than 2 classes; for ``wilcoxon`` and ``t_test``, no class with 2
        training samples (a class with fewer scores 0, p-value 1).
    """
    if method not in RANKINGS:
        msg = f"method: expected one of {', '.join(RANKINGS)}, found {method!r}"
        raise InputError(msg)
    classes = io.class_names(prepared, where=where)
    rows = io.split_indices(prepared, keys.TRAIN, where=where)
    io.check_matrix(prepared, where=where)
    codes = prepared.obs[keys.LABEL].cat.codes.to_numpy()[rows]
    if (codes < 0).any():
        first = prepared.obs_names[rows[codes < 0][0]]
        msg = f"{where}: training sample {first!r} has no obs[{keys.LABEL!r}]"
        raise InputError(msg)
    n_train = np.bincount(codes, minlength=len(classes)).astype(np.int64)
    if len(classes) < 2:
        msg = f"{where}: {len(classes)} class in obs[{keys.LABEL!r}]; expected at least 2"
        raise InputError(msg)
    # A class of one training sample has no within-class spread to test: it
    # scores 0 (p-value 1, no fold change) with a warning rather than stopping
    # the run, since RANK_GENES ranks by Wilcoxon on every dataset.
    tested = n_train >= 2
    if method != "mutual_info" and not tested.any():
        msg = f"{where}: no class has 2 training samples; {method} needs at least one that has"
        raise InputError(msg)
    if method != "mutual_info" and not tested.all():
        logger.warning(
            "%s: classes with fewer than 2 training samples score 0 (p-value 1): %s",
            where,
            [c for c, t in zip(classes, tested, strict=True) if not t],
        )
    prepare_record = prepared.uns.get(keys.UNS, {}).get(keys.PREPARE, {})
    record: dict[str, Any] = {
        keys.METHOD: method,
        keys.DATASET: dataset,
        keys.SEED: int(seed),
        keys.N_TRAIN: int(n_train.sum()),
        keys.VERSION: __version__,
        "reference": "rest",
        keys.TRANSFORM: str(prepare_record.get(keys.TRANSFORM, "unknown")),
    }
    layers = {}
    if method == "mutual_info":
        scale = None
        if io.is_scaled_sparse(prepared):
            scale = (
                prepared.var[keys.MEAN].to_numpy(np.float64),
                prepared.var[keys.STD].to_numpy(np.float64),
            )
        scores = _mutual_info(
            _take_rows(prepared.X, rows),
            codes,
            len(classes),
            seed=seed,
            n_jobs=n_jobs,
            progress=progress,
            scale=scale,
        )
        record.update(
            {"n_neighbors": MI_NEIGHBORS, "block_genes": MI_BLOCK_GENES, "estimator": MI_ESTIMATOR}
        )
    else:
        if method == "wilcoxon" and prepare_record.get(keys.SPARSE_X):
            # scanpy makes every gene dense over all cells; the same test on the
            # non-zeros alone gives its numbers in O(nnz log nnz), and the float32
            # rows become float64 a block of genes at a time (atlases).
            x, kind, values = _sparse_stored(prepared, rows, prepare_record.get(keys.TRANSFORM))
            tests = wilcoxon_tests(x, codes, tested, values=values)
        else:
            x, kind = log1p_input(prepared, rows, where=where)
            tests = _scanpy_tests(x, codes, tested, method=method)
        scores = tests.pop("scores")
        if kind == "x":
            logger.warning(
                "%s: transform %s, no counts layer: values not known to be on a log scale, "
                "so %s's log fold changes are NaN",
                where,
                record[keys.TRANSFORM],
                method,
            )
            tests[keys.LOGFOLDCHANGES][:] = np.nan
        layers = tests
        record.update({"input": kind, "corr_method": "benjamini-hochberg"})
        if progress is not None:
            progress(prepared.n_vars)
    out = ad.AnnData(
        X=scores,
        obs=pd.DataFrame({keys.N_TRAIN: n_train}, index=pd.Index(classes)),
        var=pd.DataFrame(index=prepared.var_names.copy()),
        layers=layers,
    )
    io.step_uns(out, keys.RANK_GENES).update(record)
    return out
