"""genexai.simulation._configs: the paper's configurations, overrides, parsers and errors."""

from __future__ import annotations

import pytest

from genexai.errors import InputError
from genexai.simulate import CONFIGS, get_config, parse_merge, parse_proportions
from genexai.simulation import class_sizes

# --- configurations ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "n_classes", "n_task", "n_genes", "n_pathways", "n_over", "layout", "n_samples"),
    [
        ("SIMU1", 33, 33, 15_000, 1_500, 37, "block", 9_900),
        ("SIMU2", 33, 33, 15_000, 3_000, 37, "random", 9_900),
        ("SimuA", 2, 2, 50_000, 5_000, 500, "block", 1_200),
        ("SimuB", 4, 2, 50_000, 5_000, 500, "block", 1_200),
        ("SimuC", 6, 2, 50_000, 5_000, 500, "block", 1_200),
    ],
)
def test_paper_configurations(
    *, name, n_classes, n_task, n_genes, n_pathways, n_over, layout, n_samples
):
    config = CONFIGS[name]
    got = (config.n_classes, config.n_genes, config.n_pathways, config.n_over)
    assert got == (n_classes, n_genes, n_pathways, n_over)
    assert (config.layout, config.n_samples) == (layout, n_samples)
    assert (config.genes_per_pathway, config.n_reads) == (10, 1_500_000)
    assert config.resolved_min_prop() == pytest.approx(0.01)
    assert config.task_classes().max() + 1 == n_task
    if n_task < n_classes:  # method.md §1.6: 0 … C-2 -> class 0, C-1 -> class 1
        assert config.task_classes().tolist() == [0] * (n_classes - 1) + [1]
    sizes = class_sizes(n_samples, config.resolved_proportions())
    assert (sizes == n_samples // n_classes).all()


# --- errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "overrides", "match"),
    [
        pytest.param("SIMU9", {}, r"^name: .*one of SIMU1.*'SIMU9'", id="config"),
        pytest.param("test", {"n_genes": 0}, r"n_genes: expected a positive", id="genes"),
        pytest.param("test", {"n_pathways": -1}, r"^n_pathways: expected", id="pathways"),
        pytest.param("test", {"n_reads": 0}, r"^n_reads: expected a positive", id="reads"),
        pytest.param("test", {"n_classes": 1}, r"n_classes: expected an integer >= 2", id="cls"),
        pytest.param("test", {"n_samples": 3}, r"n_samples: expected an integer >= 4", id="n"),
        pytest.param("test", {"n_over": 51}, r"n_over: .* found 51 \* 4 = 204", id="over"),
        pytest.param("test", {"n_pathways": 150}, r"n_genes: the block layout", id="block"),
        pytest.param("test", {"class_gap": 0.0}, r"class_gap: expected a positive", id="gap"),
        pytest.param("test", {"alpha_scale": -4.0}, r"^alpha_scale: expected", id="alpha"),
        pytest.param("test", {"eta_concentration": float("nan")}, r"^eta_concentration:", id="eta"),
        pytest.param("test", {"layout": "grid"}, r"^layout: expected one of", id="layout"),
        pytest.param("test", {"min_prop": 0.1}, r"min_prop: expected 0 <= min_prop", id="min"),
        pytest.param(
            "test",
            {"layout": "random", "genes_per_pathway": 3_000},
            r"genes_per_pathway: expected at most n_genes",
            id="random-size",
        ),
        pytest.param(
            "test", {"class_proportions": (0.5, 0.5)}, r"class_proportions: expected 4", id="p"
        ),
        pytest.param(
            "test", {"class_proportions": (0.5, 0.5, 0.5, 0.5)}, r"summing to 1", id="p-sum"
        ),
        pytest.param("test", {"class_proportions": (1.2, -0.2, 0.0, 0.0)}, r"positive", id="p-neg"),
        pytest.param("test", {"merge": (0, 1)}, r"merge: expected 4 integer", id="merge-len"),
        pytest.param("test", {"merge": (0, 0, 2, 2)}, r"merge: .*every value", id="merge-gap"),
        pytest.param("test", {"merge": (0, 0, 0, 0)}, r"merge: .*T >= 2", id="merge-one"),
        pytest.param("test", {"merge": "pairs"}, r"merge: expected one of", id="merge-rule"),
    ],
)
def test_bad_config(name, overrides, match):
    with pytest.raises(InputError, match=match):
        get_config(name, **overrides)


def test_get_config_overrides():
    config = get_config("simu1", n_samples=None, n_over=3, merge="last_vs_rest")
    assert config.name == "SIMU1" and config.n_over == 3 and config.n_samples == 9_900
    assert config.task_classes().sum() == 1


@pytest.mark.parametrize(
    ("parse", "text", "expected"),
    [
        (parse_proportions, "0.25,0.75", (0.25, 0.75)),
        (parse_merge, "0,0,1", (0, 0, 1)),
        (parse_merge, "last_vs_rest", "last_vs_rest"),
    ],
)
def test_parsers(parse, text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("parse", "text", "match"),
    [(parse_proportions, "0.5;0.5", "^class_proportions: "), (parse_merge, "0,a", "^merge: ")],
)
def test_parser_errors(parse, text, match):
    with pytest.raises(InputError, match=match):
        parse(text)
