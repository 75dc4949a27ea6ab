"""Read the files of every run from one flat folder into tidy tables.

File names follow ``<dataset>.<model>.<seed>[.<anything>].<kind>``; only the
part before the first ``'.'`` (the dataset) is needed for tables that carry
no ``dataset`` column, and model and seed are read from the name only where
the file itself does not hold them (attributions, train JSON).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
from anndata.io import read_elem

from .. import keys
from ..errors import InputError

logger = logging.getLogger(__name__)

METRICS_SUFFIX = ".metrics.tsv"
CURVES_SUFFIX = ".curves.tsv"
TOP_GENES_SUFFIX = ".top_genes.tsv"
STABILITY_SUFFIX = ".stability.tsv"
TRAIN_SUFFIX = ".train.json"
ATTRIBUTIONS_SUFFIX = ".attributions.h5ad"
PREPARED_SUFFIX = ".prepared.h5ad"

#: Columns of :attr:`Results.completeness`.
COMPLETENESS_COLUMNS = ("dataset", "model", "seed", "method", "delta", "n_steps")
#: Columns of :attr:`Results.datasets`.
DATASET_COLUMNS = ("dataset", "n_samples", "n_genes", "n_classes", "n_train", "n_test", "simulated")
#: Columns of :attr:`Results.class_counts`.
CLASS_COUNT_COLUMNS = ("dataset", "class", "split", "n_samples")


@dataclass(frozen=True)
class Results:
    """Every result of a pipeline run, as tidy tables (one row per observation).

    Attributes
    ----------
    metrics
        :data:`genexai.keys.METRIC_COLUMNS`; ``value`` float64 (percentages in
        [0, 100]). Holds the EVALUATE rows and, with ``method == "none"``, the
        train and balanced test accuracy of every trained model.
    curves
        :data:`genexai.keys.CURVE_COLUMNS`; ``n_genes`` int64, ``value`` and
        ``std`` float64 (``std`` NaN where the curve has none).
    top_genes
        :data:`genexai.keys.TOP_GENES_COLUMNS` plus ``informative`` (nullable
        boolean: NA where the true informative genes are unknown).
    stability
        :data:`genexai.keys.STABILITY_COLUMNS`; ``value`` float64.
    completeness
        :data:`COMPLETENESS_COLUMNS`, one row per explained example: ``delta``
        float64, ``|sum(a) - (F(x) - F(b))|`` in probability units;
        ``n_steps`` float64, the IG steps used (NaN where not recorded).
    datasets
        :data:`DATASET_COLUMNS`, one row per prepared dataset.
    class_counts
        :data:`CLASS_COUNT_COLUMNS`: samples per dataset, class and split.
    """

    metrics: pd.DataFrame
    curves: pd.DataFrame
    top_genes: pd.DataFrame
    stability: pd.DataFrame
    completeness: pd.DataFrame
    datasets: pd.DataFrame
    class_counts: pd.DataFrame


def collect_results(results_dir: str | Path) -> Results:
    """Read every result file in ``results_dir`` (flat, not recursive).

    Files are found by suffix: ``*.metrics.tsv``, ``*.curves.tsv``,
    ``*.top_genes.tsv``, ``*.stability.tsv``, ``*.train.json``,
    ``*.attributions.h5ad`` (only ``obs`` is read) and ``*.prepared.h5ad``
    (only ``obs``, ``var`` and ``varm['informative']``). Any kind may be
    absent; the report says so in its section.

    Raises
    ------
    InputError
        If the folder holds none of these files, or a file is malformed (the
        message names it).
    """
    folder = Path(results_dir)
    if not folder.is_dir():
        msg = f"{folder}: results folder does not exist"
        raise InputError(msg)

    entries = sorted(p for p in folder.iterdir() if p.is_file())
    found = {
        suffix: [p for p in entries if p.name.endswith(suffix)]
        for suffix in (
            METRICS_SUFFIX,
            CURVES_SUFFIX,
            TOP_GENES_SUFFIX,
            STABILITY_SUFFIX,
            TRAIN_SUFFIX,
            ATTRIBUTIONS_SUFFIX,
            PREPARED_SUFFIX,
        )
    }
    if not any(found.values()):
        msg = f"{folder}: no result files (expected *{', *'.join(found)})"
        raise InputError(msg)
    logger.info("%s: %s", folder, ", ".join(f"{len(p)} *{s}" for s, p in found.items()))

    metrics = _read_tables(
        found[METRICS_SUFFIX], keys.METRIC_COLUMNS, integers=("seed",), floats=("value",)
    )
    accuracy = _concat([_read_train_json(p) for p in found[TRAIN_SUFFIX]], keys.METRIC_COLUMNS)
    prepared = [_read_prepared(p) for p in found[PREPARED_SUFFIX]]
    top_genes = _read_tables(
        found[TOP_GENES_SUFFIX],
        keys.TOP_GENES_COLUMNS,
        integers=("seed", "rank"),
        floats=("score",),
        optional=(keys.INFORMATIVE,),
    )
    informative = {name: genes for name, _, _, genes in prepared if genes is not None}
    return Results(
        metrics=_sorted(_concat([accuracy, metrics], keys.METRIC_COLUMNS)),
        curves=_read_tables(
            found[CURVES_SUFFIX],
            keys.CURVE_COLUMNS,
            integers=("seed", "n_genes"),
            floats=("value", "std"),
        ),
        top_genes=_mark_informative(top_genes, informative),
        stability=_read_tables(
            found[STABILITY_SUFFIX],
            keys.STABILITY_COLUMNS,
            integers=("seed_a", "seed_b"),
            floats=("value",),
        ),
        completeness=_concat(
            [_read_completeness(p) for p in found[ATTRIBUTIONS_SUFFIX]], COMPLETENESS_COLUMNS
        ),
        datasets=_concat([row for _, row, _, _ in prepared], DATASET_COLUMNS),
        class_counts=_concat([counts for _, _, counts, _ in prepared], CLASS_COUNT_COLUMNS),
    )


def read_params(path: str | Path) -> dict:
    """The run's parameters from a JSON object (Nextflow ``params``)."""
    path = Path(path)
    try:
        params = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path}: not a readable JSON file ({exc.__class__.__name__})"
        raise InputError(msg) from None
    if not isinstance(params, dict):
        msg = f"{path}: expected a JSON object of parameters, found {type(params).__name__}"
        raise InputError(msg)
    return params


