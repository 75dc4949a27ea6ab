"""Delimited text: separator sniffing, small tables and large numeric matrices.

The separator (tab or comma) is read from the header line. Missing cells
and ``NA`` read as NaN.
"""

from __future__ import annotations

import csv
import io as _stdio
import itertools
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from ..errors import InputError
from ._compression import open_text
from ._matrix import BLOCK_ELEMENTS

#: Column names listed in an error message, at most.
_MAX_LISTED = 12


def listed(names: Sequence[str]) -> str:
    """The first names, quoted, for an error message (``'a', 'b', ...``)."""
    shown = ", ".join(repr(str(n)) for n in names[:_MAX_LISTED])
    return shown + (", ..." if len(names) > _MAX_LISTED else "")


def check_unique(index: pd.Index, *, what: str, where: str) -> None:
    """Refuse an index with a duplicate, naming the first one."""
    if not index.is_unique:
        msg = f"{where}: duplicate {what} {index[index.duplicated()][0]!r}"
        raise InputError(msg)


def sniff_separator(header: str, *, path: Path, what: str) -> str:
    """Tab if the header line holds one, else comma; neither is an error."""
    for sep in ("\t", ","):
        if sep in header:
            return sep
    msg = f"{path}: the header of the {what} has no tab or comma (not a TSV/CSV table)"
    raise InputError(msg)


def read_table(path: Path, *, what: str) -> pd.DataFrame:
    """A small text table (labels, phenotypes, sample sheet), every cell a string.

    ``what`` names the table in the messages.
    """
    with open_text(path, what=what) as (text, _):
        content = text.read()
    header = content.split("\n", 1)[0]
    if not header.strip():
        msg = f"{path}: empty {what}"
        raise InputError(msg)
    sep = sniff_separator(header, path=path, what=what)
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


def read_matrix(
    path: Path,
    *,
    genes_in_rows: bool,
    header_cell: str | None,
    log2p1: bool,
    progress: Callable[[int], Any] | None = None,
    max_elements: int = BLOCK_ELEMENTS,
) -> tuple[np.ndarray, pd.Index, pd.Index]:
    """Read a delimited matrix file: ids in the first column and the header.

    Parsing runs in blocks of rows with :func:`numpy.loadtxt` (about three
    times faster than pandas on wide files); peak memory is the blocks plus
    the assembled matrix, twice the float32 matrix.

    Parameters
    ----------
    path
        The file, possibly compressed.
    genes_in_rows
        The file is genes × samples (else samples × genes).
    header_cell
        The expected first cell of the header; ``None``: anything.
    log2p1
        The values are log2(x+1): return ``2**v - 1``, computed in float64.
    progress
        Called with the number of bytes read from disk, once per block.
    max_elements
        Cells per parsing block; bounds the temporaries to tens of MiB.

    Returns
    -------
    ``(x, samples, genes)``: ``x`` is ``(n_samples, n_genes)`` float32, NaN
    where a cell is empty or ``NA``; the ids are string indices.
    """
    what = "expression matrix"
    with open_text(path, what=what) as (text, raw):
        header = text.readline()
        if not header.strip():
            msg = f"{path}: empty {what}"
            raise InputError(msg)
        sep = sniff_separator(header, path=path, what=what)
        names = next(csv.reader([header.rstrip("\n")], delimiter=sep))
        if header_cell is not None and names[0] != header_cell:
            msg = (
                f"{path}: the first header cell is {names[0]!r}, expected {header_cell!r}; "
                "is the format right?"
            )
            raise InputError(msg)
        columns = pd.Index(names[1:])
        if columns.empty:
            msg = f"{path}: the header has a single column; expected ids then data columns"
            raise InputError(msg)
        dtype = np.float64 if log2p1 else np.float32
        rows_per_block = max(1, max_elements // len(columns))
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
    check_unique(rows, what=row_what, where=str(path))
    check_unique(columns, what=column_what, where=str(path))
    if genes_in_rows:
        x = np.concatenate([block.T for block in blocks], axis=1)
        return x, columns, rows
    return np.concatenate(blocks, axis=0), rows, columns
