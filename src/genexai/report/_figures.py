"""The report's figures, as ``data:image/png;base64,...`` URIs.

``draw_*`` build the :class:`~matplotlib.figure.Figure` objects, laid out
and with tick labels that do not overlap (:func:`overlapping_labels`);
the ``*_figure(s)`` functions turn them into URIs.

Figures are built with matplotlib's object API (:class:`~matplotlib.figure.Figure`,
rendered by Agg) rather than pyplot, so no global backend or figure state is
touched. PNG metadata is stripped so the same results give the same bytes.
"""

from __future__ import annotations

import base64
import io
import os
import re
import tempfile
from collections.abc import Iterator

import numpy as np
import pandas as pd

from .. import keys
from ._tables import DELTA_THRESHOLD, natural_key, series_label

#: Panels per figure row, and their size in inches (at DPI, three panels and
#: a legend fill the report's 1100-px column).
NCOLS = 3
PANEL_W, PANEL_H = 3.3, 2.7
LEGEND_W = 1.5
DPI = 100
CONTROL_COLOR = "0.55"
#: Every stability heatmap shares this colour scale, so one colour is one
#: value in every panel and figure (Jaccard is in [0, 1]; a negative rank
#: correlation takes the lowest colour, its number is written in the cell).
HEATMAP_RANGE = (0.0, 1.0)
HEATMAP_CMAP = "viridis"
#: Metrics (by name, case-insensitive) on a [0, 1] scale, not in percent:
#: they get panels of their own, with a [0, 1] axis.
FRACTION_METRICS = re.compile(r"auroc", re.IGNORECASE)
#: Smallest tick-label font before labels are thinned out (points).
MIN_TICK_FONT = 6


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
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ncols = min(ncols, n_panels)
    nrows = -(-n_panels // ncols)
    width = size[0] * ncols + (LEGEND_W if legend else 0)
    fig = Figure(figsize=(width, size[1] * nrows + 0.3), dpi=DPI, layout="constrained")
    # an Agg canvas of its own: tick labels are measured on its renderer
    FigureCanvasAgg(fig)
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


def overlapping_labels(axis, renderer) -> bool:
    """Whether two shown tick labels of ``axis`` overlap on the canvas (1-px slack)."""
    boxes = [
        t.get_window_extent(renderer)
        for t in axis.get_ticklabels()
        if t.get_visible() and t.get_text()
    ]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if min(a.x1, b.x1) - max(a.x0, b.x0) > 1 and min(a.y1, b.y1) - max(a.y0, b.y0) > 1:
                return True
    return False


def _loosen(axis, stage: int) -> None:
    """One step towards tick labels that fit: rotate (x only), shrink, then thin out.

    Rotation comes first because it keeps every label at full size; thinning,
    which drops names, comes last.
    """
    steps = ["rotate"] if axis.axis_name == "x" else []
    steps += [f"font {size}" for size in range(8, MIN_TICK_FONT - 1, -1)]
    if stage < len(steps):
        if steps[stage] == "rotate":
            axis.set_tick_params(labelrotation=90)
            for label in axis.get_ticklabels():
                label.set_horizontalalignment("center")
        else:
            axis.set_tick_params(labelsize=int(steps[stage].split()[1]))
        return
    every = 2 ** (stage - len(steps) + 1)
    ticks = axis.get_ticklocs()
    names = [t.get_text() for t in axis.get_ticklabels()]
    axis.set_ticks(ticks, [n if i % every == 0 else "" for i, n in enumerate(names)])


def _fit_tick_labels(fig) -> None:
    """Loosen the tick labels of every panel until no two of them overlap.

    Measured on the renderer after each layout: constrained layout moves the
    panels when labels grow, so a fix is checked on the figure as drawn.
    """
    stages: dict[object, int] = {}
    for _ in range(16):
        # lays out and places every text without rasterising anything
        fig.draw_without_rendering()
        renderer = fig.canvas.get_renderer()
        crowded = [
            axis
            for ax in fig.axes
            if ax.get_visible()
            for axis in (ax.xaxis, ax.yaxis)
            if overlapping_labels(axis, renderer)
        ]
        if not crowded:
            return
        for axis in crowded:
            _loosen(axis, stages.get(axis, 0))
            stages[axis] = stages.get(axis, 0) + 1


def _data_uri(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _readable(name: str) -> str:
    return name.replace("_", " ")


def _is_control(name: str) -> bool:
    """Random orders are the control; they are drawn grey so the eye goes to the others."""
    return "random" in name.lower() or name.lower().startswith("pgr")


def is_fraction(metric: str) -> bool:
    """Whether ``metric`` is on a [0, 1] scale (:data:`FRACTION_METRICS`), not in percent."""
    return bool(FRACTION_METRICS.search(metric))


def bar_figure(table: pd.DataFrame, labels: pd.DataFrame, *, ylabel: str) -> str:
    """:func:`draw_bars` as a data URI."""
    return _data_uri(draw_bars(table, labels, ylabel=ylabel))


def draw_bars(table: pd.DataFrame, labels: pd.DataFrame, *, ylabel: str):
    """A panel per dataset × variant × scale: models on x, a bar per metric.

    Metrics on a [0, 1] scale (:func:`is_fraction`, e.g. ``fa_auroc``) get
    panels of their own with a [0, 1] axis; the others share ``ylabel``'s.

    Parameters
    ----------
    table
        A non-empty paper table (:func:`~genexai.report._tables.paper_table`);
        error bars are its std over seeds.
    labels
        Its metrics, from :func:`~genexai.report._tables.metric_labels`.
    ylabel
        The axis label of the percent panels.

    Returns
    -------
    The :class:`~matplotlib.figure.Figure`, tick labels fitted (none overlap).
    """
    metrics = list(dict.fromkeys(labels["metric"]))
    colors = {m: CONTROL_COLOR if _is_control(m) else f"C{i}" for i, m in enumerate(metrics)}
    labels = labels.assign(fraction=labels["metric"].map(is_fraction))
    groups = list(dict.fromkeys(zip(labels["variant"], labels["fraction"], strict=True)))
    datasets = sorted(table["dataset"].unique())
    n_models = table.groupby("dataset").size().max()
    per_panel = labels.groupby(["variant", "fraction"], sort=False).size().max()
    panel_w = min(max(PANEL_W, 1.0 + 0.22 * n_models * per_panel), 9.0)
    fits = max(1, int(10 // panel_w))
    # a row per dataset when its panels fit side by side, so that columns line up
    ncols = len(groups) if 1 < len(groups) <= fits else fits
    fig, axes = _figure(len(datasets) * len(groups), ncols=ncols, size=(panel_w, 3.0))
    panels = [(d, g) for d in datasets for g in groups]
    for ax, (dataset, (variant, fraction)) in zip(axes, panels, strict=True):
        rows = table[table["dataset"] == dataset]
        shown = labels[(labels["variant"] == variant) & (labels["fraction"] == fraction)]
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
        # model over method, one per line: long method names fit under two bars
        names = [
            "\n".join(_readable(str(v)) for v in key if str(v) not in ("", "none"))
            for key in rows[["model", "method"]].itertuples(index=False)
        ]
        ax.set_xticks(x, names)
        if fraction:
            ax.set_ylim(*HEATMAP_RANGE)
            only = shown["metric"].iloc[0] if len(shown) == 1 else "value"
            ax.set_ylabel(f"{_readable(only)} (0–1)")
        else:
            ax.set_ylabel(ylabel)
        ax.set_title(series_label((dataset, _readable(variant))), fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    _legend(fig, axes)
    _fit_tick_labels(fig)
    return fig


def is_class_curve(name: str) -> bool:
    """Per-class curves are named ``<curve>:<class>`` (EVALUATE's ``class_keep_best:C0``)."""
    return ":" in name


def curve_figures(curves: pd.DataFrame, *, ylabel: str, xlabel: str) -> Iterator[tuple[str, str]]:
    """:func:`draw_curves` as data URIs: yields ``(dataset, data URI)``."""
    for dataset, fig in draw_curves(curves, ylabel=ylabel, xlabel=xlabel):
        yield dataset, _data_uri(fig)


def draw_curves(curves: pd.DataFrame, *, ylabel: str, xlabel: str) -> Iterator[tuple[str, object]]:
    """One figure per dataset: a panel per model, a line per curve (mean over seeds).

    The band is ± the std over seeds, or, from a single seed, the run's own
    std (e.g. over random draws). Per-class curves (:func:`is_class_curve`)
    are left out: one line per class would bury the others; the report
    shows them per class elsewhere. Yields ``(dataset, Figure)``.
    """
    curves = curves[~curves["curve"].map(is_class_curve)]
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
        _fit_tick_labels(fig)
        yield str(dataset), fig


def is_class_variant(variant: str) -> bool:
    """STABILITY's per-class variants are ``class:<name>``; ``class_mean`` summarises them."""
    return str(variant).startswith("class:")


def _heatmap(ax, grid: np.ndarray, *, fontsize: float):
    """``grid`` on the fixed :data:`HEATMAP_RANGE` scale, each finite cell's value written in it."""
    from matplotlib.colors import Normalize

    image = ax.imshow(
        grid, cmap=HEATMAP_CMAP, norm=Normalize(*HEATMAP_RANGE), aspect="auto", interpolation="none"
    )
    # viridis is dark below the middle of its range, light above
    middle = sum(HEATMAP_RANGE) / 2
    for (r, c), value in np.ndenumerate(grid):
        if np.isfinite(value):
            color = "white" if value < middle else "black"
            text = ax.text(
                c, r, f"{value:.2f}", ha="center", va="center", fontsize=fontsize, color=color
            )
            # inside its cell: measuring it for the layout would only cost time
            text.set_in_layout(False)
    return image


def _colorbar(fig, axes, grids: list[np.ndarray]) -> None:
    """One colour bar for every panel: they share :data:`HEATMAP_RANGE`."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    low = min((np.nanmin(g) for g in grids if np.isfinite(g).any()), default=HEATMAP_RANGE[0])
    fig.colorbar(
        ScalarMappable(Normalize(*HEATMAP_RANGE), HEATMAP_CMAP),
        ax=list(axes),
        shrink=0.8,
        extend="min" if low < HEATMAP_RANGE[0] else "neither",
        label="mean agreement",
    )


def _pairs(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with ``pair``: ``LR`` for two seeds of one model, ``LR – MLP`` across models.

    Also returns the pair order as an ordered categorical: same-model pairs first.
    """
    same = rows["model_a"] == rows["model_b"]
    pair = np.where(same, rows["model_a"], rows["model_a"] + " – " + rows["model_b"])
    order = (
        pd.DataFrame({"same": same, "a": rows["model_a"], "b": rows["model_b"], "pair": pair})
        .sort_values(["same", "a", "b"], ascending=[False, True, True])["pair"]
        .drop_duplicates()
    )
    return rows.assign(pair=pd.Categorical(pair, categories=list(order), ordered=True))


def _pair_heatmaps(rows: pd.DataFrame, *, by: str, panel_keys: list[str], row_order: list[str]):
    """A panel per ``panel_keys`` group: ``by`` (rows, in ``row_order``) × model pairs."""
    rows = _pairs(rows)
    pairs = list(rows["pair"].cat.categories)
    panels = list(rows.groupby(panel_keys, sort=True, observed=True))
    width = 1.6 + 0.55 * len(pairs) + 0.08 * max(map(len, row_order))
    fig, axes = _figure(
        len(panels),
        # as many side by side as fit the report's column (11 in at DPI)
        ncols=max(1, min(NCOLS, int(11 // width))),
        size=(width, 1.3 + 0.22 * len(row_order)),
        legend=False,
    )
    grids = []
    for ax, (key, panel) in zip(axes, panels, strict=True):
        grid = (
            panel.pivot_table(
                index=by, columns="pair", values="mean", aggfunc="mean", observed=False
            )
            .reindex(index=row_order, columns=pairs)
            .to_numpy(dtype=float)
        )
        _heatmap(ax, grid, fontsize=6 if len(row_order) > 12 else 8)
        grids.append(grid)
        ax.set_xticks(range(len(pairs)), pairs)
        ax.set_yticks(range(len(row_order)), [_readable(r) for r in row_order])
        key = key if isinstance(key, tuple) else (key,)
        ax.set_title(series_label(tuple(_readable(str(k)) for k in key)), fontsize=10)
    _colorbar(fig, axes, grids)
    return fig


def stability_figure(stability: pd.DataFrame) -> str:
    """:func:`draw_stability` as a data URI."""
    return _data_uri(draw_stability(stability))


def draw_stability(stability: pd.DataFrame):
    """The summary: a methods × model-pairs heatmap per dataset, metric and non-class variant.

    Columns are the model pairs: ``LR`` compares seeds of one model,
    ``LR – MLP`` two models. Per-class variants (:func:`is_class_variant`)
    are left to :func:`draw_class_stability`; ``class_mean`` stands for them
    here. Every panel is on the fixed :data:`HEATMAP_RANGE` scale, with one
    colour bar.

    Parameters
    ----------
    stability
        STABILITY's summaries (the report's ``stability`` table: dataset,
        method, model_a, model_b, metric, variant, mean, ...), with at least
        one row whose variant is not per class.
    """
    rows = stability[~stability["variant"].map(is_class_variant)]
    methods = sorted(rows["method"].astype(str).unique())
    fig = _pair_heatmaps(
        rows.astype({"method": str}),
        by="method",
        panel_keys=["dataset", "metric", "variant"],
        row_order=methods,
    )
    _fit_tick_labels(fig)
    return fig


def class_stability_figures(stability: pd.DataFrame) -> Iterator[tuple[str, str]]:
    """:func:`draw_class_stability` as data URIs: yields ``(title, data URI)``."""
    for title, fig in draw_class_stability(stability):
        yield title, _data_uri(fig)


def draw_class_stability(stability: pd.DataFrame) -> Iterator[tuple[str, object]]:
    """Per-class stability: a figure per dataset × method, a classes × model-pairs panel per metric.

    Rows are the classes (``class:<name>`` variants, natural order: ``C2``
    before ``C10``), on the fixed :data:`HEATMAP_RANGE` scale. Groups without
    per-class rows yield nothing. Yields ``("<dataset> · <method>", Figure)``.
    """
    per_class = stability[stability["variant"].map(is_class_variant)]
    if per_class.empty:
        return
    per_class = per_class.assign(
        method=per_class["method"].astype(str),
        name=per_class["variant"].str.slice(len("class:")),
    )
    for key, rows in per_class.groupby(["dataset", "method"], sort=True):
        classes = sorted(rows["name"].unique(), key=lambda c: natural_key(pd.Series([c])).iloc[0])
        fig = _pair_heatmaps(rows, by="name", panel_keys=["metric"], row_order=classes)
        title = series_label(tuple(_readable(str(k)) for k in key))
        fig.suptitle(f"{title}: per class")
        _fit_tick_labels(fig)
        yield title, fig


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
    _fit_tick_labels(fig)
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
    _fit_tick_labels(fig)
    return _data_uri(fig)
