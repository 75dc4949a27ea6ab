"""Read the tables of every run from one flat folder into tidy tables.

Files are found by their suffix; what they hold (dataset, model, seed,
method) is read from their columns (or, for TRAIN's JSON, its fields),
never from their names. REPORT reads no ``.h5ad``: EVALUATE, STABILITY and
PREPARE write what it shows as tables.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import keys
from ..errors import InputError
from ..io._compression import check_input
from ..io._text import fields, records

logger = logging.getLogger(__name__)

METRICS_SUFFIX = ".metrics.tsv"
CURVES_SUFFIX = ".curves.tsv"
TOP_GENES_SUFFIX = ".top_genes.tsv"
COMPLETENESS_SUFFIX = ".completeness.tsv"
STABILITY_SUMMARY_SUFFIX = ".stability_summary.tsv"
TRAIN_SUFFIX = ".train.json"
PREPARE_SUFFIX = ".prepare.tsv"
BIOMARKERS_SUFFIX = ".biomarkers.tsv"
VERDICT_SUFFIX = ".verdict.tsv"
PATHWAYS_SUFFIX = ".pathways.tsv"

#: Columns of :attr:`Results.datasets`.
DATASET_COLUMNS = ("dataset", "n_samples", "n_genes", "n_classes", "n_train", "n_test", "simulated")
#: Columns of :attr:`Results.class_counts`.
CLASS_COUNT_COLUMNS = ("dataset", "class", "split", "n_samples")
#: Columns of :attr:`Results.biomarkers`, :attr:`Results.verdict` and
#: :attr:`Results.pathways` (BIOMARKERS' tables, with their truth column).
BIOMARKER_TABLE_COLUMNS = (*keys.BIOMARKER_COLUMNS, keys.INFORMATIVE)
VERDICT_TABLE_COLUMNS = keys.VERDICT_COLUMNS
PATHWAY_TABLE_COLUMNS = (*keys.PATHWAY_COLUMNS, keys.OVER_EXPRESSED)


def _empty(columns: tuple[str, ...]):
    return dataclasses.field(default_factory=lambda: pd.DataFrame(columns=list(columns)))


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
        :data:`genexai.keys.STABILITY_SUMMARY_COLUMNS` (STABILITY's summary
        over the pairs of runs of each model pair); ``n_pairs`` int64,
        ``mean`` and ``std`` float64.
    completeness
        :data:`genexai.keys.COMPLETENESS_COLUMNS`, one row per explained
        example: ``delta`` float64, ``|sum(a) - (F(x) - F(b))|`` in
        probability units; ``n_steps`` float64, the IG steps used (NaN where
        not recorded).
    datasets
        :data:`DATASET_COLUMNS`, one row per prepared dataset.
    class_counts
        :data:`CLASS_COUNT_COLUMNS`: samples per dataset, class and split.
    biomarkers
        :data:`BIOMARKER_TABLE_COLUMNS` (BIOMARKERS' consensus top genes per
        class): ``rank``, ``n_runs`` int64, the other numbers float64 (NaN
        where empty), ``informative`` nullable boolean (NA without the truth).
    verdict
        :data:`VERDICT_TABLE_COLUMNS`, one row per dataset × method × class:
        ``k``, ``n_runs`` int64; ``n_examples``, ``sufficient_k`` and the
        percentages float64 (NaN where not defined); ``sufficient``,
        ``necessary``, ``stable``, ``true`` nullable boolean.
    pathways
        :data:`PATHWAY_TABLE_COLUMNS`, one row per dataset × method × model ×
        class × gene set: ``set_size``, ``n_not_found``, ``n_top``, ``rank``
        int64; scores and p-values float64; ``over_expressed`` nullable
        boolean (NA without the truth).

    The last three are empty (with their columns) when the folder has no
    BIOMARKERS output (older runs, or the step skipped).
    """

    metrics: pd.DataFrame
    curves: pd.DataFrame
    top_genes: pd.DataFrame
    stability: pd.DataFrame
    completeness: pd.DataFrame
    datasets: pd.DataFrame
    class_counts: pd.DataFrame
    biomarkers: pd.DataFrame = _empty(BIOMARKER_TABLE_COLUMNS)
    verdict: pd.DataFrame = _empty(VERDICT_TABLE_COLUMNS)
    pathways: pd.DataFrame = _empty(PATHWAY_TABLE_COLUMNS)


