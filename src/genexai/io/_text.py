"""Delimited text: separator sniffing, small tables and large numeric matrices.

Files follow the CSV quoting rules (RFC 4180, read as :mod:`csv` and pandas
read them): a field may be enclosed in double quotes, and then holds the
separator, line breaks and doubled quotes (``""``) as plain text; a quote
inside an unquoted field is plain text. The separator (tab or comma) is read from the header
line, outside quoted fields. Every row must have as many fields as the
header (an error names the file and the row otherwise); blank lines are
skipped. In a matrix, empty and ``NA`` cells read as NaN; in a small table,
pandas' default missing-value strings (:data:`NA_STRINGS`) do.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from ..errors import InputError
from ._compression import open_text
from ._matrix import BLOCK_ELEMENTS

#: Column names listed in an error message, at most.
_MAX_LISTED = 12
#: Lines one record may span (a quoted field holding line breaks), at most:
#: an unbalanced quote is reported at its line instead of swallowing the file.
MAX_RECORD_LINES = 1000
#: Cells of a small table (:func:`read_table`) that read as missing: pandas'
#: defaults, as before the tables were parsed here.
NA_STRINGS = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)
#: A quoted field (for sniffing the separator outside quotes).
_QUOTED = re.compile(r'"(?:[^"]|"")*"')
#: A record whose first field is quoted: the field's text in group 1.
_QUOTED_ID = re.compile(r'"((?:[^"]|"")*)"')


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
    """Tab if the header line holds one outside quotes, else comma; neither is an error."""
    bare = _QUOTED.sub("", header)
    for sep in ("\t", ","):
        if sep in bare:
            return sep
    msg = f"{path}: the header of the {what} has no tab or comma (not a TSV/CSV table)"
    raise InputError(msg)


def _open_field(sep: str) -> re.Pattern[str]:
    """Matches a record that ends inside a quoted field: complete fields, each
    followed by ``sep``, then an opening quote that is not closed. A quote
    opens a field only as its first character (elsewhere it is text, as for
    :mod:`csv` and pandas)."""
    s = re.escape(sep)
    field = rf'(?:"(?:[^"]|"")*"|[^"{s}\n][^{s}\n]*|)'
    return re.compile(rf'(?:{field}{s})*"(?:[^"]|"")*\Z')


_OPEN_FIELD = {sep: _open_field(sep) for sep in ("\t", ",")}


def records(
    text: Iterator[str], *, path: Path, sep: str | None = None
) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of each non-blank record of ``text``.

    A record is one line, or several while a quoted field is open: a line
    break inside quotes belongs to the field. ``sep``: the separator (default:
    sniffed from the first line).
    """
    number = 0
    for line in text:
        number += 1
        first = number
        if sep is None:
            sep = "\t" if "\t" in _QUOTED.sub("", line) else ","
        # An even number of quotes leaves a field open only where a quote inside an
        # unquoted field came first; fields() then reports the record's bad quoting.
        if '"' in line and line.count('"') % 2:
            open_field = _OPEN_FIELD[sep]
            while open_field.match(line.rstrip("\n")):
                more = next(text, None)
                if more is None or number - first >= MAX_RECORD_LINES:
                    _unclosed(path, first)
                number += 1
                line += more
        if line and not line.isspace():
            yield first, line


def _unclosed(path: Path, line: int) -> NoReturn:
    msg = (
        f"{path}: line {line}: a quoted field is not closed "
        f"(unbalanced '\"' within {MAX_RECORD_LINES} lines)"
    )
    raise InputError(msg)


def fields(record: str, *, sep: str, path: Path, line: int) -> list[str]:
    """The fields of one record, unquoted by the CSV rules."""
    if '"' not in record:
        return record.rstrip("\r\n").split(sep)
    try:
        return next(csv.reader([record], delimiter=sep, strict=True))
    except (csv.Error, StopIteration):
        msg = (
            f"{path}: line {line}: badly quoted field (a quoted field ends at a "
            "separator or the line's end, and a quote inside it is doubled)"
        )
        raise InputError(msg) from None