def _concat(frames: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=list(columns))
    return pd.concat(frames, ignore_index=True)


def _sorted(table: pd.DataFrame) -> pd.DataFrame:
    by = ["dataset", "model", "seed", "method", "metric", "variant"]
    return table.sort_values(by, kind="stable", ignore_index=True)


def _name_parts(path: Path, suffix: str) -> list[str]:
    return path.name[: -len(suffix)].split(".")


def _read_tables(
    paths: list[Path],
    columns: tuple[str, ...],
    *,
    integers: tuple[str, ...],
    floats: tuple[str, ...],
    optional: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Concatenate tab-separated tables after checking columns and types.

    A missing ``dataset`` column is filled from the file name; other
    columns than ``columns`` and ``optional`` are dropped.
    """
    wanted = columns + optional
    frames = []
    for path in paths:
        try:
            table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
        except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            msg = f"{path}: not a tab-separated table ({exc.__class__.__name__})"
            raise InputError(msg) from None
        if "dataset" not in table:
            table.insert(0, "dataset", path.name.split(".")[0])
        missing = [c for c in columns if c not in table]
        if missing:
            msg = (
                f"{path}: missing column(s) {missing}; "
                f"expected {list(columns)}, found {list(table.columns)}"
            )
            raise InputError(msg)
        table = table[[c for c in wanted if c in table]].copy()
        for column in integers:
            table[column] = _to_numbers(table[column], path=path, integer=True)
        for column in floats:
            table[column] = _to_numbers(table[column], path=path, integer=False)
        if keys.INFORMATIVE in table:
            table[keys.INFORMATIVE] = _to_booleans(table[keys.INFORMATIVE], path=path)
        frames.append(table)
    return _concat(frames, wanted)


def _to_numbers(text: pd.Series, *, path: Path, integer: bool) -> pd.Series:
    """Parse a text column; empty cells become NaN, except in integer columns."""
    values = pd.to_numeric(text.str.strip().replace("", "nan"), errors="coerce")
    bad = values.isna() & ~text.str.strip().str.lower().isin(["", "nan", "na"])
    if integer:
        bad |= values.isna() | (values % 1 != 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        kind = "an integer" if integer else "a number"
        where = f"{path}: column {text.name!r}, row {row + 1}"
        msg = f"{where}: expected {kind}, found {text.iloc[row]!r}"
        raise InputError(msg)
    return values.astype(np.int64) if integer else values.astype(np.float64)


def _to_booleans(text: pd.Series, *, path: Path) -> pd.Series:
    lowered = text.str.strip().str.lower()
    values = lowered.map({"true": True, "1": True, "false": False, "0": False, "": pd.NA})
    if values.isna().sum() != (lowered == "").sum():
        row = int(np.flatnonzero((values.isna() & (lowered != "")).to_numpy())[0])
        where = f"{path}: column {text.name!r}, row {row + 1}"
        msg = f"{where}: expected True/False, found {text.iloc[row]!r}"
        raise InputError(msg)
    return values.astype("boolean")


def _read_train_json(path: Path) -> pd.DataFrame:
    """Two accuracy rows (``method == "none"``) from a TRAIN metrics JSON."""
    try:
        record = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path}: not valid JSON ({exc.__class__.__name__})"
        raise InputError(msg) from None
    if not isinstance(record, dict):
        msg = f"{path}: expected a JSON object, found {type(record).__name__}"
        raise InputError(msg)
    parts = _name_parts(path, TRAIN_SUFFIX)
    dataset = record.get("dataset") or parts[0]
    model = record.get("model") or (parts[1] if len(parts) > 1 else None)
    seed = record.get("seed", parts[2] if len(parts) > 2 else None)
    try:
        seed = int(seed)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        msg = f"{path}: 'seed' must be an integer (in the JSON or the file name), found {seed!r}"
        raise InputError(msg) from None
    if not model:
        msg = f"{path}: no 'model' in the JSON and no <dataset>.<model>.<seed> file name"
        raise InputError(msg)
    rows = []
    for field in (keys.TRAIN_ACCURACY, keys.BALANCED_ACCURACY):
        value = record.get(field)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            msg = f"{path}: field {field!r} must be a number (percent), found {value!r}"
            raise InputError(msg)
        rows.append((str(dataset), str(model), seed, "none", field, "", float(value)))
    return pd.DataFrame(rows, columns=list(keys.METRIC_COLUMNS))


def _read_h5_elements(path: Path, names: tuple[str, ...]) -> dict[str, object]:
    """Read some top-level AnnData elements without touching ``X``."""
    try:
        with h5py.File(path, "r") as f:
            return {name: read_elem(f[name]) for name in names if name in f}
    except (OSError, KeyError, ValueError) as exc:
        msg = f"{path}: cannot be read as .h5ad ({exc.__class__.__name__}: {exc})"
        raise InputError(msg.splitlines()[0]) from None


def _read_completeness(path: Path) -> pd.DataFrame:
    """The completeness delta of every explained example of one attributions file."""
    parts = _name_parts(path, ATTRIBUTIONS_SUFFIX)
    if len(parts) < 3 or not parts[2].lstrip("-").isdigit():
        msg = f"{path}: expected a name <dataset>.<model>.<seed>[.<method>]{ATTRIBUTIONS_SUFFIX}"
        raise InputError(msg)
    elements = _read_h5_elements(path, ("obs", "uns"))
    obs = elements.get("obs")
    if not isinstance(obs, pd.DataFrame) or keys.DELTA not in obs:
        msg = f"{path}: obs[{keys.DELTA!r}] is missing"
        raise InputError(msg)
    n_steps = obs[keys.N_STEPS] if keys.N_STEPS in obs else np.nan
    # The method ATTRIBUTE recorded, else the optional fourth part of the name.
    uns = elements.get("uns")
    recorded = uns.get(keys.UNS, {}).get(keys.ATTRIBUTE, {}) if isinstance(uns, dict) else {}
    method = str(recorded.get(keys.METHOD, ".".join(parts[3:])))
    return pd.DataFrame(
        {
            "dataset": parts[0],
            "model": parts[1],
            "seed": int(parts[2]),
            "method": method,
            "delta": obs[keys.DELTA].to_numpy(np.float64),
            "n_steps": np.asarray(n_steps, dtype=np.float64),
        }
    )


def _read_prepared(path: Path) -> tuple[str, pd.DataFrame, pd.DataFrame, pd.Index | None]:
    """Dataset name, overview row, class counts and true informative genes (or None)."""
    dataset = path.name.split(".")[0]
    elements = _read_h5_elements(path, ("obs", "var", "varm"))
    obs, var = elements.get("obs"), elements.get("var")
    if not isinstance(obs, pd.DataFrame) or not isinstance(var, pd.DataFrame):
        msg = f"{path}: not an AnnData file (no obs/var tables)"
        raise InputError(msg)
    for key in (keys.LABEL, keys.SPLIT):
        if key not in obs:
            msg = f"{path}: obs[{key!r}] is missing"
            raise InputError(msg)
    informative = elements.get("varm", {}).get(keys.INFORMATIVE)  # type: ignore[union-attr]
    genes = None
    if informative is not None:
        mask = np.asarray(informative, dtype=bool).reshape(len(var), -1).any(axis=1)
        genes = var.index[mask]
    split = obs[keys.SPLIT].astype(str)
    counts = (
        pd.DataFrame({"class": obs[keys.LABEL], "split": split})
        .groupby(["class", "split"], observed=True)
        .size()
        .rename("n_samples")
        .reset_index()
    )
    counts.insert(0, "dataset", dataset)
    counts["class"] = counts["class"].astype(str)
    overview = pd.DataFrame(
        [
            {
                "dataset": dataset,
                "n_samples": len(obs),
                "n_genes": len(var),
                "n_classes": obs[keys.LABEL].nunique(),
                "n_train": int((split == keys.TRAIN).sum()),
                "n_test": int((split == keys.TEST).sum()),
                "simulated": genes is not None,
            }
        ]
    )
    return dataset, overview, counts, genes


def _mark_informative(top_genes: pd.DataFrame, informative: dict[str, pd.Index]) -> pd.DataFrame:
    """Fill ``informative`` from the prepared files where EVALUATE did not write it.

    The prepared file knows each generated class's informative genes, not
    how EVALUATE mapped classes onto them, so the fallback marks a gene that is
    informative for any class.
    """
    if keys.INFORMATIVE in top_genes:
        flags = top_genes[keys.INFORMATIVE].astype("boolean")
    else:
        flags = pd.Series(pd.NA, index=top_genes.index, dtype="boolean")
    for dataset, genes in informative.items():
        rows = flags.isna() & (top_genes["dataset"] == dataset)
        flags[rows] = top_genes.loc[rows, "gene"].isin(genes)
    return top_genes.assign(**{keys.INFORMATIVE: flags})