def collect_results(results_dir: str | Path) -> Results:
    """Read every result table in ``results_dir`` (flat, not recursive).

    Files are found by suffix: ``*.metrics.tsv``, ``*.curves.tsv``,
    ``*.top_genes.tsv`` and ``*.completeness.tsv`` (EVALUATE),
    ``*.stability_summary.tsv`` (STABILITY), ``*.train.json`` (TRAIN),
    ``*.prepare.tsv`` (PREPARE) and ``*.biomarkers.tsv``, ``*.verdict.tsv``,
    ``*.pathways.tsv`` (BIOMARKERS); other files are left alone. Any kind may be
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
            COMPLETENESS_SUFFIX,
            STABILITY_SUMMARY_SUFFIX,
            TRAIN_SUFFIX,
            PREPARE_SUFFIX,
            BIOMARKERS_SUFFIX,
            VERDICT_SUFFIX,
            PATHWAYS_SUFFIX,
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
    datasets, class_counts = _datasets(
        _read_tables(
            found[PREPARE_SUFFIX],
            keys.PREPARE_SUMMARY_COLUMNS,
            integers=("n_samples", "n_genes"),
            booleans=("simulated",),
        )
    )
    return Results(
        metrics=_sorted(_concat([accuracy, metrics], keys.METRIC_COLUMNS)),
        curves=_read_tables(
            found[CURVES_SUFFIX],
            keys.CURVE_COLUMNS,
            integers=("seed", "n_genes"),
            floats=("value", "std"),
        ),
        top_genes=_read_tables(
            found[TOP_GENES_SUFFIX],
            keys.TOP_GENES_COLUMNS,
            integers=("seed", "rank"),
            floats=("score",),
            booleans=(keys.INFORMATIVE,),
            optional=(keys.INFORMATIVE,),
        ),
        stability=_read_tables(
            found[STABILITY_SUMMARY_SUFFIX],
            keys.STABILITY_SUMMARY_COLUMNS,
            integers=("n_pairs",),
            exact=("mean", "std"),
        ),
        completeness=_read_tables(
            found[COMPLETENESS_SUFFIX],
            keys.COMPLETENESS_COLUMNS,
            integers=("seed",),
            floats=("n_steps",),
            exact=("delta",),
        ),
        datasets=datasets,
        class_counts=class_counts,
        biomarkers=_read_tables(
            found[BIOMARKERS_SUFFIX],
            keys.BIOMARKER_COLUMNS,
            integers=("rank", "n_runs"),
            exact=(
                "mean_rank",
                "rank_std",
                "seed_fraction",
                "model_fraction",
                "wilcoxon_logfc",
                "wilcoxon_pval_adj",
            ),
            booleans=(keys.INFORMATIVE,),
            optional=(keys.INFORMATIVE,),
        ),
        verdict=_read_tables(
            found[VERDICT_SUFFIX],
            keys.VERDICT_COLUMNS,
            integers=("k", "n_runs"),
            exact=(
                "n_examples",
                "sufficient_k",
                "keep_accuracy",
                "keep_accuracy_std",
                "remove_drop",
                "remove_drop_std",
                "random_drop",
                "random_drop_std",
                "stability",
                "precision",
                "pathway_agreement",
            ),
            booleans=("sufficient", "necessary", "stable", "true"),
            nullable=("sufficient", "necessary", "stable", "true"),
        ),
        pathways=_read_tables(
            found[PATHWAYS_SUFFIX],
            keys.PATHWAY_COLUMNS,
            integers=("set_size", "n_not_found", "n_top", "rank"),
            exact=("score_sum", "score_mean", "p_value", "p_adj"),
            booleans=(keys.OVER_EXPRESSED,),
            optional=(keys.OVER_EXPRESSED,),
        ),
    )


def _read_text(path: Path, *, what: str) -> str:
    """The UTF-8 text of a small input file; any failure is one line naming it."""
    check_input(path, what=what)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start : exc.start + 1].hex()
        msg = f"{path}: not UTF-8 text (byte 0x{byte} at offset {exc.start}), expected a {what}"
        raise InputError(msg) from None
    except OSError as exc:
        msg = f"{path}: cannot be read ({what}: {exc.strerror})"
        raise InputError(msg) from None


def read_versions(path: str | Path) -> str:
    """The run's ``versions.yml``, as text (UTF-8).

    Raises
    ------
    InputError
        The file is missing, not a regular file, unreadable or not UTF-8 text.
    """
    return _read_text(Path(path), what="versions file")


def read_params(path: str | Path) -> dict:
    """The run's parameters from a JSON object (Nextflow ``params``)."""
    return _read_json_object(Path(path), what="parameters")