def read_table(path: Path, *, what: str) -> pd.DataFrame:
    """A small text table (labels, phenotypes, sample sheet), every cell a string.

    ``what`` names the table in the messages. Cells in :data:`NA_STRINGS`
    are NaN; an empty header cell is named ``Unnamed: <i>`` (as pandas
    does); the index holds each row's line number in the file.

    Raises
    ------
    InputError
        The file cannot be read or is empty, has no tab or comma in its
        header, a duplicate column name, a badly quoted field, or a row
        whose number of fields differs from the header's.
    """
    with open_text(path, what=what) as (text, _):
        found = list(records(text, path=path))
    if not found:
        msg = f"{path}: empty {what}"
        raise InputError(msg)
    (first, header), rows = found[0], found[1:]
    sep = sniff_separator(header, path=path, what=what)
    names = [
        name or f"Unnamed: {i}"
        for i, name in enumerate(fields(header, sep=sep, path=path, line=first))
    ]
    check_unique(pd.Index(names), what="column name", where=str(path))
    cells, lines = [], []
    for line, record in rows:
        row = fields(record, sep=sep, path=path, line=line)
        if len(row) != len(names):
            msg = f"{path}: line {line} has {len(row)} fields, the header has {len(names)}"
            raise InputError(msg)
        cells.append(row)
        lines.append(line)
    table = pd.DataFrame(
        cells or None, columns=names, index=pd.Index(lines, name="line"), dtype=object
    )
    return table.where(~table.isin(NA_STRINGS))


def _missing_cells(sep: str) -> re.Pattern[str]:
    """Empty or ``NA`` fields of a data line (the line without its id field)."""
    s = re.escape(sep)
    return re.compile(rf"(?:(?<={s})|^)(?:NA)?(?={s}|\n|$)")


def _loadtxt(data: list[str], *, sep: str, dtype: type) -> np.ndarray:
    return np.loadtxt(data, delimiter=sep, dtype=dtype, comments=None, ndmin=2)


def _split_id(record: str, *, sep: str, path: Path, line: int) -> tuple[str, str | None]:
    """``(id, the rest)`` of a data record: its first field, unquoted, and
    the other fields as unquoted text joined by ``sep`` (``None``: no other field)."""
    if '"' not in record:
        cut = record.find(sep)
        if cut >= 0:
            return record[:cut], record[cut + 1 :]
        return record.rstrip("\r\n"), None
    quoted = _QUOTED_ID.match(record)
    if quoted and record.startswith(sep, quoted.end()) and '"' not in record[quoted.end() :]:
        return quoted.group(1).replace('""', '"'), record[quoted.end() + 1 :]
    row = fields(record, sep=sep, path=path, line=line)
    # A field holding the separator is split here: the row then has too many
    # values and is parsed again, exactly, by _exact_rows.
    return row[0], sep.join(row[1:]) if len(row) > 1 else None


def _exact_rows(
    batch: list[tuple[int, str]], *, sep: str, columns: pd.Index, dtype: type, path: Path
) -> np.ndarray:
    """The values of ``batch``, one cell at a time; the first bad row or cell
    is an error (slow: only after the fast parse failed)."""
    expected = len(columns) + 1
    values = np.empty((len(batch), len(columns)), dtype=dtype)
    for i, (line, record) in enumerate(batch):
        row = fields(record, sep=sep, path=path, line=line)
        if len(row) != expected:
            msg = (
                f"{path}: row {row[0]!r} has {len(row)} fields, the header has {expected} "
                f"(line {line})"
            )
            raise InputError(msg)
        for j, (value, column) in enumerate(zip(row[1:], columns, strict=True)):
            if value in ("", "NA"):
                values[i, j] = np.nan
                continue
            try:
                values[i, j] = float(value)
            except ValueError:
                msg = (
                    f"{path}: non-numeric value {value!r} at row {row[0]!r}, "
                    f"column {column!r}; expected numbers"
                )
                raise InputError(msg) from None
    return values


