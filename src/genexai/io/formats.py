"""Importers for public expression formats: one AnnData, samples × genes.

:func:`read_input` reads one of these formats (``format=``):

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
separator from the header line. Missing cells and ``NA`` read as NaN.

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
Xena files store log2(x+1); the importer returns ``2**v - 1`` (computed in
float64), so ``X`` is always on the linear scale of the source: counts for
``xena_htseq`` and ``star_counts`` count columns, normalised expression for
``pancan_*``. ``uns['genexai']['import']['has_counts']`` says whether ``X``
holds counts (for ``h5ad``/``table``: all values are non-negative integers).
The :mod:`genexai.prepare` transform that reproduces the paper: ``pancan_gdc``
and ``pancan_xena`` → ``log2_zscore``; ``xena_htseq`` (BRCA, KIRC) →
``log2_cpm_center``; simulations → ``zscore``.
"""

from __future__ import annotations

import bz2
import contextlib
import copy
import csv
import dataclasses
import gzip
import io as _stdio
import itertools
import logging
import lzma
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Literal, NamedTuple, NoReturn, TextIO, get_args

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import keys
from ..errors import InputError
from ._h5ad import read_h5ad, step_uns
from ._matrix import row_blocks

__all__ = ["FORMATS", "Format", "input_size", "looks_like_counts", "read_input"]

logger = logging.getLogger(__name__)

Format = Literal["h5ad", "table", "pancan_gdc", "pancan_xena", "xena_htseq", "star_counts"]
FORMATS: tuple[str, ...] = get_args(Format)

#: Barcode field 4 prefixes kept by the PanCan filter: 01 primary solid
#: tumour, 03 primary blood-derived cancer.
PRIMARY_TUMOUR_CODES = ("01", "03")
#: STAR-Counts value columns; the first three hold counts.
STAR_COUNT_COLUMNS = ("unstranded", "stranded_first", "stranded_second")
STAR_COLUMNS = (*STAR_COUNT_COLUMNS, "tpm_unstranded", "fpkm_unstranded", "fpkm_uq_unstranded")
#: Matrix elements per parsing or scanning block: bounds temporaries to tens of MiB.
BLOCK_ELEMENTS = 1 << 22
#: Project, tissue source site, participant, then the 2-digit sample type.
_BARCODE = r"[A-Za-z0-9]+-[A-Za-z0-9]+-[A-Za-z0-9]+-\d\d"
#: Column names listed in an error message, at most.
_MAX_LISTED = 12

_COMPRESSED: tuple[tuple[bytes, Callable[[BinaryIO], BinaryIO]], ...] = (
    (b"\x1f\x8b", lambda raw: gzip.GzipFile(fileobj=raw)),
    (b"BZh", lambda raw: bz2.BZ2File(raw)),
    (b"\xfd7zXZ\x00", lambda raw: lzma.LZMAFile(raw)),
)


@dataclasses.dataclass(frozen=True)
class _Spec:
    """What differs between formats; see the module docstring."""

    #: Expected first cell of the matrix header (None: anything).
    header: str | None = None
    genes_in_rows: bool = False
    #: Labels-table column holding the sample (or patient) ids; None: the first.
    id_column: str | None = None
    #: Default label column(s), the first present wins; () : see ``_pick_label_key``.
    label_keys: tuple[str, ...] = ()
    log2p1: bool = False
    #: Values are counts (None: detect non-negative integers).
    counts: bool | None = None
    primary_only: bool = False
    per_patient: bool = False
    keep_labels: tuple[str, ...] | None = None
    filter_genes: bool = True
    counter_prefix: str = "__"
    drop_unlabelled: bool = True


_SPECS: dict[str, _Spec] = {
    "h5ad": _Spec(label_keys=(keys.LABEL,), filter_genes=False, drop_unlabelled=False),
    "table": _Spec(filter_genes=False, drop_unlabelled=False),
    "pancan_gdc": _Spec(
        header="gene_id",
        genes_in_rows=True,
        id_column="bcr_patient_barcode",
        label_keys=("type",),
        counts=False,
        primary_only=True,
        per_patient=True,
    ),
    "pancan_xena": _Spec(
        header="sample",
        genes_in_rows=True,
        id_column="sample",
        label_keys=("cancer type abbreviation",),
        log2p1=True,
        counts=False,
        primary_only=True,
    ),
    "xena_htseq": _Spec(
        header="Ensembl_ID",
        genes_in_rows=True,
        id_column="submitter_id.samples",
        label_keys=("sample_type.samples",),
        log2p1=True,
        counts=True,
        keep_labels=("Primary Tumor", "Solid Tissue Normal"),
    ),
    "star_counts": _Spec(
        id_column="Sample ID",
        label_keys=("Sample Type", "Tissue Type"),
        counter_prefix="N_",
    ),
}


