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
    (estimator ``"ross_sorted"``), which is orders of magnitude faster.

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
from scipy.special import digamma

from . import __version__, io, keys
from ._defaults import RANKINGS, Ranking
from .errors import InputError

__all__ = ["MI_BLOCK_GENES", "RANKINGS", "Ranking", "log1p_input", "progress_total", "rank_genes"]

logger = logging.getLogger(__name__)

#: Genes per block of ``mutual_info``: a block densifies ``n_train ×
#: MI_BLOCK_GENES`` float64 values (20 MiB for 10,000 samples). Fixed, not
#: sized from the memory: scikit-learn draws its tie-breaking jitter per
#: call, so the block width is part of what the seed gives.
MI_BLOCK_GENES = 256
#: Neighbours of the mutual-information estimate (scikit-learn's default).
MI_NEIGHBORS = 3
#: Names the mutual-information estimator in ``uns``: :func:`_mi_block`,
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
    x: Any, codes: np.ndarray, n_classes: int, *, method: str
) -> dict[str, np.ndarray]:
    """scanpy's one-vs-rest test of every class, as ``(n_classes, n_genes)`` float64
    arrays in gene order: ``scores``, ``logfoldchanges``, ``pvals``, ``pvals_adj``."""
    import scanpy as sc

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
    for field in ("scores", keys.LOGFOLDCHANGES, keys.PVALS, keys.PVALS_ADJ):
        table = np.empty((n_classes, n_genes), dtype=np.float64)
        for c in range(n_classes):
            order = result["names"][str(c)].astype(np.int64)
            table[c, order] = result[field][str(c)]
        out[field] = table
    return out


