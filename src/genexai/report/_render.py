"""The self-contained HTML report and the files of the REPORT step."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import yaml

from .. import __version__, keys
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
    primary_method,
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
        Genes shown per class in the top-genes section, and gene sets per
        class and model in the pathways section. Default: 10.

    Returns
    -------
    The HTML document. Its first section is the verdict per dataset and
    class (BIOMARKERS' ``verdict.tsv``), then the methods compared, the
    biomarker genes and the pathways; the figures of the later sections
    show one method per dataset (:func:`~genexai.report._tables.primary_method`:
    Integrated Gradients when present) and say so.
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
    curves = _primary_rows(tables["curves"])
    is_pg = curves["curve"].str.contains(PG_CURVE)
    stability = tables["stability"]
    families = {}
    for family, ylabel in (
        ("accuracy", "percent"),
        ("prediction_gaps", "prediction gap (%)"),
        ("feature_agreement", "feature agreement (%)"),
    ):
        labels = metric_labels(family_rows(results.metrics, family))
        paper = tables[family]
        drawn = _primary_rows(paper)
        families[family] = {
            "table": _paper_table(paper, labels),
            "figure": _figures.bar_figure(drawn, labels, ylabel=ylabel) if len(drawn) else None,
        }
    context = {
        "version": __version__,
        "datasets": sorted(set(results.metrics["dataset"]) | set(results.datasets["dataset"])),
        "n_models": results.metrics[["dataset", "model", "seed"]].drop_duplicates().shape[0],
        "overview": _overview(tables),
        "shown": _shown_note(results),
        "verdict": _verdict_sections(tables),
        "methods": _method_sections(tables["methods"]),
        "biomarkers": _biomarker_sections(tables["biomarkers"]),
        "pathways": _pathway_sections(tables["pathways"], top_n=top_n),
        **families,
        "pg_curves": list(
            _figures.curve_figures(
                curves[is_pg], ylabel="prediction gap", xlabel="genes replaced by the baseline"
            )
        )
        if is_pg.any()
        else [],
        "curves": list(
            _figures.curve_figures(curves[~is_pg], ylabel="balanced accuracy (%)", xlabel="genes")
        )
        if (~is_pg).any()
        else [],
        "top_genes": _top_gene_tables(tables["top_genes"], top_n=top_n),
        "top_n": top_n,
        "stability": {
            "table": _html_table(stability.drop(columns=["mean", "std"])),
            "figure": _figures.stability_figure(stability)
            if (~stability["variant"].map(_figures.is_class_variant)).any()
            else None,
            "classes": list(_figures.class_stability_figures(stability)),
        },
        "completeness": {
            "table": _html_table(tables["completeness"]),
            "figure": _figures.completeness_figure(_primary_rows(results.completeness))
            if len(results.completeness)
            else None,
        },
        "threshold": DELTA_THRESHOLD,
        "run": _run_rows(run_info) if run_info else None,
        "params": _html_table(pd.DataFrame(_flatten(params), columns=["parameter", "value"])),
        # An atlas explains a seeded sample of its test cells (ATTRIBUTE's cap).
        "max_explained": params.get("max_explained_per_class"),
        "versions": _versions(versions),
    }
    return _ENV.get_template("report.html.j2").render(**context)


def _primary_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of each dataset's primary method (:func:`primary_method` of
    that dataset's methods in ``table``), and those of no method (``none``)."""
    if table.empty:
        return table
    methods = table["method"].astype(str)
    primary = methods.groupby(table["dataset"]).agg(primary_method)
    chosen = table["dataset"].map(primary)
    return table[(methods == chosen) | chosen.isna() | methods.isin(["", "none"])]


def _shown_note(results: Results) -> str:
    """What the figures show when the run has several methods, else nothing."""
    frames = (results.metrics, results.curves, results.top_genes, results.completeness)
    methods = pd.concat([f[["dataset", "method"]] for f in frames]).drop_duplicates()
    methods = methods[~methods["method"].isin(["", "none"])]
    if methods["method"].nunique() < 2:
        return ""
    primary = methods.groupby("dataset")["method"].agg(primary_method)
    if primary.nunique() == 1:
        which = _readable(primary.iloc[0])
    else:
        which = ", ".join(f"{d}: {_readable(m)}" for d, m in primary.items())
    return f" Figures show one method ({which}); the tables and summary/ hold every method."


def _readable(name: str) -> str:
    return str(name).replace("_", " ")


def _anchor(kind: str, dataset: str) -> str:
    """An element id for a dataset's part of a section (ids hold no spaces)."""
    return f"{kind}-" + re.sub(r"[^A-Za-z0-9_.-]", "-", str(dataset))


def _number(value: Any, digits: int = 1) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):.{digits}f}"


def _plus_minus(mean: Any, std: Any, digits: int = 1) -> str:
    if _number(mean) == "–":
        return "–"
    return f"{_number(mean, digits)} ± {_number(std, digits)}"


