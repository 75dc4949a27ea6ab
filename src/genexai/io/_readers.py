"""One reader per family of formats: delimited text, AnnData, GDC STAR-Counts.

Every reader has the signature of :data:`Reader` and returns the matrix as
read, before any filter (:class:`Source`); :mod:`genexai.io.formats` picks
the reader from its spec table.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import io as _stdio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import keys
from ..errors import InputError
from ._compression import check_input, open_text
from ._h5ad import read_h5ad
from ._labels import table_labels
from ._tcga import primary_tumour
from ._text import check_unique, listed, read_matrix, read_table

if TYPE_CHECKING:
    from .formats import FormatSpec

#: STAR-Counts value columns; the first three hold counts.
STAR_COUNT_COLUMNS = ("unstranded", "stranded_first", "stranded_second")
STAR_COLUMNS = (*STAR_COUNT_COLUMNS, "tpm_unstranded", "fpkm_unstranded", "fpkm_uq_unstranded")


class Source(NamedTuple):
    """A matrix as read, before filtering."""

    #: ``(n_samples, n_genes)`` float32, linear scale, NaN where missing: a
    #: dense array, or (``h5ad`` with a sparse matrix) CSR with sorted,
    #: summed indices.
    x: np.ndarray | sp.csr_matrix
    samples: pd.Index
    genes: pd.Index
    #: The label of each sample (index: ``samples``), NaN where unlabelled.
    labels: pd.Series
    #: The label column (or ``obs`` column) used.
    label_key: str
    #: Whether the values are counts; ``None``: not known from the format.
    has_counts: bool | None
    #: File names read: the matrix (or folder), then the labels table if any.
    files: list[str]
    #: ``h5ad`` only: the other ``obs`` and ``var`` columns, ``varm`` and ``uns``.
    obs: pd.DataFrame | None = None
    var: pd.DataFrame | None = None
    varm: dict[str, Any] | None = None
    uns: dict[str, Any] | None = None
    #: ``(n_samples,)`` bool, True for primary tumours, for the formats that
    #: keep only those; ``None`` for the others.
    primary: np.ndarray | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReadOptions:
    """The reading options of :func:`genexai.io.formats.read_source`, checked
    against the format's spec; each reader uses those that apply to it."""

    labels: Path | None = None
    label_key: str | None = None
    layer: str | None = None
    use_raw: bool = False
    transpose: bool = False
    #: Called with the number of input bytes read.
    progress: Callable[[int], Any] | None = None


#: ``reader(path, spec, options)``.
Reader = Callable[[Path, "FormatSpec", ReadOptions], Source]


def read_text(path: Path, spec: FormatSpec, options: ReadOptions) -> Source:
    """A delimited matrix file and its labels table."""
    where = str(path)
    x, samples, genes = read_matrix(
        path,
        genes_in_rows=spec.genes_in_rows or options.transpose,
        header_cell=spec.header,
        log2p1=spec.log2p1,
        progress=options.progress,
    )
    # Before the labels table is read: a matrix without barcodes is the first error.
    primary = primary_tumour(samples, where=where) if spec.primary_only else None
    labels = options.labels
    table = read_table(labels, what="labels table")
    values, key = table_labels(
        table,
        samples,
        label_key=options.label_key,
        where=str(labels),
        id_column=spec.id_column,
        label_keys=spec.label_keys,
        per_patient=spec.per_patient,
    )
    files = [path.name, labels.name]
    return Source(x, samples, genes, values, key, spec.counts, files, primary=primary)