def _fast_rows(data: list[str], *, sep: str, dtype: type) -> np.ndarray | None:
    """:func:`numpy.loadtxt` on the records without their id, then with empty
    and ``NA`` cells rewritten as ``nan``; ``None`` when both fail."""
    try:
        return _loadtxt(data, sep=sep, dtype=dtype)
    except ValueError:
        pass
    missing = _missing_cells(sep)
    first, last = (sep, "\n"), (sep, sep + "\n")
    data = [
        missing.sub("nan", d)
        if "NA" in d or sep + sep in d or d.startswith(first) or d.endswith(last)
        else d
        for d in data
    ]
    try:
        return _loadtxt(data, sep=sep, dtype=dtype)
    except ValueError:
        return None


def _parse_rows(
    batch: list[tuple[int, str]], *, sep: str, columns: pd.Index, dtype: type, path: Path
) -> tuple[list[str], np.ndarray]:
    """Split records into their ids and ``(n_records, n_columns)`` values.

    The fast path is one :func:`numpy.loadtxt` call on the records without
    their id. Only when it fails are empty and ``NA`` cells rewritten as
    ``nan`` and the block parsed again; only when that fails too, or gives
    the wrong shape, is the block parsed cell by cell, which either gives
    the values or names the offending row and cell.
    """
    split = [_split_id(record, sep=sep, path=path, line=line) for line, record in batch]
    ids = [row_id for row_id, _ in split]
    data = [rest for _, rest in split]
    values = None
    if None not in data:
        values = _fast_rows(data, sep=sep, dtype=dtype)
    if values is None or values.shape != (len(batch), len(columns)):
        values = _exact_rows(batch, sep=sep, columns=columns, dtype=dtype, path=path)
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
    the assembled matrix, twice the float32 matrix. Quoted fields follow the
    CSV rules (module docstring).

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

    Raises
    ------
    InputError
        The file cannot be read or decoded, is empty, has a wrong first
        header cell, a single column, no data rows, an empty or duplicate
        id, a badly quoted field, a row whose number of fields differs from
        the header's, or a non-numeric cell.
    """
    what = "expression matrix"
    row_what, column_what = ("gene id", "sample id") if genes_in_rows else ("sample id", "gene id")
    with open_text(path, what=what) as (text, raw):
        rows = records(text, path=path)
        first = next(rows, None)
        if first is None:
            msg = f"{path}: empty {what}"
            raise InputError(msg)
        sep = sniff_separator(first[1], path=path, what=what)
        names = fields(first[1], sep=sep, path=path, line=first[0])
        if header_cell is not None and names[0] != header_cell:
            msg = (
                f"{path}: the first header cell is {names[0]!r}, expected {header_cell!r}; "
                "is the format right?"
            )
            raise InputError(msg)
        if names[0] == "id" and "input" in names:
            # The pipeline's rule for a samplesheet (utils_genexai isSamplesheet):
            # neither kind of file is ever read as the other.
            msg = (
                f"{path}: this is a samplesheet (its header starts with id and holds input), "
                "not an expression matrix; give it with input_format samplesheet"
            )
            raise InputError(msg)
        columns = pd.Index(names[1:])
        if columns.empty:
            msg = f"{path}: the header has a single column; expected ids then data columns"
            raise InputError(msg)
        if "" in names[1:]:
            column = names.index("", 1) + 1
            msg = f"{path}: header column {column} is empty; expected a {column_what}"
            raise InputError(msg)
        dtype = np.float64 if log2p1 else np.float32
        rows_per_block = max(1, max_elements // len(columns))
        row_ids: list[str] = []
        blocks: list[np.ndarray] = []
        position = 0
        while batch := list(itertools.islice(rows, rows_per_block)):
            ids, values = _parse_rows(batch, sep=sep, columns=columns, dtype=dtype, path=path)
            if "" in ids:
                msg = f"{path}: line {batch[ids.index('')][0]}: empty {row_what}"
                raise InputError(msg)
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
    index = pd.Index(row_ids)
    check_unique(index, what=row_what, where=str(path))
    check_unique(columns, what=column_what, where=str(path))
    if genes_in_rows:
        x = np.concatenate([block.T for block in blocks], axis=1)
        return x, columns, index
    return np.concatenate(blocks, axis=0), index, columns
