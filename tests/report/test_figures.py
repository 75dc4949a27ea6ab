"""genexai.report._figures: the figure objects themselves (tick labels, axes, colour scales).

Each test inspects the matplotlib :class:`~matplotlib.figure.Figure` that a
``draw_*`` function returns, as drawn by Agg: tick-label boxes from the
renderer (``get_window_extent``), axis limits, and the norms of the heatmaps.
"""

from __future__ import annotations

import itertools
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.transforms import Bbox

from genexai import keys
from genexai.report import _figures, collect_results, render_report
from genexai.report._tables import metric_labels, paper_table

LONG_MODELS = ("DiffuseMLP", "DiffuseLR")
LONG_METHOD = "integrated_gradients"


def overlapping_tick_labels(fig) -> list[tuple[str, str]]:
    """Pairs of shown tick labels of one axis whose boxes on the canvas intersect."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    found = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis in (ax.xaxis, ax.yaxis):
            labels = [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            boxes = [t.get_window_extent(renderer) for t in labels]
            for (a, ta), (b, tb) in itertools.combinations(zip(boxes, labels, strict=True), 2):
                both = Bbox.intersection(a, b)
                if both is not None and both.width > 0.5 and both.height > 0.5:
                    found.append((ta.get_text(), tb.get_text()))
    return found


def tidy_metrics(metrics: dict[tuple[str, str], float], *, models=LONG_MODELS, seeds=(0, 1)):
    """Tidy metric rows (METRIC_COLUMNS) of dataset SIMU1: ``{(metric, variant): top}``,
    values drawn uniformly below ``top``."""
    rng = np.random.default_rng(0)
    rows = [
        ("SIMU1", model, seed, LONG_METHOD, metric, variant, rng.uniform(0, top))
        for model, seed in itertools.product(models, seeds)
        for (metric, variant), top in metrics.items()
    ]
    return pd.DataFrame(rows, columns=keys.METRIC_COLUMNS)


def bars(metrics: pd.DataFrame, ylabel: str = "percent"):
    return _figures.draw_bars(paper_table(metrics), metric_labels(metrics), ylabel=ylabel)


def test_the_overlap_check_can_fail():
    fig = Figure(figsize=(3, 2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.set_xticks(range(6), [f"DiffuseMLP · {LONG_METHOD} {i}" for i in range(6)])
    assert overlapping_tick_labels(fig)


def test_two_bar_panels_have_no_overlapping_tick_labels():
    """Two long model · method names under two bars each (the accuracy panel)."""
    metrics = tidy_metrics({("balanced_accuracy", ""): 100, ("train_accuracy", ""): 100})
    fig = bars(metrics)
    names = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert names == ["DiffuseLR\nintegrated gradients", "DiffuseMLP\nintegrated gradients"]
    assert overlapping_tick_labels(fig) == []


@pytest.mark.parametrize("n_models", [4, 12, 40])
def test_crowded_bar_panels_have_no_overlapping_tick_labels(n_models):
    models = tuple(f"DiffuseMLP{i:02d}" for i in range(n_models))
    metrics = tidy_metrics({("pgi", "local"): 60, ("pgu", "local"): 60}, models=models)
    fig = bars(metrics)
    assert overlapping_tick_labels(fig) == []
    shown = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert len(shown) >= n_models // 4  # thinned at worst, never emptied


def bar_labels(ax) -> set[str]:
    return {c.get_label() for c in ax.containers if isinstance(c, BarContainer)}


def test_fa_auroc_has_its_own_axis_within_0_1():
    metrics = tidy_metrics(
        {
            ("fa", "global_mean_score"): 100,
            ("fa_precision@k", "global_mean_score"): 100,
            ("fa_auroc", "global_mean_score"): 1,
            ("fa_auroc", "global_mean_score_diffused"): 1,
        }
    )
    fig = bars(metrics, ylabel="feature agreement (%)")
    by_metric = {}
    for ax in fig.axes:
        for metric in bar_labels(ax):
            by_metric.setdefault(metric, []).append(ax)
    assert set(by_metric) == {"fa", "fa precision@k", "fa auroc"}
    assert len(by_metric["fa auroc"]) == 2
    for ax in by_metric["fa auroc"]:
        low, high = ax.get_ylim()
        assert 0 <= low < high <= 1
        assert bar_labels(ax) == {"fa auroc"}
        assert "%" not in ax.get_ylabel()
    for ax in by_metric["fa"]:
        assert ax.get_ylim()[1] > 1
        assert ax.get_ylabel() == "feature agreement (%)"
    assert overlapping_tick_labels(fig) == []


def stability_summary(
    *, classes=(), methods=("integrated_gradients",), models=("LR", "MLP"), low=0.71, high=0.72
):
    """STABILITY summaries of SIMU1 (STABILITY_SUMMARY_COLUMNS): overall, class_mean and
    ``class:<c>`` for each class, means drawn in [low, high]."""
    rng = np.random.default_rng(1)
    variants = ["overall", *(["class_mean"] if classes else []), *(f"class:{c}" for c in classes)]
    rows = [
        ("SIMU1", method, a, b, metric, variant, 3, rng.uniform(low, high), 0.05)
        for method in methods
        for a, b in itertools.combinations_with_replacement(models, 2)
        for metric in ("jaccard@10", "spearman")
        for variant in variants
    ]
    return pd.DataFrame(rows, columns=keys.STABILITY_SUMMARY_COLUMNS)


def heatmaps(fig) -> list[AxesImage]:
    return [image for ax in fig.axes for image in ax.get_images()]


@pytest.mark.parametrize(("low", "high"), [(0.71, 0.72), (-0.2, 0.3)])
def test_every_stability_heatmap_is_on_one_fixed_0_1_scale(low, high):
    table = stability_summary(classes=("C0", "C1", "C2"), methods=("ig", "wilcoxon"), low=low)
    table["mean"] = np.linspace(low, high, len(table))
    figures = [
        _figures.draw_stability(table),
        *(fig for _, fig in _figures.draw_class_stability(table)),
    ]
    assert len(figures) == 3  # the summary, then one per method
    for fig in figures:
        images = heatmaps(fig)
        assert images
        for image in images:
            assert (image.norm.vmin, image.norm.vmax) == (0.0, 1.0)
            assert image.get_cmap().name == _figures.HEATMAP_CMAP
        # one colour bar for all the panels, on the same scale
        bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
        assert len(bars) == 1
        assert overlapping_tick_labels(fig) == []
    # the summary holds no per-class panel; the per-class figures hold every class
    assert all("class:" not in ax.get_title() for ax in figures[0].axes)
    rows = [t.get_text() for t in figures[1].axes[0].get_yticklabels()]
    assert rows == ["C0", "C1", "C2"]


def test_per_class_stability_with_many_classes_fits():
    classes = tuple(f"C{i}" for i in range(30))
    (title, fig), *rest = _figures.draw_class_stability(stability_summary(classes=classes))
    assert rest == [] and title == "SIMU1 · integrated gradients"
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == list(classes)
    assert overlapping_tick_labels(fig) == []


def test_per_class_curves_are_left_out_of_the_curve_figures():
    rows = [
        ("SIMU1", "LR", "ig", curve, n, 1, 50.0 + n, 0.0, np.nan)
        for curve in ("keep_best", "class_keep_best:C0", "class_remove_best:C1")
        for n in (1, 2, 5, 10)
    ]
    curves = pd.DataFrame(
        rows,
        columns=["dataset", "model", "method", "curve", "n_genes", "n_seeds", "mean", "std"]
        + ["std_within"],
    )
    ((dataset, fig),) = _figures.draw_curves(curves, ylabel="%", xlabel="genes")
    lines = [line.get_label() for ax in fig.axes for line in ax.get_lines()]
    assert dataset == "SIMU1" and lines == ["keep best"]


# --- the page with many classes ---------------------------------------------


class _Figures(HTMLParser):
    """Each <img> of the stability section, and whether a <details> encloses it."""

    def __init__(self) -> None:
        super().__init__()
        self.section: list[str] = []
        self.details = 0
        self.images: list[tuple[bool, str]] = []  # (inside <details>, alt)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.section.append(attrs.get("id", ""))
        elif tag == "details":
            self.details += 1
        elif tag == "img" and self.section and self.section[-1] == "stability":
            self.images.append((self.details > 0, attrs.get("alt", "")))

    def handle_endtag(self, tag):
        if tag == "section":
            self.section.pop()
        elif tag == "details":
            self.details -= 1


def test_many_classes_give_one_summary_figure_and_collapsed_per_class_panels(
    tmp_path, synthetic_results
):
    classes = tuple(f"C{i}" for i in range(30))
    folder = synthetic_results(
        tmp_path, datasets=("SIMU1",), seeds=(0, 1), n_classes=30, n_samples=90
    )
    stability_summary(classes=classes).to_csv(
        folder / "SIMU1.stability_summary.tsv", sep="\t", index=False
    )
    html = render_report(collect_results(folder), params={}, versions="")
    parser = _Figures()
    parser.feed(html)
    outside = [alt for inside, alt in parser.images if not inside]
    inside = [alt for inside, alt in parser.images if inside]
    assert len(outside) == 1 and outside[0].startswith("Mean agreement over pairs of runs")
    assert inside and all(alt.startswith("Mean agreement per class") for alt in inside)
    section = html[html.index('<section id="stability">') :]
    section = section[: section.index("</section>")]
    assert '<details class="per-class">' in section
