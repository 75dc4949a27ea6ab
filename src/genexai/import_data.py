"""IMPORT: expression data and labels in a public format, as one AnnData, samples × genes.

:func:`import_data` reads the files with :func:`genexai.io.formats.read_source`
(the formats and their layouts are listed there), applies the paper's
filters, checks the values and builds the AnnData that PREPARE reads.

Where the paper's filters live
------------------------------
Here, at import, on all samples (train and test together), as in the paper
(method.md §2.1-2.2): they depend on the source format. :func:`genexai.prepare.prepare`
only drops small classes, splits and transforms. In the paper's order:

1. drop counter genes (ids starting ``__``; ``N_`` for STAR);
2. keep genes whose maximum over all samples (NaN ignored) is > 0;
3. ``pancan_*`` only: keep primary-tumour samples, barcode field 4 starting
   ``01`` (primary solid tumour) or ``03`` (primary blood-derived cancer);
4. drop genes with any NaN among the kept samples;
5. label the samples, drop those without a label, then apply
   ``keep_labels``/``drop_labels``.

Steps 1, 2 and 4 run when ``filter_genes`` is true, the default for the
TCGA/GDC formats; for ``h5ad`` and ``table`` it defaults to false, and then a
NaN is an error, as is a sample without a label.

Values
------
Xena files store log2(x+1); the readers return ``2**v - 1`` (computed in
float64), so ``X`` is always on the linear scale of the source: counts for
``xena_htseq`` and ``star_counts`` count columns, normalised expression for
``pancan_*``. ``uns['genexai']['import']['has_counts']`` says whether ``X``
holds counts (for ``h5ad``/``table``: all values are non-negative integers).
The :mod:`genexai.prepare` transform that reproduces the paper: ``pancan_gdc``
and ``pancan_xena`` → ``log2_zscore``; ``xena_htseq`` (BRCA, KIRC) →
``log2_cpm_center``; simulations → ``zscore``.

Sparse input
------------
An ``h5ad`` with a sparse matrix stays sparse: ``X`` is CSR float32 and is
never made dense, here or in the reader. Every check and filter above works
on its stored values and per-gene counts of them (an implicit zero is a
finite, non-negative integer, never > 0 and never NaN), so it keeps exactly
the genes and samples, and gives the same errors, as the dense matrix would.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import keys
from .errors import InputError
from .io import looks_like_counts, step_uns
from .io._text import check_unique
from .io._values import any_nan_per_gene, any_positive_per_gene, check_values
from .io.formats import FORMATS, SPECS, Format, FormatSpec, Source, input_size, read_source

__all__ = ["FORMATS", "Format", "import_data", "input_size"]

logger = logging.getLogger(__name__)


def import_data(
    path: str | Path,
    *,
    format: Format,
    labels: str | Path | None = None,
    label_key: str | None = None,
    layer: str | None = None,
    use_raw: bool = False,
    transpose: bool = False,
    keep_labels: Sequence[str] | None = None,
    drop_labels: Sequence[str] | None = None,
    filter_genes: bool | None = None,
    progress: Callable[[int], Any] | None = None,
    input_name: str | None = None,
    labels_name: str | None = None,
) -> ad.AnnData:
    """Read expression data and labels into an AnnData, samples × genes.

    Parameters
    ----------
    path
        The expression file; for ``star_counts``, the folder of per-sample files.
    format
        One of :data:`FORMATS` (see :mod:`genexai.io.formats`).
    labels
        The labels, phenotype, clinical table or sample sheet. Required for
        every format but ``h5ad``.
    label_key
        The label column (``obs`` column for ``h5ad``). Default: per format.
    layer
        ``h5ad``: the layer to read instead of ``X``. ``star_counts``: the
        value column (default ``unstranded``).
    use_raw
        ``h5ad``: read ``raw.X`` (and ``raw.var``).
    transpose
        ``table``: the file is genes × samples.
    keep_labels, drop_labels
        Keep only samples with these labels / drop samples with these labels.
        ``xena_htseq`` keeps 'Primary Tumor' and 'Solid Tissue Normal' unless
        ``keep_labels`` is given.
    filter_genes
        Apply the paper's gene filters. Default: true except for ``h5ad`` and
        ``table``.
    progress
        Called with the number of input bytes read (see :func:`input_size`).
    input_name, labels_name
        What the error messages call ``path`` and ``labels`` (default: the
        paths as given): the pipeline stages the user's files under fixed
        names and passes the names the user gave here. Used in messages
        only, never written to the output.

    Returns
    -------
    AnnData
        ``X``: ``(n_samples, n_genes)`` float32, raw values on a linear scale
        (no transform); CSR (int32 indices while they fit) when the ``h5ad``
        matrix is sparse, else dense. ``obs['label']``: categorical; its categories are the
        sorted class names (an ``h5ad`` categorical keeps its order).
        ``uns['genexai']['import']``: format, files, label key, ``has_counts``,
        ``unlogged`` and the number of genes and samples each filter dropped.
        ``h5ad`` inputs keep their other ``obs``/``var`` columns, ``varm`` and
        ``uns``.

    Raises
    ------
    InputError
        Missing or unreadable files, wrong layout, malformed rows, duplicate
        ids, non-numeric, NaN (unless the gene filters drop it) or infinite
        values, negative counts, absent or empty label column, labels not
        matching the samples, unlabelled samples (``h5ad``/``table``), fewer
        than two classes, or nothing left after filtering. Infinite values and
        negative counts are refused before any filter, so that no filter hides
        them.
    """
    given = ((path, input_name), (labels, labels_name))
    shown = {str(Path(p)): name for p, name in given if p is not None and name is not None}
    with _files_shown_as(shown):
        source = read_source(
            path,
            format=format,
            labels=labels,
            label_key=label_key,
            layer=layer,
            use_raw=use_raw,
            transpose=transpose,
            progress=progress,
        )
        spec = SPECS[format]
        record: dict[str, Any] = {"format": format, "files": source.files, "use_raw": use_raw}
        for name, value in (("layer", layer), ("transpose", transpose)):
            if value:
                record[name] = value
        return _filter(
            source,
            spec,
            keep_labels=keep_labels if keep_labels is not None else spec.keep_labels,
            drop_labels=drop_labels,
            filter_genes=spec.filter_genes if filter_genes is None else filter_genes,
            where=str(Path(path)),
            labels_where=str(Path(labels)) if labels is not None else str(Path(path)),
            record=record,
        )


@contextlib.contextmanager
def _files_shown_as(shown: Mapping[str, str]) -> Iterator[None]:
    """Re-raise an :class:`InputError` with the paths in ``shown`` named as given there."""
    try:
        yield
    except InputError as exc:
        if not shown:
            raise
        raise InputError(rename_paths(str(exc), shown)) from None


def rename_paths(message: str, names: Mapping[str, str]) -> str:
    """``message`` with each path in ``names`` (or a path below it) shown as its name.

    Every IMPORT message names a file as the path it was given, printed as
    it is (``input.data``, ``input.data/a/b.tsv`` below a folder), so this one
    substitution at the boundary covers them all and keeps the readers, shared
    with every step, free of display names. A path counts only as a whole
    token: at the start or after a space or ``(``, and before ``:``, ``/``,
    ``,``, ``;``, ``)``, a space or the end. Values the messages quote
    (``'input.data'`` as a gene id) are never matched. Control characters in
    a name are escaped, so the message stays one line.
    """
    names = {p: _printable(name) for p, name in names.items()}
    # Longer paths first: a labels file inside the input folder keeps its own name.
    longest = sorted(names, key=len, reverse=True)
    token = re.compile(r"(?<![^\s(])(" + "|".join(map(re.escape, longest)) + r")(?=[/:,;)\s]|$)")
    return token.sub(lambda m: names[m.group(1)], message)


def _printable(name: str) -> str:
    """``name`` with each non-printable character escaped as Python writes it (a backslash form)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def _classes(labels: pd.Series) -> list[str]:
    """Class names in class-index order: a categorical's order, else sorted
    (as numbers when every label is one)."""
    present = pd.unique(labels)
    if isinstance(labels.dtype, pd.CategoricalDtype):
        return [str(c) for c in labels.cat.categories if c in set(present)]
    names = [str(c) for c in present]
    numbers = pd.to_numeric(pd.Series(names), errors="coerce")
    if numbers.notna().all():
        return [names[i] for i in np.argsort(numbers.to_numpy(), kind="stable")]
    return sorted(names)