def _marked(text: str, *, mark: bool = False, star: bool = False, title: str = "") -> dict:
    """A table cell (the template's ``table`` macro): highlighted when ``mark``,
    with a ★ when also ``star`` (a true biomarker), and a tooltip."""
    return {"text": text, "mark": mark, "star": star and mark, "title": title}


def _known(rows: pd.DataFrame, column: str) -> bool:
    return bool(rows[column].notna().any())


def _verdict_sections(tables: dict[str, pd.DataFrame]) -> list[dict]:
    """Per dataset: the primary method's verdict per class, the other
    methods' verdicts, and links to the detailed sections."""
    verdict = tables["verdict"]
    with_methods = set(tables["methods"]["dataset"])
    with_markers = set(tables["biomarkers"]["dataset"])
    with_sets = set(tables["pathways"]["dataset"])
    shown = []
    for dataset, rows in verdict.groupby("dataset", sort=False):
        primary = primary_method(rows["method"])
        others = rows[rows["method"] != primary]
        links = [
            (f"#{_anchor('methods', dataset)}", "methods compared", dataset in with_methods),
            (f"#{_anchor('biomarkers', dataset)}", "biomarker genes", dataset in with_markers),
            (f"#{_anchor('pathways', dataset)}", "pathways", dataset in with_sets),
            ("#curves", "keep/remove curves", True),
            ("#top-genes", "top genes", True),
            ("#feature-agreement", "feature agreement", True),
            ("#stability", "stability", True),
        ]
        shown.append(
            {
                "dataset": str(dataset),
                "id": _anchor("verdict", dataset),
                "method": _readable(primary),
                "table": _verdict_table(rows[rows["method"] == primary], with_method=False),
                "others": _verdict_table(others, with_method=True) if len(others) else None,
                "links": [(href, text) for href, text, present in links if present],
            }
        )
    return shown


def _verdict_table(rows: pd.DataFrame, *, with_method: bool) -> dict:
    """A row per (method and) class: the verdict and the figures behind it."""
    ks = rows["k"].unique()
    at = f"top {ks[0]}" if len(ks) == 1 else "top k"
    columns = [
        *(["method"] if with_method else []),
        "class",
        "verdict",
        *([] if len(ks) == 1 else ["k"]),
        "genes to keep the prediction",
        f"prediction kept on the {at} (%)",
        f"drop without the {at} (%)",
        f"drop without {ks[0] if len(ks) == 1 else 'k'} random genes (%)",
        "stability (Jaccard)",
    ]
    precision, agreement = _known(rows, "precision"), _known(rows, "pathway_agreement")
    columns += ["precision (%)"] if precision else []
    columns += ["pathway agreement (%)"] if agreement else []
    columns += ["examples per run"]
    body = []
    for r in rows.astype(object).itertuples(index=False):
        good = all(v is True for v in (r.sufficient, r.necessary, r.stable))
        body.append(
            [
                *([_readable(r.method)] if with_method else []),
                str(r[2]),  # class: not an identifier
                _marked(str(r.verdict), mark=good, title=_flags(r)),
                *([] if len(ks) == 1 else [str(r.k)]),
                "not reached" if _number(r.sufficient_k) == "–" else _number(r.sufficient_k, 0),
                _plus_minus(r.keep_accuracy, r.keep_accuracy_std),
                _plus_minus(r.remove_drop, r.remove_drop_std),
                _plus_minus(r.random_drop, r.random_drop_std),
                _number(r.stability, 2),
                *([_number(r.precision)] if precision else []),
                *([_number(r.pathway_agreement)] if agreement else []),
                _number(r.n_examples),
            ]
        )
    text = {"method", "class", "verdict"}
    return {"columns": columns, "numeric": [c not in text for c in columns], "rows": body}


def _flags(row) -> str:
    """The verdict's four judgements, for the cell's tooltip."""
    names = ("sufficient", "necessary", "stable", "true")
    values = (row.sufficient, row.necessary, row.stable, row.true)
    return "; ".join(f"{n}: {_cell(v)}" for n, v in zip(names, values, strict=True))


#: Headers of the methods compared (``methods.tsv`` columns): what each
#: measures and which way is better (↑ higher, ↓ lower; none for the control).
_METHOD_HEADERS = {
    "fa global_mean_score": "FA ↑",
    "fa_auroc global_mean_score": "AUROC ↑",
    "pgi global_per_class": "PGI ↑",
    "pgu global_per_class": "PGU ↓",
    "pgr random": "PGR (random)",
    "pathway_agreement": "pathway agreement (%) ↑",
    "n_sufficient": "sufficient ↑",
    "n_necessary": "necessary ↑",
    "n_stable": "stable ↑",
    "n_true": "true ↑",
}


def _method_header(label: str) -> str:
    if label.startswith("fa_precision@"):
        return f"{label.split()[0].removeprefix('fa_')} ↑"
    return _METHOD_HEADERS.get(label, label.replace("_", " "))