class _Source(NamedTuple):
    """A matrix as read, before filtering."""

    x: np.ndarray  #: (n_samples, n_genes) float32, NaN where missing
    samples: pd.Index
    genes: pd.Index
    labels: pd.Series  #: per sample (index = samples), NaN where unlabelled
    label_key: str
    has_counts: bool | None
    files: list[str]
    obs: pd.DataFrame | None = None
    var: pd.DataFrame | None = None
    varm: dict[str, Any] | None = None
    uns: dict[str, Any] | None = None


def input_size(path: str | Path) -> int:
    """Bytes that :func:`read_input` will read: the file, or the files below a folder.

    The unit of its ``progress`` callback; 0 when ``path`` does not exist.
    """
    path = Path(path)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.is_file() else 0


def read_input(
    path: str | Path,
    *,
    format: Format,
    label_key: str | None = None,
    labels: str | Path | None = None,
    layer: str | None = None,
    use_raw: bool = False,
    transpose: bool = False,
    keep_labels: Sequence[str] | None = None,
    drop_labels: Sequence[str] | None = None,
    filter_genes: bool | None = None,
    progress: Callable[[int], Any] | None = None,
) -> ad.AnnData:
    """Read expression data and labels into an AnnData, samples × genes.

    Parameters
    ----------
    path
        The expression file; for ``star_counts``, the folder of per-sample files.
    format
        One of :data:`FORMATS` (see the module docstring).
    label_key
        The label column (``obs`` column for ``h5ad``). Default: per format.
    labels
        The labels, phenotype, clinical table or sample sheet. Required for
        every format but ``h5ad``.
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

    Returns
    -------
    AnnData
        ``X``: ``(n_samples, n_genes)`` float32, raw values on a linear scale
        (no transform). ``obs['label']``: categorical; its categories are the
        sorted class names (an ``h5ad`` categorical keeps its order).
        ``uns['genexai']['import']``: format, files, label key, ``has_counts``,
        ``unlogged`` and the number of genes and samples each filter dropped.
        ``h5ad`` inputs keep their other ``obs``/``var`` columns, ``varm`` and
        ``uns``.

    Raises
    ------
    InputError
        Missing or unreadable files, wrong layout, duplicate ids, non-numeric,
        NaN or infinite values, negative counts, absent label key, labels not
        matching the samples, unlabelled samples (``h5ad``/``table``), fewer
        than two classes, or nothing left after filtering.
    """
    if format not in FORMATS:
        msg = f"--format: expected one of {', '.join(FORMATS)}, found {format!r}"
        raise InputError(msg)
    spec = _SPECS[format]
    path = Path(path)
    labels_path = Path(labels) if labels is not None else None
    _check_options(format, labels=labels_path, layer=layer, use_raw=use_raw, transpose=transpose)
    if format == "h5ad":
        source = _read_h5ad_source(
            path, label_key=label_key, labels=labels_path, layer=layer, use_raw=use_raw
        )
    elif format == "star_counts":
        source = _read_star(
            path,
            sheet=labels_path,
            label_key=label_key,
            column=layer or STAR_COUNT_COLUMNS[0],
            progress=progress,
        )
    else:
        source = _read_text_source(
            path,
            spec,
            labels=labels_path,
            label_key=label_key,
            genes_in_rows=spec.genes_in_rows or transpose,
            progress=progress,
        )
    record: dict[str, Any] = {"format": format, "files": source.files, "use_raw": use_raw}
    for name, value in (("layer", layer), ("transpose", transpose)):
        if value:
            record[name] = value
    keep = keep_labels if keep_labels is not None else spec.keep_labels
    return _finish(
        source,
        spec,
        keep_labels=keep,
        drop_labels=drop_labels,
        filter_genes=spec.filter_genes if filter_genes is None else filter_genes,
        where=str(path),
        record=record,
    )