def _filter(
    source: Source,
    spec: FormatSpec,
    *,
    keep_labels: Sequence[str] | None,
    drop_labels: Sequence[str] | None,
    filter_genes: bool,
    where: str,
    labels_where: str,
    record: dict[str, Any],
) -> ad.AnnData:
    """Apply the filters in the paper's order, check the values, build the AnnData.

    ``where``, ``labels_where``: the expression file and the file holding the
    labels (the same for ``h5ad`` labels in ``obs``), as given, for the messages.
    """
    x, samples, genes, labels = source.x, source.samples, source.genes, source.labels
    check_unique(samples, what="sample id", where=where)
    # Before any filter: no filter may hide an infinite value or a negative count.
    check_values(x, samples, genes, where=where, counts=bool(source.has_counts), nan=False)
    dropped: dict[str, int] = {}
    gene_keep = np.ones(len(genes), dtype=bool)
    row_keep = np.ones(len(samples), dtype=bool)
    if filter_genes:
        counters = genes.str.startswith(spec.counter_prefix)
        gene_keep &= ~counters
        dropped["genes_counters"] = int(counters.sum())
        positive = any_positive_per_gene(x)
        dropped["genes_max_le_0"] = int((gene_keep & ~positive).sum())
        gene_keep &= positive
    if source.primary is not None:
        row_keep &= source.primary
        dropped["samples_not_primary"] = int((~row_keep).sum())
    if filter_genes:
        nan = any_nan_per_gene(x, np.flatnonzero(row_keep))
        dropped["genes_nan"] = int((gene_keep & nan).sum())
        gene_keep &= ~nan
    labelled = labels.notna().to_numpy()
    if not labelled.any():
        msg = (
            f"{where}: labels do not match the samples: none of its {len(samples)} samples "
            f"(e.g. {samples[0]!r}) has a label in {labels_where} (key {source.label_key!r})"
        )
        raise InputError(msg)
    unlabelled = row_keep & ~labelled
    if unlabelled.any():
        if not spec.drop_unlabelled:
            msg = (
                f"{where}: sample {samples[unlabelled][0]!r} has no label "
                f"({int(unlabelled.sum())} unlabelled in {labels_where}, "
                f"key {source.label_key!r})"
            )
            raise InputError(msg)
        row_keep &= labelled
        dropped["samples_unlabelled"] = int(unlabelled.sum())
    text = labels.astype(str).to_numpy()
    chosen = np.ones(len(samples), dtype=bool)
    if keep_labels is not None:
        chosen &= np.isin(text, list(keep_labels))
        record["keep_labels"] = list(keep_labels)
    if drop_labels:
        chosen &= ~np.isin(text, list(drop_labels))
        record["drop_labels"] = list(drop_labels)
    dropped["samples_label_filter"] = int((row_keep & ~chosen).sum())
    row_keep &= chosen
    if not row_keep.any() or not gene_keep.any():
        msg = (
            f"{where}: empty dataset after filtering ({int(row_keep.sum())} samples, "
            f"{int(gene_keep.sum())} genes left; dropped {dropped})"
        )
        raise InputError(msg)
    rows, cols = np.flatnonzero(row_keep), np.flatnonzero(gene_keep)
    x = _subset(x, rows, cols)
    samples, genes, labels = samples[rows], genes[cols], labels.iloc[rows]
    classes = _classes(labels)
    if len(classes) < 2:
        msg = (
            f"{where}: only one class ({classes[0]!r}, key {source.label_key!r}) after "
            "filtering; expected at least 2"
        )
        raise InputError(msg)
    check_values(x, samples, genes, where=where, counts=bool(source.has_counts))
    has_counts = source.has_counts if source.has_counts is not None else looks_like_counts(x)
    for step, n in dropped.items():
        if n:
            logger.info("%s: dropped %d %s", where, n, step.replace("_", " ", 1))
    obs = source.obs.iloc[rows].copy() if source.obs is not None else pd.DataFrame(index=samples)
    obs.index = pd.Index(samples.astype(str))
    obs[keys.LABEL] = pd.Categorical(labels.astype(str).to_numpy(), categories=classes)
    var = source.var.iloc[cols].copy() if source.var is not None else pd.DataFrame(index=genes)
    var.index = pd.Index(genes.astype(str))
    varm = {
        k: v.iloc[cols] if isinstance(v, pd.DataFrame) else v[cols]
        for k, v in (source.varm or {}).items()
    }
    adata = ad.AnnData(X=x, obs=obs, var=var, varm=varm, uns=source.uns or {})
    record[keys.HAS_COUNTS] = has_counts
    record.update(
        label_key=source.label_key,
        unlogged=spec.log2p1,
        filter_genes=filter_genes,
        n_samples_read=len(source.samples),
        n_genes_read=len(source.genes),
        **{f"dropped_{k}": v for k, v in dropped.items()},
    )
    uns = step_uns(adata, keys.IMPORT)
    uns.clear()
    uns.update(record)
    return adata


def _subset(x: np.ndarray | sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> Any:
    """``x`` restricted to ``rows`` and ``cols`` (sorted indices), unchanged when both are all.

    Sparse: rows then columns, each O(non-zeros); ``np.ix_`` indexing of a
    sparse matrix would visit every cell of the result.
    """
    if len(rows) == x.shape[0] and len(cols) == x.shape[1]:
        return x
    if not sp.issparse(x):
        return x[np.ix_(rows, cols)]
    if len(rows) < x.shape[0]:
        x = x[rows]
    if len(cols) < x.shape[1]:
        x = x[:, cols]
    x.sort_indices()
    return x