def read_anndata(path: Path, spec: FormatSpec, options: ReadOptions) -> Source:
    """``X``, a layer or ``raw.X`` of an ``.h5ad``, with labels from ``obs`` or a table.

    A named layer is read even when the file has no ``X``. A sparse matrix
    stays sparse (:func:`_csr_float32`); the memory guard charges its stored
    arrays, not its dense size.
    """
    layer = options.layer
    adata = read_h5ad(path, layer=layer, use_raw=options.use_raw, keep_sparse=True)
    where = str(path)
    var, varm = adata.var, dict(adata.varm)
    if layer is not None:
        x = adata.layers[layer]
    elif options.use_raw:
        if adata.raw is None:
            msg = f"{where}: use_raw is set, but the file has no raw"
            raise InputError(msg)
        x, var, varm = adata.raw.X, adata.raw.var, {}
    else:
        x = adata.X
    x = _csr_float32(x) if sp.issparse(x) else np.asarray(x)
    if x.dtype.kind not in "fiub":
        msg = f"{where}: the matrix has dtype {x.dtype}, expected numbers"
        raise InputError(msg)
    genes = pd.Index(var.index.astype(str))
    check_unique(genes, what="gene id", where=where)
    files = [path.name]
    if options.labels is not None:
        # A plain labels table: its first column holds the obs names.
        table = read_table(options.labels, what="labels table")
        values, key = table_labels(
            table, adata.obs_names, label_key=options.label_key, where=str(options.labels)
        )
        files.append(options.labels.name)
    else:
        key = options.label_key or spec.label_keys[0]
        if key not in adata.obs:
            msg = (
                f"{where}: label key {key!r} is not an obs column "
                f"(obs: {listed(list(adata.obs.columns))})"
            )
            raise InputError(msg)
        values = adata.obs[key]
        if values.isna().all():
            msg = f"{where}: obs[{key!r}] holds no label (every value is missing)"
            raise InputError(msg)
    obs = adata.obs.drop(columns=[c for c in (keys.LABEL, keys.SPLIT) if c in adata.obs])
    return Source(
        x.astype(np.float32, copy=False),
        adata.obs_names,
        genes,
        values,
        key,
        spec.counts,
        files,
        obs=obs,
        var=var.copy(),
        varm=varm,
        uns=copy.deepcopy(dict(adata.uns)),
    )


def _csr_float32(x: Any) -> sp.csr_matrix:
    """A scipy sparse ``(n_obs, n_vars)`` matrix as CSR float32, never made dense.

    Duplicate entries are summed in the input's dtype before the cast, as
    ``toarray()`` would, and indices sorted, so the non-zeros are in
    row-major order (the value checks name the first offending cell).
    Indices are int32 while the number of non-zeros and columns allows it.
    A non-numeric dtype is left as it is, for the caller's dtype check.
    """
    x = sp.csr_matrix(x)
    x.sum_duplicates()
    if x.dtype.kind not in "fiub":
        return x
    small = max(x.nnz, x.shape[1]) < np.iinfo(np.int32).max
    index = np.int32 if small else np.int64
    return sp.csr_matrix(
        (
            x.data.astype(np.float32, copy=False),
            x.indices.astype(index, copy=False),
            x.indptr.astype(index, copy=False),
        ),
        shape=x.shape,
    )


