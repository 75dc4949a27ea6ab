"""One reader per family of formats: delimited text, AnnData, GDC STAR-Counts.

Every reader has the signature of :data:`Reader` and returns the matrix as
read, before any filter (:class:`Source`); :mod:`genexai.io.formats` picks
the reader from its spec table.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import keys
from ..errors import InputError
from ._compression import open_text
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

    #: ``(n_samples, n_genes)`` float32, linear scale, NaN where missing.
    x: np.ndarray
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
    """``X``, a layer or ``raw.X`` of an ``.h5ad``, with labels from ``obs`` or a table."""
    adata = read_h5ad(path)
    where = str(path)
    layer = options.layer
    var, varm = adata.var, dict(adata.varm)
    if layer is not None:
        if layer not in adata.layers:
            msg = f"{where}: no layer {layer!r} (layers: {listed(list(adata.layers))})"
            raise InputError(msg)
        x = adata.layers[layer]
    elif options.use_raw:
        if adata.raw is None:
            msg = f"{where}: use_raw is set, but the file has no raw"
            raise InputError(msg)
        x, var, varm = adata.raw.X, adata.raw.var, {}
    else:
        x = adata.X
    x = x.toarray() if sp.issparse(x) else np.asarray(x)
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


def _star_file(path: Path, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Gene ids and ``column`` values of one STAR-Counts file (``N_*`` rows included)."""
    what = "STAR-Counts file"
    with open_text(path, what=what) as (text, _):
        header = text.readline()
        while header.startswith("#"):
            header = text.readline()
        fields = header.rstrip("\n").split("\t")
        for needed in ("gene_id", column):
            if needed not in fields:
                msg = f"{path}: no column {needed!r} in the {what} (columns: {listed(fields)})"
                raise InputError(msg)
        table = pd.read_csv(
            text,
            sep="\t",
            header=None,
            names=fields,
            usecols=["gene_id", column],
            dtype={"gene_id": str},
        )
    values = pd.to_numeric(table[column], errors="coerce")
    bad = values.isna() & table[column].notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        msg = (
            f"{path}: non-numeric value {table[column].iloc[i]!r} at gene "
            f"{table['gene_id'].iloc[i]!r}, column {column!r}; expected numbers"
        )
        raise InputError(msg)
    return table["gene_id"].to_numpy(dtype=str), values.to_numpy(dtype=np.float64)


def read_star_counts(folder: Path, spec: FormatSpec, options: ReadOptions) -> Source:
    """The per-sample STAR-Counts files below ``folder``, stacked in sample-sheet order."""
    sheet = options.labels
    column = options.layer or STAR_COUNT_COLUMNS[0]
    if not folder.is_dir():
        msg = (
            f"{folder}: format star_counts expects a folder of per-sample STAR-Counts "
            "files, found " + ("a file" if folder.exists() else "nothing")
        )
        raise InputError(msg)
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
        if i == 0:
            genes = pd.Index(ids)
            check_unique(genes, what="gene id", where=str(found[name]))
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
