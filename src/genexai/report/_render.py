"""The self-contained HTML report and the files of the REPORT step."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import yaml

from .. import __version__
from ..errors import InputError
from ..io import atomic_paths
from . import _figures
from ._collect import Results
from ._multiqc import multiqc_tables
from ._tables import (
    DELTA_THRESHOLD,
    PG_CURVE,
    ROW_KEYS,
    family_rows,
    metric_labels,
    series_label,
    summary_tables,
)

#: Folders and file names written under ``outdir`` by :func:`write_report`.
SUMMARY_DIR = "summary"
REPORT_PATH = Path("report") / "report.html"

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("genexai.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

_HEADERS = {
    "n_seeds": "seeds",
    "n_samples": "samples",
    "n_genes": "genes",
    "n_classes": "classes",
    "n_train": "train",
    "n_test": "test",
    "n_pairs": "pairs",
    "n_examples": "examples",
    "n_above": f"> {DELTA_THRESHOLD}",
    "max_n_steps": "max IG steps",
    "p95": "95th percentile",
}


def render_report(
    results: Results,
    *,
    params: Mapping[str, Any],
    versions: str,
    run_info: Mapping[str, Any] | None = None,
    top_n: int = 10,
) -> str:
    """The HTML report, self-contained: inline CSS, figures as base64 PNG.

    Parameters
    ----------
    results
        From :func:`~genexai.report.collect_results`.
    params
        The run's parameters (Nextflow ``params`` as JSON), shown as a table.
    versions
        The ``versions.yml`` text of the run (nf-core layout
        ``"<process>": {tool: version}``); shown as a table, or verbatim when
        it does not parse.
    run_info
        The Nextflow run that made the report (:func:`~genexai.report.read_run_info`):
        its command line, run name, pipeline revision and Nextflow version,
        shown first in the parameters section. Default: None (not shown).
    top_n
        Genes shown per class in the top-genes section. Default: 10.

    Returns
    -------
    The HTML document.
    """
    return _render(
        results,
        summary_tables(results),
        params=params,
        versions=versions,
        run_info=run_info,
        top_n=top_n,
    )


def write_report(
    results: Results,
    outdir: str | os.PathLike,
    *,
    params: Mapping[str, Any],
    versions: str,
    run_info: Mapping[str, Any] | None = None,
    top_n: int = 10,
) -> list[Path]:
    """Write the summary tables and the report under ``outdir``, all together.

    Everything is computed, and every output folder checked, before the
    first file is written; the files are then committed together
    (:func:`genexai.io.atomic_paths`), so an error leaves no output behind.

    Returns
    -------
    The files written: ``summary/<name>.tsv`` for each table of
    :func:`~genexai.report.summary_tables`, the MultiQC custom content
    ``summary/genexai_<name>_mqc.tsv`` (:func:`~genexai.report.multiqc_tables`)
    and ``report/report.html``.

    Raises
    ------
    InputError
        An output folder (``outdir``, ``summary``, ``report``) is a file or
        not writable, or an output file is a folder or a special file.
    """
    outdir = Path(outdir)
    tables = summary_tables(results)
    html = _render(
        results, tables, params=params, versions=versions, run_info=run_info, top_n=top_n
    )
    multiqc = multiqc_tables(tables)
    folders = (outdir / SUMMARY_DIR, (outdir / REPORT_PATH).parent)
    paths = [outdir / SUMMARY_DIR / f"{name}.tsv" for name in tables]
    paths += [outdir / SUMMARY_DIR / name for name in multiqc]
    for folder in folders:
        _check_folder(folder)
    for path in (*paths, outdir / REPORT_PATH):
        if path.exists() and not path.is_file():
            msg = f"{path}: exists and is not a regular file; not replacing it with the report's"
            raise InputError(msg)
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    with atomic_paths(*paths, outdir / REPORT_PATH) as temporary:
        for table, tmp in zip(tables.values(), temporary, strict=False):
            table.to_csv(tmp, sep="\t", index=False)
        for text, tmp in zip(multiqc.values(), temporary[len(tables) :], strict=False):
            tmp.write_text(text, encoding="utf-8")
        temporary[-1].write_text(html, encoding="utf-8")
    return [*paths, outdir / REPORT_PATH]


def _check_folder(folder: Path) -> None:
    """Refuse a folder to write into that is a file, or cannot be made.

    Checked for every output folder before any is made, so that nothing is
    written when one of them is in the way.
    """
    for path in (folder, *folder.parents):
        if path.is_dir():
            if not os.access(path, os.W_OK | os.X_OK):
                msg = f"{path}: folder is not writable; cannot write the report under {folder}"
                raise InputError(msg)
            return
        if path.exists() or path.is_symlink():
            msg = f"{path}: exists and is not a folder; cannot write the report under {folder}"
            raise InputError(msg)


def _render(
    results: Results,
    tables: dict[str, pd.DataFrame],
    *,
    params: Mapping[str, Any],
    versions: str,
    run_info: Mapping[str, Any] | None,
    top_n: int,
) -> str:
    curves = tables["curves"]
    is_pg = curves["curve"].str.contains(PG_CURVE)
    families = {}
    for family, ylabel in (
        ("accuracy", "percent"),
        ("prediction_gaps", "prediction gap (%)"),
        ("feature_agreement", "feature agreement (%)"),
    ):
        labels = metric_labels(family_rows(results.metrics, family))
        paper = tables[family]
        families[family] = {
            "table": _paper_table(paper, labels),
            "figure": _figures.bar_figure(paper, labels, ylabel=ylabel) if len(paper) else None,
        }
    context = {
        "version": __version__,
        "datasets": sorted(set(results.metrics["dataset"]) | set(results.datasets["dataset"])),
        "n_models": results.metrics[["dataset", "model", "seed"]].drop_duplicates().shape[0],
        "overview": _overview(tables),
        **families,
        "pg_curves": list(
            _figures.curve_figures(
                curves[is_pg], ylabel="prediction gap", xlabel="genes replaced by the baseline"
            )
        ),
        "curves": list(
            _figures.curve_figures(curves[~is_pg], ylabel="balanced accuracy (%)", xlabel="genes")
        ),
        "top_genes": _top_gene_tables(tables["top_genes"], top_n=top_n),
        "top_n": top_n,
        "stability": {
            "table": _html_table(tables["stability"].drop(columns=["mean", "std"])),
            "figure": _figures.stability_figure(tables["stability"])
            if len(tables["stability"])
            else None,
        },
        "completeness": {
            "table": _html_table(tables["completeness"]),
            "figure": _figures.completeness_figure(results.completeness)
            if len(results.completeness)
            else None,
        },
        "threshold": DELTA_THRESHOLD,
        "run": _run_rows(run_info) if run_info else None,
        "params": _html_table(pd.DataFrame(_flatten(params), columns=["parameter", "value"])),
        "versions": _versions(versions),
    }
    return _ENV.get_template("report.html.j2").render(**context)


def _paper_table(paper: pd.DataFrame, labels: pd.DataFrame) -> dict | None:
    """A paper table for display: the ``mean ± std`` columns only."""
    shown = paper[[*ROW_KEYS, "n_seeds", *labels["label"]]]
    if shown["method"].isin(["", "none"]).all():
        shown = shown.drop(columns="method")
    return _html_table(shown)


def _overview(tables: dict[str, pd.DataFrame]) -> dict:
    counts = tables["class_counts"]
    by_split = (
        counts.pivot_table(
            index=["dataset", "class"],
            columns="split",
            values="n_samples",
            aggfunc="sum",
            fill_value=0,
            sort=False,
        ).reset_index()
        if len(counts)
        else counts
    )
    return {
        "table": _html_table(tables["datasets"]),
        "classes": _html_table(by_split),
        "figure": _figures.class_count_figure(counts) if len(counts) else None,
    }


def _top_gene_tables(consensus: pd.DataFrame, *, top_n: int) -> list[dict]:
    """Per dataset × model × method: a row per class, its top genes across.

    Where the truth is known, a column counts the informative genes in the row.
    """
    shown = []
    for key, rows in consensus.groupby(ROW_KEYS, sort=True):
        rows = rows.assign(position=rows.groupby("class", sort=False).cumcount() + 1)
        rows = rows[rows["position"] <= top_n]
        known = bool(rows["informative"].notna().any())
        body = []
        for name, genes in rows.groupby("class", sort=False):
            cells = [
                {
                    "text": g.gene,
                    "mark": g.informative is True,
                    "title": f"in the top list of {g.n_seeds}/{g.of_seeds} seeds, "
                    f"mean rank {g.mean_rank:.1f}",
                }
                for g in genes.astype({"informative": object}).itertuples(index=False)
            ]
            n_true = int(genes["informative"].sum())  # NA (unknown) counts as 0
            body.append([str(name), *([f"{n_true}/{len(genes)}"] if known else []), *cells])
        shown.append(
            {
                "title": series_label(key),
                "known": known,
                "columns": [
                    "class",
                    *(["informative"] if known else []),
                    *map(str, range(1, rows["position"].max() + 1)),
                ],
                "rows": body,
            }
        )
    return shown


def _run_rows(run_info: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The run record as (label, text) rows; a field the run did not have shows as "–"."""
    revision = " · ".join(
        f"{label} {run_info[key]}"
        for key, label in (("version", "version"), ("revision", "revision"), ("commit", "commit"))
        if run_info.get(key)
    )
    return [
        ("Command line", _cell(run_info.get("command_line"))),
        ("Run name", _cell(run_info.get("run_name"))),
        ("Pipeline revision", revision or "–"),
        ("Nextflow version", _cell(run_info.get("nextflow_version"))),
    ]