def _check_options(
    format: str,
    *,
    labels: Path | None,
    layer: str | None,
    use_raw: bool,
    transpose: bool,
) -> None:
    if labels is None and format != "h5ad":
        msg = f"--labels: --format {format} needs a labels/phenotype table or sample sheet"
        raise InputError(msg)
    if layer is not None and format not in ("h5ad", "star_counts"):
        msg = f"--layer: applies to --format h5ad or star_counts, not {format}"
        raise InputError(msg)
    if layer is not None and format == "star_counts" and layer not in STAR_COLUMNS:
        msg = f"--layer: a STAR-Counts column is one of {', '.join(STAR_COLUMNS)}, found {layer!r}"
        raise InputError(msg)
    if use_raw and (format != "h5ad" or layer is not None):
        msg = "--use-raw: applies to --format h5ad only, and not together with --layer"
        raise InputError(msg)
    if transpose and format != "table":
        msg = f"--transpose: applies to --format table only; {format} has a fixed layout"
        raise InputError(msg)


# --- reading text ------------------------------------------------------------


@contextlib.contextmanager
def _open_text(path: Path, *, what: str) -> Iterator[tuple[TextIO, BinaryIO]]:
    """Open a text file, decompressing by magic bytes; yield (text, raw handle).

    Decoding and decompression errors raised while the caller reads become
    :class:`InputError`.
    """
    if not path.exists():
        msg = f"{path}: no such file ({what})"
        raise InputError(msg)
    if path.is_dir():
        msg = f"{path}: is a folder, expected a {what} file"
        raise InputError(msg)
    with open(path, "rb") as raw:
        head = raw.read(8)
        raw.seek(0)
        if head.startswith(b"PK\x03\x04"):
            msg = f"{path}: is a zip/Excel file, expected a tab- or comma-separated {what}"
            raise InputError(msg)
        if head.startswith(b"\x89HDF"):
            msg = f"{path}: is an HDF5 (.h5ad) file, expected a text {what} (--format h5ad?)"
            raise InputError(msg)
        stream = next((open_ for magic, open_ in _COMPRESSED if head.startswith(magic)), None)
        text = _stdio.TextIOWrapper(stream(raw) if stream else raw, encoding="utf-8-sig")
        try:
            yield text, raw
        except (UnicodeDecodeError, EOFError, OSError, lzma.LZMAError, zlib.error) as exc:
            msg = f"{path}: cannot be read as a text {what} ({exc.__class__.__name__})"
            raise InputError(msg) from None


def _sniff_separator(header: str, *, path: Path, what: str) -> str:
    for sep in ("\t", ","):
        if sep in header:
            return sep
    msg = f"{path}: the header of the {what} has no tab or comma (not a TSV/CSV table)"
    raise InputError(msg)


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(repr(str(n)) for n in names[:_MAX_LISTED])
    return shown + (", ..." if len(names) > _MAX_LISTED else "")


def _check_unique(index: pd.Index, *, what: str, where: str) -> None:
    if not index.is_unique:
        msg = f"{where}: duplicate {what} {index[index.duplicated()][0]!r}"
        raise InputError(msg)


def _read_table(path: Path, *, what: str) -> pd.DataFrame:
    """A small text table (labels, phenotypes, sample sheet), every cell a string."""
    with _open_text(path, what=what) as (text, _):
        content = text.read()
    header = content.split("\n", 1)[0]
    if not header.strip():
        msg = f"{path}: empty {what}"
        raise InputError(msg)
    sep = _sniff_separator(header, path=path, what=what)
    try:
        return pd.read_csv(_stdio.StringIO(content), sep=sep, dtype=str)
    except (pd.errors.ParserError, ValueError) as exc:
        msg = f"{path}: cannot be parsed as a {what} ({str(exc).splitlines()[0]})"
        raise InputError(msg) from None


def _missing_cells(sep: str) -> re.Pattern[str]:
    """Empty or ``NA`` fields of a data line (the line without its id field)."""
    s = re.escape(sep)
    return re.compile(rf"(?:(?<={s})|^)(?:NA)?(?={s}|\n|$)")


