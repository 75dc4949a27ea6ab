"""The "Methods compared" section of docs/results.md, from a finished run.

Issue 19 asks whether IG beats the classical rankings at finding the planted
biomarkers: this reads a run's ``summary/methods.tsv`` and
``summary/verdict.tsv`` (REPORT's tables) and its Nextflow trace, and prints a
markdown section: feature agreement and prediction gaps per dataset, model
family and method, and the per-class judgements.

Run (appended after ``bench/paper_results.py``'s output)::

    scripts/nextflow run . -profile paper,local --simulate SIMU1,SimuB --models LR,MLP \\
        --seeds 1-2 --seeds_per_task 2 --skip_multiqc \\
        --methods integrated_gradients,wilcoxon,t_test,mutual_info,coefficients \\
        --outdir results-methods
    python bench/methods_results.py --outdir results-methods --wall "…" \\
        --command "…" >> docs/results.md
"""

from __future__ import annotations

import platform
from pathlib import Path

import click
import pandas as pd
from paper_results import md, trace_summary

METHODS = ("integrated_gradients", "coefficients", "wilcoxon", "t_test", "mutual_info")
#: metric, variant -> column title (all mean ± std over the model runs).
COLUMNS = {
    ("fa", "global_mean_score"): "FA global",
    ("fa_precision@10", "global_mean_score"): "precision@10",
    ("fa_precision@100", "global_mean_score"): "precision@100",
    ("fa_auroc", "global_mean_score"): "AUROC",
    ("pgi", "global_per_class"): "PGI per class ↑",
    ("pgu", "global_per_class"): "PGU per class ↓",
}


def comparison(metrics: pd.DataFrame) -> pd.DataFrame:
    """Dataset × model × method rows, ``mean ± std`` over seeds of :data:`COLUMNS`."""
    rows = metrics[
        metrics.set_index(["metric", "variant"]).index.isin(list(COLUMNS))
        & metrics["method"].isin(METHODS)
    ].copy()
    rows["column"] = [COLUMNS[m, v] for m, v in zip(rows["metric"], rows["variant"], strict=True)]
    stats = rows.groupby(["dataset", "model", "method", "column"])["value"].agg(
        mean="mean", std=lambda v: v.std(ddof=0)
    )
    text = (
        stats["mean"].map("{:.2f}".format) + " ± " + stats["std"].map("{:.2f}".format)
    ).unstack()
    text = text.reindex(columns=[c for c in COLUMNS.values() if c in text.columns])
    order = {m: i for i, m in enumerate(METHODS)}
    text = text.reset_index()
    text["_m"] = text["method"].map(order)
    return (
        text.sort_values(["dataset", "model", "_m"])
        .drop(columns="_m")
        .set_index(["dataset", "model", "method"])
    )


def judgements(verdict: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and method: classes judged sufficient, necessary, stable, true (of n)."""
    flags = ["sufficient", "necessary", "stable", "true"]
    table = verdict.assign(**{f: verdict[f].astype(str) == "True" for f in flags})
    out = table.groupby(["dataset", "method"]).agg(
        classes=("class", "size"),
        **{f: (f, "sum") for f in flags},
        precision=("precision", "mean"),
        pathway_agreement=("pathway_agreement", "mean"),
    )
    return out.round(1)


@click.command()
@click.option(
    "--outdir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True
)
@click.option("--command", "command", required=True, help="The exact command that was run.")
@click.option("--wall", required=True, help="Wall time as measured around the command.")
def main(outdir: Path, command: str, wall: str) -> None:
    """Print the methods-compared section for the run in OUTDIR."""
    trace = sorted((outdir / "pipeline_info").glob("execution_trace_*.txt"))[-1]
    summary, _ = trace_summary(pd.read_csv(trace, sep="\t"))
    metrics = pd.read_csv(outdir / "summary" / "metrics.tsv", sep="\t")
    verdict = pd.read_csv(outdir / "summary" / "verdict.tsv", sep="\t")
    seeds = sorted(set(metrics.loc[metrics["method"] != "none", "seed"]))
    print(
        f"""
## Methods compared: IG against classical rankings (issue 19)

Does IG find the planted biomarkers better than a t-test? The same models
(LR and MLP, seeds {", ".join(map(str, seeds))}) explained by IG and by its
own coefficients (LR only), and ranked without a model by Wilcoxon, Welch's
t-test and mutual information (training split only, one class against the
rest); every ranking goes through the same metrics (mean ± std over seeds, %).
FA and precision@k read the ranking against the truth; PGI/PGU replace the
ranking's genes on each model's correctly classified test examples. A
classical ranking has no per-example explanation, so only the global
variants are compared.

```
{command}
```

- Machine: {platform.machine()}, 2 cores, 24 GB, no GPU. Wall time: **{wall}**;
  CPU time {summary.loc["**all**", "cpu_min"]:.0f} min; largest task
  {summary.loc["**all**", "peak_rss_gib"]:.2f} GiB.

{md(comparison(metrics))}

Per class (BIOMARKERS, top 20 genes; thresholds 95 % kept, 10 points beyond
random, Jaccard 0.5, 50 % true): classes judged so, of all, and the mean
precision and pathway agreement (%):

{md(judgements(verdict))}

### Trace summary

{md(summary.round(2))}
"""
    )


if __name__ == "__main__":
    main()