def _versions(text: str) -> dict:
    """``versions.yml`` as (process, tool, version) rows, or the raw text."""
    try:
        parsed = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        parsed = None
    if isinstance(parsed, dict) and all(isinstance(v, dict) for v in parsed.values()):
        rows = [(p, t, str(v)) for p, tools in parsed.items() for t, v in tools.items()]
        return {
            "table": _html_table(pd.DataFrame(rows, columns=["process", "tool", "version"])),
            "raw": "",
        }
    return {"table": None, "raw": text.strip()}


def _flatten(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """``{"a": {"b": 1}}`` → ``[("a.b", "1")]``; lists are shown as JSON."""
    rows = []
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            rows.extend(_flatten(value, prefix=f"{name}."))
        else:
            rows.append((name, value if isinstance(value, str) else json.dumps(value)))
    return rows


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _html_table(table: pd.DataFrame) -> dict | None:
    """Columns (readable headers), rows of text cells and which columns are numeric.

    Returns None for an empty table, which the template shows as absent.
    """
    if table.empty:
        return None
    numeric = [
        pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
        for c in table.columns
    ]
    return {
        "columns": [_HEADERS.get(c, c.replace("_", " ")) for c in table.columns],
        "numeric": numeric,
        "rows": [[_cell(v) for v in row] for row in table.astype(object).itertuples(index=False)],
    }
