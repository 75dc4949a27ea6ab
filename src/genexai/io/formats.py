"""Public expression formats: one spec per format, and :func:`read_source`.

:func:`read_source` reads one of these formats (``format=``) as a
:class:`Source`, the matrix and labels before any filter;
:func:`genexai.import_data.import_data` applies the paper's filters to it.

``h5ad``
    Any AnnData; ``X``, a layer (``layer=``) or ``raw`` (``use_raw=True``).
    Labels from ``obs[label_key]`` (default ``"label"``) or a labels table.
``table``
    A tab- or comma-separated matrix, samples × genes (first column: sample
    ids, header: gene ids), or genes × samples with ``transpose=True``, plus
    a labels table (first column: sample ids; ``label_key`` picks the label
    column, default the only other column).
``pancan_gdc``
    The GDC PanCanAtlas EB++ matrix (``EBPlusPlusAdjustPANCAN_IlluminaHiSeq_
    RNASeqV2.geneExp.tsv``): genes × samples, first header cell ``gene_id``
    (``SYMBOL|Entrez`` rows), aliquot barcodes as columns, linear values
    (slightly negative possible), ``NA`` cells. Labels: the TCGA-CDR clinical
    table as TSV (the Excel file converted, as the paper's downloader does),
    column ``type`` per ``bcr_patient_barcode`` (first 3 barcode fields).
``pancan_xena``
    The Xena PanCanAtlas matrix (``EB++AdjustPANCAN_IlluminaHiSeq_RNASeqV2.
    geneExp.xena``): genes × samples, first header cell ``sample``, 15-character
    sample barcodes, values log2(x+1). Labels: ``Survival_SupplementalTable_
    S1_20171025_xena_sp``, column ``cancer type abbreviation`` per ``sample``.
``xena_htseq``
    Xena GDC hub ``TCGA-<X>.htseq_counts.tsv.gz``: genes × samples, first
    header cell ``Ensembl_ID``, values log2(count+1), ``__*`` counter rows.
    Labels: ``TCGA-<X>.GDC_phenotype.tsv.gz``, column ``sample_type.samples``
    per ``submitter_id.samples``; only 'Primary Tumor' and 'Solid Tissue
    Normal' are kept by default (the paper's BRCA and KIRC drop lists remove
    exactly the other labels those projects have).
``star_counts``
    GDC STAR-Counts: a folder holding the per-sample
    ``*.rna_seq.augmented_star_gene_counts.tsv`` files (anywhere below it,
    found by file name), and, as labels, the GDC portal sample sheet
    (``gdc_sample_sheet.<date>.tsv``). Assumed sample-sheet layout: one row
    per file, tab-separated, columns ``File ID``, ``File Name``, ``Data
    Category``, ``Data Type``, ``Project ID``, ``Case ID``, ``Sample ID``,
    ``Sample Type`` (older portal) or ``Tissue Type``, ``Tumor Descriptor``,
    ``Specimen Type``, ``Preservation Method`` (portal 2.0); only ``File
    Name`` and ``Sample ID`` are required. Per-sample file: a ``#`` comment
    line, the header ``gene_id gene_name gene_type unstranded stranded_first
    stranded_second tpm_unstranded fpkm_unstranded fpkm_uq_unstranded``, four
    ``N_*`` STAR summary rows, then one row per gene. ``layer=`` picks the
    value column (default ``unstranded``). Samples are the sheet's ``Sample
    ID``; labels its ``Sample Type`` (or ``Tissue Type``) column by default.

Text files are recognised by content, not by name (the pipeline stages them
under fixed names): gzip, bzip2 or xz compression by magic bytes, tab or comma
separator from the header line. They follow the CSV quoting rules (a quoted
field may hold the separator, doubled quotes and line breaks); a UTF-8
byte-order mark and Windows line ends are read. Missing cells and ``NA`` read
as NaN. Xena's log2(x+1) values are returned as ``2**v - 1`` (computed in
float64).

A malformed row is an error naming the file and the row, never a row or gene
dropped: one with more or fewer fields than the header (for STAR-Counts, a
gene row without a value in the chosen column), a badly quoted field, a
non-numeric cell, an empty id. So are a truncated archive, text that is not
UTF-8, and a path that is a folder, a device or FIFO, a broken symbolic link
or a loop of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import keys
from .._defaults import FORMATS, Format
from ..errors import InputError
from ._readers import (
    STAR_COLUMNS,
    Reader,
    ReadOptions,
    Source,
    read_anndata,
    read_star_counts,
    read_text,
)

__all__ = [
    "FORMATS",
    "SPECS",
    "Format",
    "FormatSpec",
    "Source",
    "format_spec",
    "input_size",
    "read_source",
]


@dataclasses.dataclass(frozen=True, kw_only=True)
class FormatSpec:
    """What differs between formats; see the module docstring."""

    #: Reads the format's files as a :class:`Source`.
    reader: Reader
    #: Expected first cell of the matrix header (None: anything).
    header: str | None = None
    #: The matrix file is genes × samples.
    genes_in_rows: bool = False
    #: Labels-table column holding the sample (or patient) ids; None: the first.
    id_column: str | None = None
    #: Default label column(s), the first present wins; (): the only other column.
    label_keys: tuple[str, ...] = ()
    #: The file stores log2(x+1).
    log2p1: bool = False
    #: Values are counts (None: detect non-negative integers).
    counts: bool | None = None
    #: Keep only primary-tumour samples (TCGA barcode field 4).
    primary_only: bool = False
    #: The labels table is per patient (first 3 barcode fields).
    per_patient: bool = False
    #: Labels kept when the caller gives none (None: all).
    keep_labels: tuple[str, ...] | None = None
    #: Whether the paper's gene filters run by default.
    filter_genes: bool = True
    #: Gene ids of counter rows, dropped by the gene filters.
    counter_prefix: str = "__"
    #: Drop unlabelled samples (else they are an error).
    drop_unlabelled: bool = True
    #: The format needs a labels table (else it is optional).
    needs_labels: bool = True
    #: Accepted ``layer`` values; (): any the file has; None: no ``layer``.
    layers: tuple[str, ...] | None = None
    #: ``use_raw`` applies.
    use_raw: bool = False
    #: ``transpose`` applies.
    transpose: bool = False


SPECS: dict[str, FormatSpec] = {
    "h5ad": FormatSpec(
        reader=read_anndata,
        label_keys=(keys.LABEL,),
        filter_genes=False,
        drop_unlabelled=False,
        needs_labels=False,
        layers=(),
        use_raw=True,
    ),
    "table": FormatSpec(
        reader=read_text, filter_genes=False, drop_unlabelled=False, transpose=True
    ),
    "pancan_gdc": FormatSpec(
        reader=read_text,
        header="gene_id",
        genes_in_rows=True,
        id_column="bcr_patient_barcode",
        label_keys=("type",),
        counts=False,
        primary_only=True,
        per_patient=True,
    ),
    "pancan_xena": FormatSpec(
        reader=read_text,
        header="sample",
        genes_in_rows=True,
        id_column="sample",
        label_keys=("cancer type abbreviation",),
        log2p1=True,
        counts=False,
        primary_only=True,
    ),
    "xena_htseq": FormatSpec(
        reader=read_text,
        header="Ensembl_ID",
        genes_in_rows=True,
        id_column="submitter_id.samples",
        label_keys=("sample_type.samples",),
        log2p1=True,
        counts=True,
        keep_labels=("Primary Tumor", "Solid Tissue Normal"),
    ),
    "star_counts": FormatSpec(
        reader=read_star_counts,
        id_column="Sample ID",
        label_keys=("Sample Type", "Tissue Type"),
        counter_prefix="N_",
        layers=STAR_COLUMNS,
    ),
}


def input_size(path: str | Path) -> int:
    """Bytes that :func:`read_source` will read: the file, or the files below a folder.

    The unit of its ``progress`` callback; 0 when ``path`` does not exist.
    """
    path = Path(path)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.is_file() else 0


def format_spec(format: str) -> FormatSpec:
    """The spec of ``format``; an :class:`InputError` if it is not one of :data:`FORMATS`."""
    if format not in SPECS:
        msg = f"format: expected one of {', '.join(FORMATS)}, found {format!r}"
        raise InputError(msg)
    return SPECS[format]


def read_source(
    path: str | Path,
    *,
    format: Format,
    labels: str | Path | None = None,
    label_key: str | None = None,
    layer: str | None = None,
    use_raw: bool = False,
    transpose: bool = False,
    progress: Callable[[int], Any] | None = None,
) -> Source:
    """Read expression data and labels as they are in the files, samples × genes.

    Parameters
    ----------
    path
        The expression file; for ``star_counts``, the folder of per-sample files.
    format
        One of :data:`FORMATS` (see the module docstring).
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
    progress
        Called with the number of input bytes read (see :func:`input_size`).

    Returns
    -------
    Source
        ``x`` ``(n_samples, n_genes)`` float32 on the linear scale, NaN where
        missing (CSR for a sparse ``h5ad`` matrix, never made dense);
        sample and gene ids; each sample's label (NaN where none); the
        label key; whether the values are counts (``None``: unknown);
        the files read; for ``h5ad`` its other ``obs``/``var`` columns,
        ``varm`` and ``uns``; for the PanCan formats the primary-tumour mask.

    Raises
    ------
    InputError
        An unknown format, an option that does not apply to it, missing or
        unreadable files, wrong layout, duplicate ids, non-numeric values,
        an absent label key or labels-table id column.
    """
    spec = format_spec(format)
    labels_path = Path(labels) if labels is not None else None
    _check_options(
        format, spec, labels=labels_path, layer=layer, use_raw=use_raw, transpose=transpose
    )
    options = ReadOptions(
        labels=labels_path,
        label_key=label_key,
        layer=layer,
        use_raw=use_raw,
        transpose=transpose,
        progress=progress,
    )
    return spec.reader(Path(path), spec, options)


def _formats_where(allowed: Callable[[FormatSpec], bool]) -> str:
    """The formats whose spec allows an option, for a message: ``h5ad or star_counts``."""
    return " or ".join(name for name, spec in SPECS.items() if allowed(spec))


def _check_options(
    format: str,
    spec: FormatSpec,
    *,
    labels: Path | None,
    layer: str | None,
    use_raw: bool,
    transpose: bool,
) -> None:
    """Refuse a missing labels table and options that do not apply to ``format``."""
    if labels is None and spec.needs_labels:
        msg = f"labels: format {format} needs a labels/phenotype table or sample sheet"
        raise InputError(msg)
    if layer is not None and spec.layers is None:
        takers = _formats_where(lambda s: s.layers is not None)
        msg = f"layer: applies to format {takers}, not {format}"
        raise InputError(msg)
    if layer is not None and spec.layers and layer not in spec.layers:
        msg = f"layer: a {format} value column is one of {', '.join(spec.layers)}, found {layer!r}"
        raise InputError(msg)
    if use_raw and (not spec.use_raw or layer is not None):
        takers = _formats_where(lambda s: s.use_raw)
        msg = f"use_raw: applies to format {takers} only, and not together with layer"
        raise InputError(msg)
    if transpose and not spec.transpose:
        takers = _formats_where(lambda s: s.transpose)
        msg = f"transpose: applies to format {takers} only; {format} has a fixed layout"
        raise InputError(msg)