#: The fields of a run record (:func:`read_run_info`), all optional.
RUN_INFO_FIELDS = ("command_line", "run_name", "version", "revision", "commit", "nextflow_version")


def read_run_info(path: str | Path) -> dict:
    """The Nextflow run that makes the report, from a JSON object.

    Fields (:data:`RUN_INFO_FIELDS`, each a string or null): ``command_line``
    (``workflow.commandLine``), ``run_name`` (``workflow.runName``),
    ``version`` (``manifest.version``), ``revision`` (``workflow.revision``,
    the branch or tag of a pulled pipeline), ``commit`` (``workflow.commitId``,
    or the commit checked out in the pipeline's folder) and
    ``nextflow_version``.

    Raises
    ------
    InputError
        The file is not a JSON object, or a field is not a string or null.
    """
    path = Path(path)
    info = _read_json_object(path, what="run record")
    for key in RUN_INFO_FIELDS:
        if not isinstance(info.get(key), str | None):
            msg = f"{path}: field {key!r} must be a string or null, found {info[key]!r}"
            raise InputError(msg)
    return info


def _read_json_object(path: Path, *, what: str) -> dict:
    try:
        value = json.loads(_read_text(path, what=f"JSON file of {what}"))
    except json.JSONDecodeError as exc:
        msg = f"{path}: not a readable JSON file (invalid JSON at line {exc.lineno})"
        raise InputError(msg) from None
    if not isinstance(value, dict):
        msg = f"{path}: expected a JSON object of {what}, found {type(value).__name__}"
        raise InputError(msg)
    return value


def _concat(frames: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=list(columns))
    return pd.concat(frames, ignore_index=True)


def _sorted(table: pd.DataFrame) -> pd.DataFrame:
    by = ["dataset", "model", "seed", "method", "metric", "variant"]
    return table.sort_values(by, kind="stable", ignore_index=True)