def _loadtxt(data: list[str], *, sep: str, dtype: type) -> np.ndarray:
    return np.loadtxt(data, delimiter=sep, dtype=dtype, comments=None, quotechar='"', ndmin=2)


def _locate_error(
    lines: list[str], ids: list[str], *, sep: str, columns: pd.Index, path: Path, why: str
) -> NoReturn:
    """Find the first ragged row or non-numeric cell (slow; only after a failed parse)."""
    for line, row_id in zip(lines, ids, strict=True):
        fields = next(csv.reader([line.rstrip("\n")], delimiter=sep))
        expected = len(columns) + 1
        if len(fields) != expected:
            msg = f"{path}: row {row_id!r} has {len(fields)} fields, the header has {expected}"
            raise InputError(msg)
        for value, column in zip(fields[1:], columns, strict=True):
            if value in ("", "NA"):
                continue
            try:
                float(value)
            except ValueError:
                msg = (
                    f"{path}: non-numeric value {value!r} at row {row_id!r}, "
                    f"column {column!r}; expected numbers"
                )
                raise InputError(msg) from None
    msg = f"{path}: cannot parse the numbers ({why})"
    raise InputError(msg)


def _parse_rows(
    lines: list[str], *, sep: str, columns: pd.Index, dtype: type, path: Path
) -> tuple[list[str], np.ndarray]:
    """Split data lines into their ids and ``(n_lines, n_columns)`` values.

    The fast path is one :func:`numpy.loadtxt` call on the lines without
    their id. Only when it fails are empty and ``NA`` cells rewritten as
    ``nan`` and the block parsed again; only when that fails too is the
    offending row searched for in Python.
    """
    cuts = [line.find(sep) for line in lines]
    ids = [line[:cut].strip('"') for line, cut in zip(lines, cuts, strict=True)]
    data = [line[cut + 1 :] for line, cut in zip(lines, cuts, strict=True)]
    try:
        values = _loadtxt(data, sep=sep, dtype=dtype)
    except ValueError:
        missing = _missing_cells(sep)
        first, last = (sep, "\n"), (sep, sep + "\n")
        data = [
            missing.sub("nan", d)
            if "NA" in d or sep + sep in d or d.startswith(first) or d.endswith(last)
            else d
            for d in data
        ]
        try:
            values = _loadtxt(data, sep=sep, dtype=dtype)
        except ValueError as exc:
            why = str(exc).splitlines()[0]
            _locate_error(lines, ids, sep=sep, columns=columns, path=path, why=why)
    if values.shape[1] != len(columns):
        why = f"{values.shape[1]} values per row"
        _locate_error(lines, ids, sep=sep, columns=columns, path=path, why=why)
    return ids, values


