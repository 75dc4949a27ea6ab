"""Label tables: which column holds the labels, and each sample's label."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .. import keys
from ..errors import InputError
from ._tcga import patients
from ._text import check_unique, listed


def _pick_label_key(
    table: pd.DataFrame,
    *,
    id_column: str,
    label_key: str | None,
    label_keys: Sequence[str],
    where: str,
) -> str:
    """``label_key`` if given, else the first of ``label_keys`` present; with
    no ``label_keys``, the only column besides the ids, else ``"label"``."""
    if label_key is not None:
        if label_key not in table.columns:
            msg = (
                f"{where}: label key {label_key!r} is not a column "
                f"(columns: {listed(list(table.columns))})"
            )
            raise InputError(msg)
        return label_key
    for key in label_keys:
        if key in table.columns:
            return key
    others = [c for c in table.columns if c != id_column]
    if not label_keys and len(others) == 1:
        return others[0]
    if not label_keys and keys.LABEL in others:
        return keys.LABEL
    expected = f"{label_keys[0]!r}" if label_keys else "one label column"
    msg = (
        f"{where}: no label column; expected {expected}, found columns "
        f"{listed(list(table.columns))} (give label_key)"
    )
    raise InputError(msg)


def table_labels(
    table: pd.DataFrame,
    samples: pd.Index,
    *,
    label_key: str | None,
    where: str,
    id_column: str | None = None,
    label_keys: Sequence[str] = (),
    per_patient: bool = False,
) -> tuple[pd.Series, str]:
    """The label of each sample, looked up by id in a labels table.

    Parameters
    ----------
    table
        The labels table, every cell a string (:func:`._text.read_table`),
        indexed by line number (for the messages).
    samples
        ``(n_samples,)`` sample ids.
    label_key
        The label column; ``None``: the first of ``label_keys`` present.
    where
        The table's file, for the messages.
    id_column
        The column of sample (or patient) ids; ``None``: the first column.
    label_keys
        The format's default label columns; empty for a plain labels table
        (then the only other column, else ``"label"``).
    per_patient
        The table is per patient: look up each sample's TCGA patient barcode.

    Returns
    -------
    ``(labels, key)``: a Series indexed by ``samples``, NaN where the table
    has no label, and the label column used.

    Raises
    ------
    InputError
        No id column, no label column, an empty label column, a row with
        cells but no id, a duplicate id, or (``per_patient``) a sample id
        that is not a TCGA barcode.
    """
    id_column = id_column or str(table.columns[0])
    if id_column not in table.columns:
        msg = f"{where}: no sample id column {id_column!r} (columns: {listed(list(table.columns))})"
        raise InputError(msg)
    key = _pick_label_key(
        table, id_column=id_column, label_key=label_key, label_keys=label_keys, where=where
    )
    if table[key].isna().all():
        msg = f"{where}: label column {key!r} is empty (every cell is empty or NA)"
        raise InputError(msg)
    no_id = table[id_column].isna()
    if no_id.any():
        rows = table[no_id]
        named = rows.notna().any(axis=1)
        if named.any():
            msg = f"{where}: line {rows.index[named][0]}: no id in column {id_column!r}"
            raise InputError(msg)
        table = table[~no_id]  # rows of empty cells only (a spreadsheet's trailing rows)
    ids = pd.Index(table[id_column])
    check_unique(ids, what=f"id in column {id_column!r}", where=where)
    lookup = pd.Series(table[key].to_numpy(), index=ids)
    wanted = patients(samples, where=where) if per_patient else samples
    return pd.Series(lookup.reindex(wanted).to_numpy(), index=samples), key
