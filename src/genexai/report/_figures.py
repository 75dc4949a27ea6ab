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

from ._tables import DELTA_THRESHOLD

#: Panels per figure row.
NCOLS = 3
PANEL_W, PANEL_H = 3.6, 2.8  # inches; at DPI this fits a 1100-px page
DPI = 100


def _figure(n_panels: int, *, ncols: int = NCOLS, height: float = PANEL_H):
    """A figure with a grid of ``n_panels`` axes (unused cells hidden)."""
    # matplotlib caches fonts under MPLCONFIGDIR, falling back to ~/.config;
    # a per-user temp dir survives a read-only HOME (containers, clusters).
    os.environ.setdefault(
        "MPLCONFIGDIR", os.path.join(tempfile.gettempdir(), f"genexai-mpl-{os.getuid()}")
    )
    from matplotlib.figure import Figure

    ncols = min(ncols, n_panels)
    nrows = -(-n_panels // ncols)
    fig = Figure(figsize=(PANEL_W * ncols, height * nrows), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def _data_uri(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _series_label(values: tuple) -> str:
    """``"mlp · ig"``: the non-empty parts of a (model, method) key."""
    return " · ".join(str(v) for v in values if str(v) not in ("", "none"))


def _is_control(name: str) -> bool:
    """Random orders are the control; they are drawn grey so the eye goes to the others."""
    return "random" in name.lower() or name.lower().startswith("pgr")


def bar_figures(table: pd.DataFrame, labels: list[str], *, ylabel: str) -> Iterator[str]:
    """One grouped bar chart per dataset: models on x, one bar per metric label.

    ``table`` is a paper table (:func:`~genexai.report._tables.paper_table`);
    error bars are its std over seeds.
    """
    for dataset, rows in table.groupby("dataset", sort=True):
        fig, (ax,) = _figure(1, height=3.2)
        fig.set_size_inches(min(3 + 0.9 * len(rows) * max(len(labels), 1), 11), 3.4)
        names = [_series_label(r) for r in rows[["model", "method"]].itertuples(False)]
        x = np.arange(len(rows))
        width = 0.8 / len(labels)
        for i, label in enumerate(labels):
            ax.bar(
                x + (i - (len(labels) - 1) / 2) * width,
                rows[f"{label} mean"],
                width,
                yerr=rows[f"{label} std"],
                capsize=3,
                label=label,
                **({"color": "0.6"} if _is_control(label) else {}),
            )
        ax.set_xticks(x, names, rotation=20 if len(rows) > 4 else 0, ha="right" if len(rows) > 4 else "center")
        ax.set_ylabel(ylabel)
        ax.set_title(str(dataset))
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
        yield _data_uri(fig)


def curve_figures(curves: pd.DataFrame, *, ylabel: str, xlabel: str) -> Iterator[tuple[str, str]]:
    """One figure per dataset: a panel per model, a line per curve (mean over seeds).

    The band is ± the std over seeds, or, from a single seed, the run's own
    std (e.g. over random draws). Yields ``(dataset, data URI)``.
    """
    for dataset, rows in curves.groupby("dataset", sort=True):
        panels = list(rows.groupby(["model", "method"], sort=True))
        fig, axes = _figure(len(panels))
        for ax, ((model, method), panel) in zip(axes, panels, strict=True):
            for curve, line in panel.groupby("curve", sort=True):
                line = line.sort_values("n_genes")
                band = line["std"].where(line["n_seeds"] > 1, line["std_within"]).fillna(0)
                style = {"color": "0.45", "linestyle": "--"} if _is_control(curve) else {}
                drawn = ax.plot(line["n_genes"], line["mean"], label=curve, lw=1.5, **style)
                ax.fill_between(
                    line["n_genes"],
                    line["mean"] - band,
                    line["mean"] + band,
                    color=drawn[0].get_color(),
                    alpha=0.2,
                    lw=0,
                )
            if (panel["n_genes"] > 0).all() and panel["n_genes"].max() > 30 * panel["n_genes"].min():
                ax.set_xscale("log")
            ax.set_title(_series_label((model, method)), fontsize=10)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, frameon=False)
        fig.suptitle(str(dataset))
        yield str(dataset), _data_uri(fig)


def stability_figures(stability: pd.DataFrame) -> Iterator[str]:
    """Heatmaps of the mean stability over pairs of runs: model × model, one per metric."""
    for (dataset, metric, variant), rows in stability.groupby(
        ["dataset", "metric", "variant"], sort=True
    ):
        models = sorted(set(rows["model_a"]) | set(rows["model_b"]))
        index = {m: i for i, m in enumerate(models)}
        grid = np.full((len(models), len(models)), np.nan)
        i, j = rows["model_a"].map(index).to_numpy(), rows["model_b"].map(index).to_numpy()
        grid[i, j] = grid[j, i] = rows["mean"].to_numpy()
        size = 2.2 + 0.7 * len(models)
        fig, (ax,) = _figure(1)
        fig.set_size_inches(size + 1.2, size)
        image = ax.imshow(grid, cmap="viridis", vmin=np.nanmin(grid), vmax=np.nanmax(grid))
        ax.set_xticks(range(len(models)), models, rotation=30, ha="right")
        ax.set_yticks(range(len(models)), models)
        dark = np.nanmean(grid)
        for (r, c), value in np.ndenumerate(grid):
            if np.isfinite(value):
                ax.text(c, r, f"{value:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if value < dark else "black")
        fig.colorbar(image, ax=ax, shrink=0.8)
        ax.set_title(f"{dataset}: {metric} {variant}".strip(), fontsize=10)
        yield _data_uri(fig)


def completeness_figure(completeness: pd.DataFrame) -> str:
    """Histograms of the completeness deltas on a log axis, one panel per dataset."""
    datasets = sorted(completeness["dataset"].unique())
    fig, axes = _figure(len(datasets))
    positive = completeness["delta"][completeness["delta"] > 0]
    low = np.log10(positive.min()) if len(positive) else -8
    high = max(np.log10(max(completeness["delta"].max(), DELTA_THRESHOLD)), low + 1)
    floor = 10.0 ** np.floor(low)
    bins = np.logspace(np.floor(low), np.ceil(high), 40)
    for ax, dataset in zip(axes, datasets, strict=True):
        rows = completeness[completeness["dataset"] == dataset]
        for key, group in rows.groupby(["model", "method"], sort=True):
            ax.hist(group["delta"].clip(lower=floor), bins=bins, histtype="step", lw=1.5,
                    label=_series_label(key))
        ax.axvline(DELTA_THRESHOLD, color="firebrick", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_xlabel("|Σ attributions − ΔF|  (probability)")
        ax.set_ylabel("examples")
        ax.set_title(str(dataset), fontsize=10)
        ax.legend(fontsize=7, frameon=False)
    return _data_uri(fig)


def class_count_figure(class_counts: pd.DataFrame) -> str:
    """Samples per class, stacked by split, one panel per dataset."""
    datasets = sorted(class_counts["dataset"].unique())
    fig, axes = _figure(len(datasets), ncols=2)
    for ax, dataset in zip(axes, datasets, strict=True):
        counts = class_counts[class_counts["dataset"] == dataset].pivot_table(
            index="class", columns="split", values="n_samples", aggfunc="sum", fill_value=0
        )
        bottom = np.zeros(len(counts))
        for split in counts.columns:
            ax.bar(range(len(counts)), counts[split], bottom=bottom, label=split)
            bottom += counts[split].to_numpy()
        ax.set_xticks(range(len(counts)), counts.index, rotation=90 if len(counts) > 8 else 0,
                      fontsize=7 if len(counts) > 8 else 9)
        ax.set_ylabel("samples")
        ax.set_title(str(dataset), fontsize=10)
        ax.legend(fontsize=8, frameon=False)
    return _data_uri(fig)

