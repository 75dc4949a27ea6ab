"""The report's figures, as ``data:image/png;base64,...`` URIs.

Figures are built with matplotlib's object API (:class:`~matplotlib.figure.Figure`,
rendered by Agg) rather than pyplot, so no global backend or figure state is
touched. PNG metadata is stripped so the same results give the same bytes.
"""

from __future__ import annotations

import base64
import io
import os
import tempfile
from collections.abc import Iterator

import numpy as np
import pandas as pd

from .. import keys
from ._tables import DELTA_THRESHOLD, series_label

#: Panels per figure row, and their size in inches (at DPI, three panels and
#: a legend fill the report's 1100-px column).
NCOLS = 3
PANEL_W, PANEL_H = 3.3, 2.7
LEGEND_W = 1.5
DPI = 100
CONTROL_COLOR = "0.55"


def _figure(
    n_panels: int,
    *,
    ncols: int = NCOLS,
    size: tuple[float, float] = (PANEL_W, PANEL_H),
    legend: bool = True,
):
    """A figure with a grid of ``n_panels`` axes, room on the right for one legend."""
    # matplotlib caches fonts under MPLCONFIGDIR, falling back to ~/.config;
    # a per-user temp dir survives a read-only HOME (containers, clusters).
    os.environ.setdefault(
        "MPLCONFIGDIR", os.path.join(tempfile.gettempdir(), f"genexai-mpl-{os.getuid()}")
    )
    from matplotlib.figure import Figure

    ncols = min(ncols, n_panels)
    nrows = -(-n_panels // ncols)
    width = size[0] * ncols + (LEGEND_W if legend else 0)
    fig = Figure(figsize=(width, size[1] * nrows + 0.3), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def _legend(fig, axes) -> None:
    """One legend for the whole figure, right of the panels, each label once."""
    entries: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    fig.legend(
        entries.values(), entries.keys(), loc="outside right center", frameon=False, fontsize=8
    )


def _data_uri(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _readable(name: str) -> str:
    return name.replace("_", " ")


def _is_control(name: str) -> bool:
    """Random orders are the control; they are drawn grey so the eye goes to the others."""
    return "random" in name.lower() or name.lower().startswith("pgr")


def bar_figure(table: pd.DataFrame, labels: pd.DataFrame, *, ylabel: str) -> str:
    """A panel per dataset × variant: models on x, a bar per metric.

    Parameters
    ----------
    table
        A non-empty paper table (:func:`~genexai.report._tables.paper_table`);
        error bars are its std over seeds.
    labels
        Its metrics, from :func:`~genexai.report._tables.metric_labels`.
    """
    metrics = list(dict.fromkeys(labels["metric"]))
    colors = {m: CONTROL_COLOR if _is_control(m) else f"C{i}" for i, m in enumerate(metrics)}
    variants = list(dict.fromkeys(labels["variant"]))
    datasets = sorted(table["dataset"].unique())
    n_models = table.groupby("dataset").size().max()
    per_panel = labels.groupby("variant", sort=False).size().max()
    panel_w = min(max(PANEL_W, 1.0 + 0.22 * n_models * per_panel), 9.0)
    fits = max(1, int(10 // panel_w))
    # a row per dataset when its variants fit side by side, so that columns line up
    ncols = len(variants) if 1 < len(variants) <= fits else fits
    fig, axes = _figure(len(datasets) * len(variants), ncols=ncols, size=(panel_w, 3.0))
    panels = [(d, v) for d in datasets for v in variants]
    for ax, (dataset, variant) in zip(axes, panels, strict=True):
        rows = table[table["dataset"] == dataset]
        shown = labels[labels["variant"] == variant]
        x = np.arange(len(rows))
        width = 0.8 / len(shown)
        for i, (metric, label) in enumerate(zip(shown["metric"], shown["label"], strict=True)):
            ax.bar(
                x + (i - (len(shown) - 1) / 2) * width,
                rows[f"{label} mean"],
                width,
                yerr=rows[f"{label} std"],
                capsize=2,
                label=_readable(metric),
                color=colors[metric],
                error_kw={"lw": 0.8},
            )
        names = [series_label(r) for r in rows[["model", "method"]].itertuples(index=False)]
        rotate = len(rows) > 3
        ax.set_xticks(x, names, rotation=30 if rotate else 0, ha="right" if rotate else "center")
        ax.set_ylabel(ylabel)
        ax.set_title(series_label((dataset, _readable(variant))), fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    _legend(fig, axes)
    return _data_uri(fig)


def curve_figures(curves: pd.DataFrame, *, ylabel: str, xlabel: str) -> Iterator[tuple[str, str]]:
    """One figure per dataset: a panel per model, a line per curve (mean over seeds).

    The band is ± the std over seeds, or, from a single seed, the run's own
    std (e.g. over random draws). Yields ``(dataset, data URI)``.
    """
    names = sorted(curves["curve"].unique())
    colors = {c: CONTROL_COLOR if _is_control(c) else f"C{i}" for i, c in enumerate(names)}
    for dataset, rows in curves.groupby("dataset", sort=True):
        panels = list(rows.groupby(["model", "method"], sort=True))
        fig, axes = _figure(len(panels))
        for ax, (key, panel) in zip(axes, panels, strict=True):
            for curve, line in panel.groupby("curve", sort=True):
                line = line.sort_values("n_genes")
                band = line["std"].where(line["n_seeds"] > 1, line["std_within"]).fillna(0)
                ax.plot(
                    line["n_genes"],
                    line["mean"],
                    label=_readable(curve),
                    lw=1.5,
                    color=colors[curve],
                    ls="--" if _is_control(curve) else "-",
                )
                ax.fill_between(
                    line["n_genes"],
                    line["mean"] - band,
                    line["mean"] + band,
                    color=colors[curve],
                    alpha=0.15,
                    lw=0,
                )
            k = panel["n_genes"]
            if (k > 0).all() and k.max() > 30 * k.min():
                ax.set_xscale("log")
            ax.set_title(series_label(key), fontsize=10)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            ax.grid(alpha=0.3)
        _legend(fig, axes)
        fig.suptitle(str(dataset))
        yield str(dataset), _data_uri(fig)


def stability_figure(stability: pd.DataFrame) -> str:
    """A model × model heatmap of the mean stability per dataset and metric."""
    panels = list(stability.groupby(["dataset", "metric", "variant"], sort=True))
    models = sorted(set(stability["model_a"]) | set(stability["model_b"]))
    index = {m: i for i, m in enumerate(models)}
    side = 1.6 + 0.45 * len(models)
    fig, axes = _figure(len(panels), size=(side + 0.8, side), legend=False)
    for ax, ((dataset, metric, variant), panel) in zip(axes, panels, strict=True):
        grid = np.full((len(models), len(models)), np.nan)
        i, j = panel["model_a"].map(index).to_numpy(), panel["model_b"].map(index).to_numpy()
        grid[i, j] = grid[j, i] = panel["mean"].to_numpy()
        image = ax.imshow(grid, cmap="viridis")
        ax.set_xticks(range(len(models)), models, rotation=30, ha="right")
        ax.set_yticks(range(len(models)), models)
        middle = np.nanmean(grid)
        for (r, c), value in np.ndenumerate(grid):
            if np.isfinite(value):
                color = "white" if value < middle else "black"
                ax.text(c, r, f"{value:.2f}", ha="center", va="center", fontsize=8, color=color)
        fig.colorbar(image, ax=ax, shrink=0.8)
        ax.set_title(series_label((dataset, _readable(f"{metric} {variant}".strip()))), fontsize=10)
    return _data_uri(fig)


def completeness_figure(completeness: pd.DataFrame) -> str:
    """Histograms of the completeness deltas on a log axis, one panel per dataset."""
    from matplotlib.ticker import MaxNLocator

    datasets = sorted(completeness["dataset"].unique())
    fig, axes = _figure(len(datasets))
    positive = completeness["delta"][completeness["delta"] > 0]
    low = np.floor(np.log10(positive.min())) if len(positive) else -8.0
    high = np.ceil(np.log10(max(completeness["delta"].max(), DELTA_THRESHOLD))) + 0.5
    bins = np.logspace(low, high, 40)
    for ax, dataset in zip(axes, datasets, strict=True):
        rows = completeness[completeness["dataset"] == dataset]
        for key, group in rows.groupby(["model", "method"], sort=True):
            # exact zeros have no place on a log axis: they go in the first bin
            ax.hist(
                group["delta"].clip(lower=bins[0]),
                bins=bins,
                histtype="step",
                lw=1.5,
                label=series_label(key),
            )
        ax.axvline(DELTA_THRESHOLD, color="firebrick", ls=":", lw=1.2)
        ax.set_xscale("log")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("|Σ attributions − ΔF|  (probability)")
        ax.set_ylabel("examples")
        ax.set_title(str(dataset), fontsize=10)
    _legend(fig, axes)
    return _data_uri(fig)


def class_count_figure(class_counts: pd.DataFrame) -> str:
    """Samples per class, stacked by split, one panel per dataset."""
    datasets = sorted(class_counts["dataset"].unique())
    fig, axes = _figure(len(datasets))
    for ax, dataset in zip(axes, datasets, strict=True):
        # sort=False keeps the class-index order of the prepared file
        counts = class_counts[class_counts["dataset"] == dataset].pivot_table(
            index="class",
            columns="split",
            values="n_samples",
            aggfunc="sum",
            fill_value=0,
            sort=False,
        )
        bottom = np.zeros(len(counts))
        for split in sorted(counts.columns, key=lambda s: (s != keys.TRAIN, s)):
            ax.bar(
                range(len(counts)),
                counts[split],
                bottom=bottom,
                label=split,
                color={keys.TRAIN: "C0", keys.TEST: "C1"}.get(split),
            )
            bottom += counts[split].to_numpy()
        many = len(counts) > 8
        ax.set_xticks(
            range(len(counts)), counts.index, rotation=90 if many else 0, fontsize=7 if many else 9
        )
        ax.set_ylabel("samples")
        ax.set_title(str(dataset), fontsize=10)
    _legend(fig, axes)
    return _data_uri(fig)