def _read_tables(
    paths: list[Path],
    columns: tuple[str, ...],
    *,
    integers: tuple[str, ...] = (),
    floats: tuple[str, ...] = (),
    exact: tuple[str, ...] = (),
    booleans: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
    nullable: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Concatenate tab-separated tables after checking columns and types.

    ``floats`` and ``exact`` are both float64 columns; ``exact`` ones are
    parsed to the nearest double, the others as the report always parsed
    them (see :func:`_to_numbers`). An ``optional`` column a table lacks is
    NA there; other columns than ``columns`` and ``optional`` are dropped.
    ``booleans`` that are ``optional`` or ``nullable`` may hold empty cells (NA).
    """
    wanted = columns + optional
    frames = []
    for path in paths:
        try:
            _check_rows(path)
            table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
        except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            msg = f"{path}: not a tab-separated table ({exc.__class__.__name__})"
            raise InputError(msg) from None
        except OSError as exc:
            msg = f"{path}: cannot be read ({exc.strerror})"
            raise InputError(msg) from None
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
        for column in (*floats, *exact):
            table[column] = _to_numbers(
                table[column], path=path, integer=False, exact=column in exact
            )
        for column in booleans:
            if column in table:
                table[column] = _to_booleans(
                    table[column], path=path, allow_empty=column in (*optional, *nullable)
                )
            else:
                table[column] = pd.Series(pd.NA, index=table.index, dtype="boolean")
        frames.append(table[list(wanted)])
    return _concat(frames, wanted)


def _check_rows(path: Path) -> None:
    """Refuse a row whose number of fields differs from the header's (pandas
    would pad a short row with empty cells)."""
    with open(path, encoding="utf-8") as text:
        found = records(text, path=path, sep="\t")
        header = next(found, None)
        if header is None:
            return
        expected = len(fields(header[1], sep="\t", path=path, line=header[0]))
        for line, record in found:
            n = len(fields(record, sep="\t", path=path, line=line))
            if n != expected:
                msg = f"{path}: line {line} has {n} fields, the header has {expected}"
                raise InputError(msg)


def _to_numbers(text: pd.Series, *, path: Path, integer: bool, exact: bool = False) -> pd.Series:
    """Parse a text column; empty cells become NaN, except in integer columns.

    ``pd.to_numeric`` parses with pandas' fast routine, which can be off by
    a few units in the last place of a 17-digit value (up to ~1e-12
    relative); ``exact`` parses with numpy (Python's correctly rounded
    conversion) instead. The tables the report has always read keep
    ``pd.to_numeric``, so that their summaries do not move.
    """
    stripped = text.str.strip()
    empty = stripped.str.lower().isin(["", "nan", "na"])
    values = pd.to_numeric(stripped.replace("", "nan"), errors="coerce")
    bad = values.isna() & ~empty
    if integer:
        bad |= values.isna() | (values % 1 != 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        kind = "an integer" if integer else "a number"
        where = f"{path}: column {text.name!r}, row {row + 1}"
        msg = f"{where}: expected {kind}, found {text.iloc[row]!r}"
        raise InputError(msg)
    if integer:
        return values.astype(np.int64)
    if exact:
        return stripped.mask(empty, "nan").astype(np.float64)
    return values.astype(np.float64)


def _to_booleans(text: pd.Series, *, path: Path, allow_empty: bool) -> pd.Series:
    lowered = text.str.strip().str.lower()
    values = lowered.map({"true": True, "1": True, "false": False, "0": False})
    bad = values.isna() & ((lowered != "") | (not allow_empty))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        where = f"{path}: column {text.name!r}, row {row + 1}"
        msg = f"{where}: expected True/False, found {text.iloc[row]!r}"
        raise InputError(msg)
    return values.astype("boolean")


def _read_train_json(path: Path) -> pd.DataFrame:
    """Two accuracy rows (``method == "none"``) from a TRAIN metrics JSON."""
    try:
        record = json.loads(_read_text(path, what="TRAIN metrics JSON"))
    except json.JSONDecodeError as exc:
        msg = f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})"
        raise InputError(msg) from None
    if not isinstance(record, dict):
        msg = f"{path}: expected a JSON object, found {type(record).__name__}"
        raise InputError(msg)
    for field in ("dataset", "model"):
        value = record.get(field)
        if not isinstance(value, str) or not value:
            msg = f"{path}: field {field!r} must be a non-empty string, found {value!r}"
            raise InputError(msg)
    seed = record.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int):
        msg = f"{path}: field 'seed' must be an integer, found {seed!r}"
        raise InputError(msg)
    rows = []
    for field in (keys.TRAIN_ACCURACY, keys.BALANCED_ACCURACY):
        value = record.get(field)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            msg = f"{path}: field {field!r} must be a number (percent), found {value!r}"
            raise InputError(msg)
        rows.append((record["dataset"], record["model"], seed, "none", field, "", float(value)))
    return pd.DataFrame(rows, columns=list(keys.METRIC_COLUMNS))


def _datasets(prepare: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The overview (a row per dataset) and the class counts of PREPARE's summaries."""
    prepare = prepare.sort_values("dataset", kind="stable", ignore_index=True)
    if prepare.empty:
        return pd.DataFrame(columns=list(DATASET_COLUMNS)), prepare[list(CLASS_COUNT_COLUMNS)]
    samples = prepare["n_samples"]
    overview = (
        prepare.assign(
            n_train=samples.where(prepare["split"] == keys.TRAIN, 0),
            n_test=samples.where(prepare["split"] == keys.TEST, 0),
        )
        .groupby("dataset", sort=True)
        .agg(
            n_samples=("n_samples", "sum"),
            n_genes=("n_genes", "first"),
            n_classes=("class", "nunique"),
            n_train=("n_train", "sum"),
            n_test=("n_test", "sum"),
            simulated=("simulated", "first"),
        )
        .reset_index()
        .astype({"simulated": bool})
    )
    return overview[list(DATASET_COLUMNS)], prepare[list(CLASS_COUNT_COLUMNS)]