def _read_matrix(
    path: Path,
    *,
    genes_in_rows: bool,
    header_cell: str | None,
    log2p1: bool,
    progress: Callable[[int], Any] | None,
) -> tuple[np.ndarray, pd.Index, pd.Index]:
    """Read a delimited matrix file; return ``(x, samples, genes)``.

    ``x`` is ``(n_samples, n_genes)`` float32, NaN where a cell is empty or
    ``NA``. Parsing runs in blocks of rows with :func:`numpy.loadtxt` (about
    three times faster than pandas on wide files); peak memory is the blocks
    plus the assembled matrix, twice the float32 matrix.
    """
    what = "expression matrix"
    with _open_text(path, what=what) as (text, raw):
        header = text.readline()
        if not header.strip():
            msg = f"{path}: empty {what}"
            raise InputError(msg)
        sep = _sniff_separator(header, path=path, what=what)
        names = next(csv.reader([header.rstrip("\n")], delimiter=sep))
        if header_cell is not None and names[0] != header_cell:
            msg = (
                f"{path}: the first header cell is {names[0]!r}, expected {header_cell!r}; "
                "is --format right?"
            )
            raise InputError(msg)
        columns = pd.Index(names[1:])
        if columns.empty:
            msg = f"{path}: the header has a single column; expected ids then data columns"
            raise InputError(msg)
        dtype = np.float64 if log2p1 else np.float32
        rows_per_block = max(1, BLOCK_ELEMENTS // len(columns))
        row_ids: list[str] = []
        blocks: list[np.ndarray] = []
        position = 0
        while batch := list(itertools.islice(text, rows_per_block)):
            lines = [line for line in batch if not line.isspace()]
            if not lines:
                continue
            ids, values = _parse_rows(lines, sep=sep, columns=columns, dtype=dtype, path=path)
            if log2p1:
                np.exp2(values, out=values)
                values -= 1.0
            blocks.append(values.astype(np.float32, copy=False))
            row_ids.extend(ids)
            if progress is not None:
                progress(raw.tell() - position)
                position = raw.tell()
    if not blocks:
        msg = f"{path}: the {what} has a header but no data rows"
        raise InputError(msg)
    rows = pd.Index(row_ids)
    row_what, column_what = ("gene id", "sample id") if genes_in_rows else ("sample id", "gene id")
    _check_unique(rows, what=row_what, where=str(path))
    _check_unique(columns, what=column_what, where=str(path))
    if genes_in_rows:
        x = np.concatenate([block.T for block in blocks], axis=1)
        return x, columns, rows
    return np.concatenate(blocks, axis=0), rows, columns


# --- labels ------------------------------------------------------------------


def _pick_label_key(
    table: pd.DataFrame, *, id_column: str, label_key: str | None, spec: _Spec, where: str
) -> str:
    if label_key is not None:
        if label_key not in table.columns:
            msg = (
                f"{where}: label key {label_key!r} is not a column "
                f"(columns: {_listed(list(table.columns))})"
            )
            raise InputError(msg)
        return label_key
    for key in spec.label_keys:
        if key in table.columns:
            return key
    others = [c for c in table.columns if c != id_column]
    if not spec.label_keys and len(others) == 1:
        return others[0]
    if not spec.label_keys and keys.LABEL in others:
        return keys.LABEL
    expected = f"{spec.label_keys[0]!r}" if spec.label_keys else "one label column"
    msg = (
        f"{where}: no label column; expected {expected}, found columns "
        f"{_listed(list(table.columns))} (give --label-key)"
    )
    raise InputError(msg)


def _table_labels(
    table: pd.DataFrame,
    samples: pd.Index,
    *,
    spec: _Spec,
    label_key: str | None,
    where: str,
) -> tuple[pd.Series, str]:
    """The label of each sample (NaN where the table has none) and the label key used."""
    id_column = spec.id_column or str(table.columns[0])
    if id_column not in table.columns:
        msg = (
            f"{where}: no sample id column {id_column!r} (columns: {_listed(list(table.columns))})"
        )
        raise InputError(msg)
    key = _pick_label_key(table, id_column=id_column, label_key=label_key, spec=spec, where=where)
    table = table[table[id_column].notna()]
    ids = pd.Index(table[id_column])
    _check_unique(ids, what=f"id in column {id_column!r}", where=where)
    lookup = pd.Series(table[key].to_numpy(), index=ids)
    wanted = _patients(samples, where=where) if spec.per_patient else samples
    return pd.Series(lookup.reindex(wanted).to_numpy(), index=samples), key


def _barcode_fields(samples: pd.Index, *, where: str) -> pd.Series:
    bad = ~samples.str.match(_BARCODE)
    if bad.any():
        msg = (
            f"{where}: sample {samples[bad][0]!r} is not a TCGA barcode "
            "(expected TCGA-XX-XXXX-01...)"
        )
        raise InputError(msg)
    return pd.Series(samples.str.split("-"), index=samples)


def _patients(samples: pd.Index, *, where: str) -> pd.Index:
    """Patient barcodes: the first three fields of each sample barcode."""
    return pd.Index(_barcode_fields(samples, where=where).str[:3].str.join("-"))


def _primary_tumour(samples: pd.Index, *, where: str) -> np.ndarray:
    """True where barcode field 4 starts with a primary-tumour code (01, 03)."""
    codes = _barcode_fields(samples, where=where).str[3].str[:2]
    return codes.isin(PRIMARY_TUMOUR_CODES).to_numpy()


# --- sources -----------------------------------------------------------------


def _read_text_source(
    path: Path,
    spec: _Spec,
    *,
    labels: Path,
    label_key: str | None,
    genes_in_rows: bool,
    progress: Callable[[int], Any] | None,
) -> _Source:
    x, samples, genes = _read_matrix(
        path,
        genes_in_rows=genes_in_rows,
        header_cell=spec.header,
        log2p1=spec.log2p1,
        progress=progress,
    )
    if spec.primary_only or spec.per_patient:
        _barcode_fields(samples, where=str(path))
    table = _read_table(labels, what="labels table")
    values, key = _table_labels(table, samples, spec=spec, label_key=label_key, where=str(labels))
    return _Source(x, samples, genes, values, key, spec.counts, [path.name, labels.name])


def _read_h5ad_source(
    path: Path,
    *,
    label_key: str | None,
    labels: Path | None,
    layer: str | None,
    use_raw: bool,
) -> _Source:
    adata = read_h5ad(path)
    where = str(path)
    var, varm = adata.var, dict(adata.varm)
    if layer is not None:
        if layer not in adata.layers:
            msg = f"{where}: no layer {layer!r} (layers: {_listed(list(adata.layers))})"
            raise InputError(msg)
        x = adata.layers[layer]
    elif use_raw:
        if adata.raw is None:
            msg = f"{where}: --use-raw, but the file has no raw"
            raise InputError(msg)
        x, var, varm = adata.raw.X, adata.raw.var, {}
    else:
        x = adata.X
    x = x.toarray() if sp.issparse(x) else np.asarray(x)
    if x.dtype.kind not in "fiub":
        msg = f"{where}: the matrix has dtype {x.dtype}, expected numbers"
        raise InputError(msg)
    genes = pd.Index(var.index.astype(str))
    _check_unique(genes, what="gene id", where=where)
    files = [path.name]
    if labels is not None:
        table = _read_table(labels, what="labels table")
        values, key = _table_labels(
            table, adata.obs_names, spec=_SPECS["table"], label_key=label_key, where=str(labels)
        )
        files.append(labels.name)
    else:
        key = label_key or keys.LABEL
        if key not in adata.obs:
            msg = (
                f"{where}: label key {key!r} is not an obs column "
                f"(obs: {_listed(list(adata.obs.columns))})"
            )
            raise InputError(msg)
        values = adata.obs[key]
    obs = adata.obs.drop(columns=[c for c in (keys.LABEL, keys.SPLIT) if c in adata.obs])
    return _Source(
        x.astype(np.float32, copy=False),
        adata.obs_names,
        genes,
        values,
        key,
        None,
        files,
        obs=obs,
        var=var.copy(),
        varm=varm,
        uns=copy.deepcopy(dict(adata.uns)),
    )


def _star_file(path: Path, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Gene ids and ``column`` values of one STAR-Counts file (``N_*`` rows included)."""
    what = "STAR-Counts file"
    with _open_text(path, what=what) as (text, _):
        header = text.readline()
        while header.startswith("#"):
            header = text.readline()
        fields = header.rstrip("\n").split("\t")
        for needed in ("gene_id", column):
            if needed not in fields:
                msg = f"{path}: no column {needed!r} in the {what} (columns: {_listed(fields)})"
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


def _read_star(
    folder: Path,
    *,
    sheet: Path,
    label_key: str | None,
    column: str,
    progress: Callable[[int], Any] | None,
) -> _Source:
    if not folder.is_dir():
        msg = (
            f"{folder}: --format star_counts expects a folder of per-sample STAR-Counts "
            "files, found " + ("a file" if folder.exists() else "nothing")
        )
        raise InputError(msg)
    table = _read_table(sheet, what="GDC sample sheet")
    for needed in ("File Name", "Sample ID"):
        if needed not in table.columns:
            msg = (
                f"{sheet}: no column {needed!r} in the GDC sample sheet "
                f"(columns: {_listed(list(table.columns))})"
            )
            raise InputError(msg)
    names = pd.Index(table["File Name"])
    _check_unique(names, what="'File Name'", where=str(sheet))
    samples = pd.Index(table["Sample ID"])
    _check_unique(samples, what="sample id ('Sample ID')", where=str(sheet))
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
            _check_unique(genes, what="gene id", where=str(found[name]))
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
        if progress is not None:
            progress(found[name].stat().st_size)
    values, key = _table_labels(
        table, samples, spec=_SPECS["star_counts"], label_key=label_key, where=str(sheet)
    )
    return _Source(
        x, samples, genes, values, key, column in STAR_COUNT_COLUMNS, [folder.name, sheet.name]
    )


# --- filtering -----------------------------------------------------------------


def _find(x: np.ndarray, test: Callable[[np.ndarray], np.ndarray]) -> tuple[int, int] | None:
    """The first ``(row, column)`` where ``test`` is true, scanning in row blocks."""
    for rows in row_blocks(x.shape[0], x.shape[1]):
        hit = test(x[rows])
        if hit.any():
            i, j = np.argwhere(hit)[0]
            return rows.start + int(i), int(j)
    return None


def _any_nan_per_gene(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``(n_genes,)`` bool: the gene has a NaN in one of ``rows`` (indices)."""
    found = np.zeros(x.shape[1], dtype=bool)
    for block in row_blocks(len(rows), x.shape[1]):
        found |= np.isnan(x[rows[block]]).any(axis=0)
    return found


def looks_like_counts(x: np.ndarray) -> bool:
    """True if every value of ``x`` (dense, ``(n_samples, n_genes)``) is a non-negative integer."""
    return _find(x, lambda b: (b < 0) | (b != np.rint(b))) is None


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


def _finish(
    source: _Source,
    spec: _Spec,
    *,
    keep_labels: Sequence[str] | None,
    drop_labels: Sequence[str] | None,
    filter_genes: bool,
    where: str,
    record: dict[str, Any],
) -> ad.AnnData:
    """Apply the filters in the paper's order, check the values, build the AnnData."""
    x, samples, genes, labels = source.x, source.samples, source.genes, source.labels
    _check_unique(samples, what="sample id", where=where)
    dropped: dict[str, int] = {}
    gene_keep = np.ones(len(genes), dtype=bool)
    row_keep = np.ones(len(samples), dtype=bool)
    if filter_genes:
        counters = genes.str.startswith(spec.counter_prefix)
        gene_keep &= ~counters
        dropped["genes_counters"] = int(counters.sum())
        positive = np.fmax.reduce(x, axis=0) > 0  # fmax ignores NaN; all-NaN stays NaN
        dropped["genes_max_le_0"] = int((gene_keep & ~positive).sum())
        gene_keep &= positive
    if spec.primary_only:
        row_keep &= _primary_tumour(samples, where=where)
        dropped["samples_not_primary"] = int((~row_keep).sum())
    if filter_genes:
        nan = _any_nan_per_gene(x, np.flatnonzero(row_keep))
        dropped["genes_nan"] = int((gene_keep & nan).sum())
        gene_keep &= ~nan
    labelled = labels.notna().to_numpy()
    if not labelled.any():
        msg = (
            f"{where}: labels do not match the samples: none of its {len(samples)} samples "
            f"(e.g. {samples[0]!r}) has a label in {source.files[-1]}"
        )
        raise InputError(msg)
    unlabelled = row_keep & ~labelled
    if unlabelled.any():
        if not spec.drop_unlabelled:
            msg = (
                f"{where}: sample {samples[unlabelled][0]!r} has no label "
                f"({int(unlabelled.sum())} unlabelled in {source.files[-1]}, "
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
    if len(rows) < len(samples) or len(cols) < len(genes):
        x = x[np.ix_(rows, cols)]
    samples, genes, labels = samples[rows], genes[cols], labels.iloc[rows]
    classes = _classes(labels)
    if len(classes) < 2:
        msg = (
            f"{where}: only one class ({classes[0]!r}, key {source.label_key!r}) after "
            "filtering; expected at least 2"
        )
        raise InputError(msg)
    _check_values(x, samples, genes, where=where, counts=bool(source.has_counts))
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


def _check_values(
    x: np.ndarray,
    samples: pd.Index,
    genes: pd.Index,
    *,
    where: str,
    counts: bool,
) -> None:
    """Refuse NaN, infinite values, and negative counts."""
    checks: list[tuple[Callable[[np.ndarray], np.ndarray], str]] = [
        (np.isinf, "an infinite value"),
        (np.isnan, "a missing value (NaN/NA/empty)"),
    ]
    if counts:
        checks.append((lambda b: b < 0, "a negative value where counts are expected"))
    for test, what in checks:
        hit = _find(x, test)
        if hit is not None:
            i, j = hit
            msg = f"{where}: {what} at sample {samples[i]!r}, gene {genes[j]!r} ({x[i, j]})"
            raise InputError(msg)
