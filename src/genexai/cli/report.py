"""REPORT: summary tables and a self-contained HTML report of a pipeline run.

``genexai report`` and ``bin/report.py``.
"""

from __future__ import annotations

from pathlib import Path

import click

from . import _options as opt


@opt.command("report")
@click.option(
    "--results-dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Flat folder with every run's tables: *.metrics.tsv, *.curves.tsv, *.top_genes.tsv, "
    "*.completeness.tsv, *.stability_summary.tsv, *.train.json and *.prepare.tsv.",
)
@click.option(
    "--params",
    "params_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The run's parameters (JSON object), shown in the report.",
)
@click.option(
    "--versions",
    "versions_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The run's versions.yml, shown in the report.",
)
@click.option(
    "--run-info",
    "run_info_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The Nextflow run (JSON object: command_line, run_name, version, revision, commit, "
    "nextflow_version), shown in the report.",
)
@click.option(
    "--outdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    help="Writes summary/*.tsv (with MultiQC's summary/*_mqc.tsv) and report/report.html here.",
)
@click.option(
    "--top-genes", "top_n", type=click.IntRange(min=1), default=10, help="Genes shown per class."
)
@click.option("--verbose", is_flag=True, help="Log progress details.")
def main(
    *,
    results_dir: Path,
    params_path: Path | None,
    versions_path: Path | None,
    run_info_path: Path | None,
    outdir: Path,
    top_n: int,
    verbose: bool,
) -> None:
    """Summarise every run (mean ± std over seeds) and write the HTML report."""
    from ..report import collect_results, read_params, read_run_info, read_versions, write_report

    opt.setup_logging(verbose=verbose)
    params = read_params(params_path) if params_path else {}
    versions = read_versions(versions_path) if versions_path else ""
    run_info = read_run_info(run_info_path) if run_info_path else None
    write_report(
        collect_results(results_dir),
        outdir,
        params=params,
        versions=versions,
        run_info=run_info,
        top_n=top_n,
    )