def _method_sections(methods: pd.DataFrame) -> list[dict]:
    """Per dataset: a row per method, the best value of each column marked.

    Best is the highest value (the lowest for PGU, none for the random
    control PGR), among two methods or more; ties are all marked. Columns no
    method of the dataset has are left out.
    """
    labels = [c.removesuffix(" mean") for c in methods.columns if c.endswith(" mean")]
    extra = ("pathway_agreement", "n_sufficient", "n_necessary", "n_stable", "n_true")
    shown = []
    for dataset, rows in methods.groupby("dataset", sort=False):
        columns = [c for c in labels if rows[f"{c} mean"].notna().any()]
        columns += [c for c in extra if _known(rows, c)]
        best = {}
        for c in columns:
            values = pd.to_numeric(rows[f"{c} mean" if c in labels else c], errors="coerce")
            if c.startswith("pgr") or values.notna().sum() < 2:
                continue
            best[c] = values.min() if c.startswith("pgu") else values.max()
        body = []
        for _, r in rows.iterrows():
            cells = [_readable(r["method"]), str(r["n_runs"])]
            for c in columns:
                value = r[f"{c} mean"] if c in labels else r[c]
                if c in labels:
                    text = r[c]
                elif c == "pathway_agreement":
                    text = _number(value)
                else:
                    text = _cell(value)
                mark = c in best and not pd.isna(value) and value == best[c]
                cells.append(_marked(text or "–", mark=bool(mark)))
            body.append(cells)
        shown.append(
            {
                "dataset": str(dataset),
                "id": _anchor("methods", dataset),
                "table": {
                    "columns": ["method", "runs", *map(_method_header, columns)],
                    "numeric": [False, *([True] * (len(columns) + 1))],
                    "rows": body,
                },
            }
        )
    return shown


def _biomarker_sections(biomarkers: pd.DataFrame) -> list[dict]:
    """Per dataset: per class, BIOMARKERS' consensus top genes."""
    shown = []
    for dataset, rows in biomarkers.groupby("dataset", sort=False):
        several = rows["method"].nunique() > 1
        known = _known(rows, keys.INFORMATIVE)
        classes = []
        for (method, name), genes in rows.groupby(["method", "class"], sort=False):
            genes = genes.astype({keys.INFORMATIVE: object})
            body = [
                [
                    str(g.rank),
                    _marked(g.gene, mark=g.informative is True, star=True),
                    _plus_minus(g.mean_rank, g.rank_std),
                    _number(100 * g.seed_fraction, 0),
                    _number(100 * g.model_fraction, 0),
                    str(g.n_runs),
                    _number(g.wilcoxon_logfc, 2),
                    _cell(g.wilcoxon_pval_adj),
                ]
                for g in genes.itertuples(index=False)
            ]
            title = str(name) + (f" · {_readable(method)}" if several else "")
            summary = f"{title}: {', '.join(genes['gene'].head(5))}"
            if known:
                n_true = sum(v is True for v in genes[keys.INFORMATIVE])
                summary += f" ({n_true}/{len(genes)} informative)"
            classes.append({"summary": summary, "rows": body})
        shown.append(
            {
                "dataset": str(dataset),
                "id": _anchor("biomarkers", dataset),
                "method": ", ".join(_readable(m) for m in rows["method"].unique()),
                "known": known,
                "columns": [
                    "rank",
                    "gene",
                    "mean rank ± std",
                    "seeds (%)",
                    "models (%)",
                    "runs",
                    "Wilcoxon log2 FC",
                    "Wilcoxon adj. p",
                ],
                "classes": classes,
            }
        )
    return shown


def _pathway_sections(pathways: pd.DataFrame, *, top_n: int) -> list[dict]:
    """Per dataset, the primary method's ``top_n`` gene sets per class and model."""
    shown = []
    for dataset, rows in pathways.groupby("dataset", sort=False):
        primary = primary_method(rows["method"])
        rows = rows[(rows["method"] == primary) & (rows["rank"] <= top_n)]
        known = _known(rows, keys.OVER_EXPRESSED)
        classes = []
        for name, sets in rows.groupby("class", sort=False):
            sets = sets.astype({keys.OVER_EXPRESSED: object})
            body = [
                [
                    str(s.model),
                    str(s.rank),
                    _marked(s.gene_set, mark=s.over_expressed is True, star=True),
                    str(s.set_size),
                    str(s.n_not_found),
                    str(s.n_top),
                    _number(s.score_mean, 3),
                    _cell(s.p_adj),
                ]
                for s in sets.itertuples(index=False)
            ]
            best = sets[sets["rank"] == sets["rank"].min()]
            summary = f"{name}: best " + ", ".join(
                f"{b.gene_set} ({b.model})" for b in best.itertuples(index=False)
            )
            classes.append({"summary": summary, "rows": body})
        shown.append(
            {
                "dataset": str(dataset),
                "id": _anchor("pathways", dataset),
                "method": _readable(primary),
                "known": known,
                "columns": [
                    "model",
                    "rank",
                    "gene set",
                    "genes",
                    "not found",
                    "in the top k",
                    "mean score",
                    "adj. p (top k)",
                ],
                "classes": classes,
            }
        )
    return shown


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