def _star_file(path: Path, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Gene ids and ``column`` values of one STAR-Counts file (``N_*`` rows included).

    Every row must have the header's number of fields, and every gene row
    (not ``N_*``) an id and a number in ``column``: a malformed row is an
    error naming the file, its line and what is wrong, never a dropped gene.
    """
    what = "STAR-Counts file"
    with open_text(path, what=what) as (text, _):
        line = 1
        header = text.readline()
        while header.startswith("#"):
            header = text.readline()
            line += 1
        body = text.read()
    fields = header.rstrip("\n").split("\t")
    for needed in ("gene_id", column):
        if needed not in fields:
            msg = f"{path}: no column {needed!r} in the {what} (columns: {listed(fields)})"
            raise InputError(msg)
    check_unique(pd.Index(fields), what="column", where=str(path))
    if not body.strip():
        msg = f"{path}: the {what} has a header but no gene rows"
        raise InputError(msg)
    lines = _star_lines(path, body, n_fields=len(fields), first=line + 1)
    table = pd.read_csv(
        _stdio.StringIO(body),
        sep="\t",
        header=None,
        names=fields,
        usecols=["gene_id", column],
        dtype=str,
        quoting=csv.QUOTE_NONE,
        keep_default_na=False,
        skip_blank_lines=True,
    )
    ids = table["gene_id"]
    cells = table[column]
    values = pd.to_numeric(cells, errors="coerce")
    for bad in (
        ids == "",
        (cells == "") & ~ids.str.startswith("N_"),  # the N_* rows leave TPM/FPKM blank
        values.isna() & (cells != ""),
    ):
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            gene, cell = ids.iloc[i], cells.iloc[i]
            if not gene:
                why = "no gene_id"
            elif not cell:
                why = f"gene {gene!r} has no value in column {column!r}"
            else:
                why = f"non-numeric value {cell!r} at gene {gene!r}, column {column!r}"
            msg = f"{path}: line {lines[i]}: {why}; expected a number per gene"
            raise InputError(msg)
    return ids.to_numpy(dtype=str), values.to_numpy(dtype=np.float64)


def _star_lines(path: Path, body: str, *, n_fields: int, first: int) -> np.ndarray:
    """The line number of each non-blank line of ``body`` (its first line is
    ``first``); a line whose number of fields differs from ``n_fields`` is an
    error. Vectorised: the tabs between consecutive line breaks are counted."""
    raw = np.frombuffer(body.encode(), dtype=np.uint8)
    ends = np.flatnonzero(raw == ord("\n"))
    if len(raw) and raw[-1] != ord("\n"):
        ends = np.append(ends, len(raw))
    starts = np.concatenate([[0], ends[:-1] + 1])
    tabs = np.flatnonzero(raw == ord("\t"))
    per_line = np.searchsorted(tabs, ends) - np.searchsorted(tabs, starts)
    filled = ends > starts
    bad = filled & (per_line != n_fields - 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        text = raw[starts[i] : ends[i]].tobytes().decode("utf-8", errors="replace")
        gene = text.split("\t", 1)[0]
        msg = (
            f"{path}: line {first + i}: row {gene!r} has {per_line[i] + 1} fields, "
            f"the header has {n_fields}"
        )
        raise InputError(msg)
    return first + np.flatnonzero(filled)


def read_star_counts(folder: Path, spec: FormatSpec, options: ReadOptions) -> Source:
    """The per-sample STAR-Counts files below ``folder``, stacked in sample-sheet order."""
    sheet = options.labels
    column = options.layer or STAR_COUNT_COLUMNS[0]
    check_input(folder, what="per-sample STAR-Counts", folder=True)
    table = read_table(sheet, what="GDC sample sheet")
    for needed in ("File Name", "Sample ID"):
        if needed not in table.columns:
            msg = (
                f"{sheet}: no column {needed!r} in the GDC sample sheet "
                f"(columns: {listed(list(table.columns))})"
            )
            raise InputError(msg)
    names = pd.Index(table["File Name"])
    check_unique(names, what="'File Name'", where=str(sheet))
    samples = pd.Index(table["Sample ID"])
    check_unique(samples, what="sample id ('Sample ID')", where=str(sheet))
    found: dict[str, Path] = {}
    for file in sorted(folder.rglob("*")):
        if file.is_file() and file.name in names:
            if file.name in found:
                msg = f"{folder}: file name {file.name!r} occurs twice ({found[file.name]}, {file})"
                raise InputError(msg)
            found[file.name] = file
    x = np.empty(0, dtype=np.float32)
    genes = pd.Index([])
    for i, name in enumerate(names):
        if name not in found:
            msg = f"{sheet}: file {name!r} of the sample sheet is not under {folder}"
            raise InputError(msg)
        ids, values = _star_file(found[name], column)
        check_unique(pd.Index(ids), what="gene id", where=str(found[name]))
        if i == 0:
            genes = pd.Index(ids)
            x = np.empty((len(names), len(genes)), dtype=np.float32)
        elif not np.array_equal(ids, genes.to_numpy()):
            order = pd.Index(ids).get_indexer(genes)
            if len(ids) != len(genes) or (order < 0).any():
                msg = (
                    f"{found[name]}: its gene ids differ from those of "
                    f"{found[names[0]]} (a different annotation?)"
                )
                raise InputError(msg)
            values = values[order]
        x[i] = values
        if options.progress is not None:
            options.progress(found[name].stat().st_size)
    values, key = table_labels(
        table,
        samples,
        label_key=options.label_key,
        where=str(sheet),
        id_column=spec.id_column,
        label_keys=spec.label_keys,
        per_patient=spec.per_patient,
    )
    has_counts = column in STAR_COUNT_COLUMNS
    return Source(x, samples, genes, values, key, has_counts, [folder.name, sheet.name])