def _mutual_info(
    x: Any,
    codes: np.ndarray,
    n_classes: int,
    *,
    seed: int,
    n_jobs: int,
    progress: Callable[[int], object] | None,
) -> np.ndarray:
    """``(n_classes, n_genes)`` float64 mutual information of each gene with each class.

    ``x`` is ``(n_train, n_genes)``, ``codes`` ``(n_train,)`` the class indices.
    Each class's row is :func:`sklearn.feature_selection.mutual_info_classif`
    of ``x`` with ``codes == c`` (``n_neighbors=MI_NEIGHBORS``,
    ``random_state=seed``), called per block of :data:`MI_BLOCK_GENES` genes,
    to floating-point round-off (:func:`_mi_block`).
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
        delayed(_mi_block)(
            io.dense_rows(columns[:, block], dtype=np.float64),
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


def _mi_block(
    values: np.ndarray, codes: np.ndarray, n_targets: int, *, seed: int, n_neighbors: int
) -> np.ndarray:
    """Mutual information (nats) of each column of ``values`` with ``codes == c``.

    ``values`` ``(n_samples, n_genes)`` float64, ``codes`` ``(n_samples,)``
    int; returns ``(n_targets, n_genes)`` float64, row ``c`` for the target
    ``codes == c``. Row ``c`` equals ``mutual_info_classif(values, codes ==
    c, discrete_features=False, n_neighbors=n_neighbors, random_state=seed)``
    to round-off: scikit-learn's estimator (Ross 2014, ``_compute_mi_cd``)
    fits a KD-tree per gene, label and class, about 10 ms a gene and class
    at 2,000 samples, hours for thousands of genes and tens of classes. On
    one feature the neighbours of a point are its neighbours in sorted
    order, so this sorts each gene once per block and reads the same
    quantities from the sorted columns, vectorised over the genes.
    """
    from sklearn.preprocessing import scale
    from sklearn.utils import check_random_state

    n_samples, n_genes = values.shape
    # scikit-learn's preprocessing (_estimate_mi), step for step: std
    # scaling, then a jitter of 1e-10 x max(1, mean |x|) from a fresh
    # RandomState(seed) per call. It scales X[:, mask], a Fortran-ordered
    # copy, and the summation order of the std follows the layout, so the
    # same layout gives the same bits.
    x = scale(np.array(values, dtype=np.float64, order="F"), with_mean=False, copy=False)
    means = np.maximum(1, np.mean(np.abs(x), axis=0))
    x += 1e-10 * means * check_random_state(seed).standard_normal(size=(n_samples, n_genes))
    # Genes as rows, each sorted once for every class.
    x = x.T
    order = np.argsort(x, axis=1, kind="stable")
    ordered = np.take_along_axis(x, order, axis=1)
    out = np.empty((n_targets, n_genes), dtype=np.float64)
    for c in range(n_targets):
        out[c] = _mi_sorted(ordered, order, codes == c, n_neighbors)
    return out


def _mi_sorted(
    ordered: np.ndarray, order: np.ndarray, target: np.ndarray, n_neighbors: int
) -> np.ndarray:
    """Ross's estimate of I(gene; target) for sorted rows, as ``_compute_mi_cd``.

    ``ordered`` ``(n_genes, n_samples)`` float64, each row ascending;
    ``order`` the sample of each entry (``ordered = x[g, order[g]]``);
    ``target`` ``(n_samples,)`` bool. Returns ``(n_genes,)`` float64 nats,
    ``>= 0``.

    For each point: ``r`` is the distance to its ``k``-th nearest neighbour
    of the same label (``k = min(n_neighbors, count - 1)``), ``m`` the
    points of any label within ``nextafter(r, 0)`` (itself included);
    ``mi = psi(N) + <psi(k)> - <psi(count)> - <psi(m)>`` over the ``N``
    points whose label is not unique. Distances are scikit-learn's: its
    KD-tree gives ``sqrt(fl(d)**2)``, which is ``|fl(d)|`` exactly in binary
    floating point, and counts ``fl(d)**2 <= fl(r)**2``, which is ``|fl(d)|
    <= r``; its brute-force search (a label of few points) gives the
    distance of ``|x|**2 - 2 x y + |y|**2``, reproduced by :func:`_brute_kth`.
    """
    n_genes, n_samples = ordered.shape
    member = target[order]
    counts = {True: int(target.sum()), False: n_samples - int(target.sum())}
    kept = [lab for lab in (True, False) if counts[lab] > 1]
    # Each row holds the label's points of one gene, ascending.
    rows = {lab: ordered[member == lab].reshape(n_genes, counts[lab]) for lab in kept}
    m_sorted = np.zeros(ordered.shape, dtype=np.int64)
    k_all = np.zeros(n_samples, dtype=np.int64)
    for lab in kept:
        own, count = rows[lab], counts[lab]
        k = min(n_neighbors, count - 1)
        k_all[target == lab] = k
        # NearestNeighbors(algorithm="auto") searches by brute force when
        # k >= count // 2, and the rounding of its distances differs.
        brute = k >= count // 2
        radius = np.nextafter(_brute_kth(own, k) if brute else _sorted_kth(own, k), 0)
        m = _brute_within(own, radius) if brute else _sorted_within(own, radius, k)
        others = [other for other in kept if other != lab]
        if others:
            # Points of the other label before each point of this one: where
            # the other label's run to its right starts.
            before = np.cumsum(member != lab, axis=1)[member == lab].reshape(own.shape)
            m += _run_within(rows[others[0]], before, own, radius, step=1)
            m += _run_within(rows[others[0]], before - 1, own, radius, step=-1)
        m_sorted[member == lab] = m.ravel()
    # The means in scikit-learn's order (the samples', pairwise summation),
    # so the result is its bits, not only its value to round-off.
    m_all = np.empty_like(m_sorted)
    np.put_along_axis(m_all, order, m_sorted, axis=1)
    keep = k_all > 0  # k >= 1 exactly where the label is not unique
    label_counts = np.where(target, counts[True], counts[False])[keep]
    # digamma of the counts 1..n_samples by table: the same values, a
    # gather instead of a series per point.
    psi = digamma(np.arange(1, n_samples + 1))
    mi = (
        digamma(int(keep.sum()))
        + np.mean(digamma(k_all[keep]))
        - np.mean(digamma(label_counts))
        - np.mean(psi[np.ascontiguousarray(m_all[:, keep]) - 1], axis=1)
    )
    return np.maximum(mi, 0.0)


def _sorted_kth(own: np.ndarray, k: int) -> np.ndarray:
    """Distance of each point of ascending rows ``own`` to its ``k``-th nearest
    other point of the row, ``(n_genes, count)``, ``count > k``.

    The ``k`` nearest and the point itself are ``k + 1`` consecutive points
    ``i - a .. i + k - a``, so the distance is the least over ``a`` of
    ``max(own[i] - own[i - a], own[i + k - a] - own[i])``.
    """
    count = own.shape[1]
    best = np.full(own.shape, np.inf)
    left, right = np.empty(own.shape), np.empty(own.shape)
    for a in range(k + 1):
        # Points i with both ends of the window in the row.
        i = slice(a, count - k + a)
        np.subtract(own[:, i], own[:, : count - k], out=left[:, i])
        np.subtract(own[:, k:], own[:, i], out=right[:, i])
        np.maximum(left[:, i], right[:, i], out=left[:, i])
        np.minimum(best[:, i], left[:, i], out=best[:, i])
    return best


def _sorted_within(own: np.ndarray, radius: np.ndarray, k: int) -> np.ndarray:
    """Points of each row within ``radius`` of each point, itself included, as int.

    ``radius`` is below the ``k``-th neighbour's distance, so those points
    are among the ``k`` nearest on each side."""
    m = np.ones(own.shape, dtype=np.int64)
    gap = np.empty(own.shape)
    for a in range(1, k + 1):
        np.subtract(own[:, a:], own[:, :-a], out=gap[:, a:])
        m[:, a:] += gap[:, a:] <= radius[:, a:]  # the a-th to the left
        m[:, :-a] += gap[:, a:] <= radius[:, :-a]  # the a-th to the right
    return m


def _brute_sq(own: np.ndarray) -> np.ndarray:
    """``(n_genes, count, count)`` squared distances as scikit-learn's brute-force
    ``ArgKmin`` computes them: ``max(0, (x**2 + -2 x y) + y**2)``."""
    norms = own * own
    middle = -2.0 * (own[:, :, None] * own[:, None, :])
    return np.maximum((norms[:, :, None] + middle) + norms[:, None, :], 0.0)


def _brute_kth(own: np.ndarray, k: int) -> np.ndarray:
    """:func:`_sorted_kth` with brute-force distances (``count <= 2 k + 1``).

    A point's own squared distance is exactly 0, the least, so the ``k``-th
    nearest other point is the ``k + 1``-th smallest of the row."""
    return np.sqrt(np.partition(_brute_sq(own), k, axis=2)[:, :, k])


def _brute_within(own: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """:func:`_sorted_within` by comparing all pairs (``count <= 2 k + 1``)."""
    gaps = np.abs(own[:, :, None] - own[:, None, :])
    return (gaps <= radius[:, :, None]).sum(axis=2)


def _run_within(
    other: np.ndarray, start: np.ndarray, own: np.ndarray, radius: np.ndarray, *, step: int
) -> np.ndarray:
    """Points of ascending rows ``other`` within ``radius`` of ``own``, on one side.

    ``start`` ``(n_genes, count)`` is the index in ``other``'s row of the
    first point on that side (``step`` 1: rightwards, -1: leftwards). The
    points within reach form a run from ``start``; its length is found by
    doubling then bisection, on the points still undecided only, so a point
    with no neighbour of the other label costs one comparison.
    """
    n_genes, n_other = other.shape
    base = (np.arange(n_genes)[:, None] * n_other + start).ravel()
    start, x, r = start.ravel(), own.ravel(), radius.ravel()
    flat = other.ravel()

    def within(points: np.ndarray, length: np.ndarray) -> np.ndarray:
        """Whether the run of ``points`` is at least ``length`` (>= 1) long."""
        index = start[points] + step * (length - 1)
        inside = (index >= 0) & (index < n_other)
        value = flat[np.where(inside, base[points] + step * (length - 1), 0)]
        gap = value - x[points] if step > 0 else x[points] - value
        return inside & (gap <= r[points])

    # The first point of every run at once, without gathering the points.
    inside = (start >= 0) & (start < n_other)
    value = flat[np.where(inside, base, 0)]
    first = inside & ((value - x if step > 0 else x - value) <= r)
    low = first.astype(np.int64)  # the run is at least this long
    high = np.ones(x.size, dtype=np.int64)  # and shorter than this
    points = np.flatnonzero(first)
    length = np.full(points.size, 2, dtype=np.int64)
    while points.size:
        ok = within(points, length)
        low[points[ok]] = length[ok]
        high[points[~ok]] = length[~ok]
        points, length = points[ok], 2 * length[ok]
    points = np.flatnonzero(high - low > 1)
    while points.size:
        middle = (low[points] + high[points]) // 2
        ok = within(points, middle)
        low[points[ok]] = middle[ok]
        high[points[~ok]] = middle[~ok]
        points = points[high[points] - low[points] > 1]
    return low.reshape(own.shape)


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
        :func:`_mi_block`, scikit-learn's numbers) for ``mutual_info``.

    Raises
    ------
    InputError
        An unknown method, no ``obs["split"]`` or ``obs["label"]``, fewer
        than 2 classes, a class with fewer than 2 training samples.
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
    for name, n in zip(classes, n_train, strict=True):
        if n < 2:
            msg = (
                f"{where}: class {name!r} has {n} training sample(s); "
                f"{method} needs at least 2 per class"
            )
            raise InputError(msg)
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
        scores = _mutual_info(
            prepared.X[rows], codes, len(classes), seed=seed, n_jobs=n_jobs, progress=progress
        )
        record.update(
            {"n_neighbors": MI_NEIGHBORS, "block_genes": MI_BLOCK_GENES, "estimator": MI_ESTIMATOR}
        )
    else:
        x, kind = log1p_input(prepared, rows, where=where)
        tests = _scanpy_tests(x, codes, len(classes), method=method)
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
