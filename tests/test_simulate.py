"""Tests of genexai.simulate and its kernels (genexai.simulation) against the
paper's tables and plain re-implementations.

Statistical tests compare sample moments with a z-score bounded by 5: for
one gene a false alarm has probability ~6e-7, so the ~100 genes of a test
fail together less than once in 10^4 runs, whatever the seed.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from genexai import keys
from genexai.errors import InputError
from genexai.simulate import (
    CONFIGS,
    SimulationConfig,
    get_config,
    parse_merge,
    parse_proportions,
    simulate,
)
from genexai.simulation import (
    POISSON_SLACK,
    _sampler,
    categorical_counts,
    class_sizes,
    draw_parameters,
    mixture,
    sample_counts,
    sample_matrix,
)

Z_MAX = 5.0

BLOCK = SimulationConfig("stat-block", 2, 60, 6, 2, 400, "block", genes_per_pathway=10)
RANDOM = SimulationConfig("stat-random", 2, 60, 12, 3, 400, "random", genes_per_pathway=5)


# --- plain reference implementations ---------------------------------------


def plain_two_stage(theta, beta, n_reads, rng):
    """The reference's read-level scheme: per sample, pathway counts, then
    per pathway, gene counts over that pathway's genes."""
    beta = sp.csr_matrix(beta)
    out = np.zeros((len(theta), beta.shape[1]), dtype=np.int64)
    for i, row in enumerate(theta):
        per_pathway = rng.multinomial(n_reads, row / row.sum())
        for p, m in enumerate(per_pathway):
            genes = beta.indices[beta.indptr[p] : beta.indptr[p + 1]]
            weights = beta.data[beta.indptr[p] : beta.indptr[p + 1]]
            out[i, genes] += rng.multinomial(m, weights / weights.sum())
    return out


def plain_class_sizes(n_samples, proportions):
    """Largest-remainder rounding written out with Python lists."""
    exact = [n_samples * p for p in proportions]
    sizes = [int(e // 1) for e in exact]
    by_fraction = sorted(range(len(exact)), key=lambda c: (-(exact[c] - sizes[c]), c))
    for c in by_fraction[: n_samples - sum(sizes)]:
        sizes[c] += 1
    return sizes


def plain_membership(n_pathways, n_genes, k, rng):
    """Independent Bernoulli(k / n_genes) memberships, redrawn while empty."""
    sizes, counts = [], np.zeros(n_genes)
    for _ in range(n_pathways):
        while not (member := rng.random(n_genes) < k / n_genes).any():
            pass
        sizes.append(member.sum())
        counts += member
    return np.array(sizes), counts


def exact_moments(alpha, beta, n_reads):
    """Mean and variance of each gene count given a Dirichlet(alpha) theta."""
    beta = np.asarray(sp.csr_matrix(beta).todense())
    a0 = alpha.sum()
    mean_q = alpha @ beta / a0
    var_q = (a0 * (alpha @ beta**2) - (alpha @ beta) ** 2) / (a0**2 * (a0 + 1))
    mean = n_reads * mean_q
    var = n_reads * mean_q * (1 - mean_q) + n_reads * (n_reads - 1) * var_q
    return mean, var


def z_means(a, b):
    se = np.sqrt(a.var(0, ddof=1) / len(a) + b.var(0, ddof=1) / len(b))
    return np.abs(a.mean(0) - b.mean(0)) / se


def var_se(x):
    centred = x - x.mean(0)
    m4 = (centred**4).mean(0)
    return np.sqrt(np.maximum(m4 - x.var(0) ** 2, 0) / len(x))


def z_vars(a, b):
    se = np.sqrt(var_se(a) ** 2 + var_se(b) ** 2)
    return np.abs(a.var(0, ddof=1) - b.var(0, ddof=1)) / se


def z_exact(x, mean, var):
    z_mean = np.abs(x.mean(0) - mean) / np.sqrt(var / len(x))
    z_var = np.abs(x.var(0, ddof=1) - var) / var_se(x)
    return z_mean, z_var


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


@pytest.mark.parametrize("name", ["SIMU1", "SIMU2", "SimuA"])
def test_paper_alpha_and_pathways(name):
    """Alpha is 4 on background pathways and 8 on a class's consecutive
    over-expressed block (method.md §1.2); SIMU2 pathways are non-empty."""
    config = CONFIGS[name]
    params = draw_parameters(config, np.random.default_rng(0))
    c, n_over = config.n_classes, config.n_over
    assert params.over_pathways.tolist() == np.arange(c * n_over).reshape(c, n_over).tolist()
    expected = np.full((c, config.n_pathways), 4.0)
    for k in range(c):
        expected[k, n_over * k : n_over * (k + 1)] = 8.0
    np.testing.assert_array_equal(params.alpha, expected)
    sizes = np.diff(params.beta.indptr)
    np.testing.assert_allclose(params.beta.sum(axis=1).A1, 1.0, rtol=1e-12)
    if config.layout == "block":
        assert (sizes == 10).all()
        assert (params.beta.indices == np.arange(config.n_genes)).all()
    else:
        assert sizes.min() >= 1
        assert abs(sizes.mean() - 10) < 5 * np.sqrt(10 / config.n_pathways)


def test_test_config_is_separable():
    adata = simulate(CONFIGS["test"], seed=3)
    x = np.log1p(adata.X)
    x = (x - x.mean(0)) / (x.std(0) + 1e-6)
    y = adata.obs[keys.LABEL].cat.codes.to_numpy()
    train = np.arange(len(y)) % 2 == 0
    model = LogisticRegression(max_iter=500).fit(x[train], y[train])
    assert model.score(x[~train], y[~train]) > 0.9


# --- output contract ---------------------------------------------------------


@pytest.mark.parametrize("config", [CONFIGS["test"], RANDOM], ids=["block", "random"])
def test_output_contract(config):
    adata = simulate(config, n_samples=41, seed=0)
    n, g = 41, config.n_genes
    assert adata.shape == (n, g)
    assert adata.X.dtype == np.float32
    np.testing.assert_allclose(adata.X.sum(1), 1e6, rtol=1e-5)  # float32 row sums
    assert adata.obs_names[0] == "sample00000"
    assert adata.var_names[0] == "G00000"
    label, subclass = adata.obs[keys.LABEL], adata.obs[keys.SUBCLASS]
    assert list(label.cat.categories) == [f"C{c}" for c in range(config.n_classes)]
    assert list(subclass.cat.categories) == [f"S{c}" for c in range(config.n_classes)]
    assert (label.cat.codes.to_numpy() == subclass.cat.codes.to_numpy()).all()

    uns = adata.uns[keys.UNS][keys.SIMULATE]
    members = uns[keys.PATHWAY_GENES]
    assert sp.issparse(members) and members.format == "csr" and members.dtype == bool
    assert members.shape == (config.n_pathways, g)
    assert uns[keys.ALPHA].dtype == np.float32
    assert uns[keys.ALPHA].shape == (config.n_classes, config.n_pathways)
    assert uns[keys.OVER_PATHWAYS].shape == (config.n_classes, config.n_over)
    for field in ("name", "n_genes", "n_pathways", "n_over", "layout", "n_reads", "class_gap"):
        assert uns[field] == getattr(config, field)
    assert uns["n_samples"] == n and uns["seed"] == 0
    assert uns["min_prop"] == pytest.approx(0.1 / config.genes_per_pathway)
    assert not any(
        isinstance(v, np.ndarray) and v.shape == (config.n_pathways, g) for v in uns.values()
    )

    informative = adata.varm[keys.INFORMATIVE]
    assert isinstance(informative, pd.DataFrame)
    assert list(informative.columns) == list(subclass.cat.categories)
    assert all(dtype == np.dtype(bool) for dtype in informative.dtypes)
    for c in range(config.n_classes):
        genes = members[uns[keys.OVER_PATHWAYS][c]].toarray().any(0)
        np.testing.assert_array_equal(informative.iloc[:, c].to_numpy(), genes)


@pytest.mark.parametrize(
    ("merge", "expected"),
    [
        ("last_vs_rest", [0, 0, 0, 1]),
        ((1, 0, 1, 0), [1, 0, 1, 0]),
        ("identity", [0, 1, 2, 3]),
    ],
)
def test_merge(merge, expected):
    config = dataclasses.replace(CONFIGS["test"], merge=merge, n_samples=40)
    adata = simulate(config, seed=0)
    sub = adata.obs[keys.SUBCLASS].cat.codes.to_numpy()
    task = adata.obs[keys.LABEL].cat.codes.to_numpy()
    np.testing.assert_array_equal(task, np.asarray(expected)[sub])
    np.testing.assert_array_equal(adata.uns[keys.UNS][keys.SIMULATE]["merge"], expected)
    assert adata.varm[keys.INFORMATIVE].shape == (config.n_genes, 4)


@pytest.mark.parametrize(
    ("n_samples", "proportions"),
    [
        (10, [1 / 3] * 3),
        (7, [0.5, 0.5]),
        (403, [0.25] * 4),
        (9_901, [1 / 33] * 33),
        (100, [0.1, 0.2, 0.7]),
        (11, [0.15, 0.15, 0.7]),
    ],
)
def test_class_sizes_match_plain(n_samples, proportions):
    sizes = class_sizes(n_samples, np.asarray(proportions))
    assert sizes.tolist() == plain_class_sizes(n_samples, proportions)
    assert sizes.sum() == n_samples
    assert (np.abs(sizes - n_samples * np.asarray(proportions)) < 1).all()


def test_no_empty_rows_when_not_divisible():
    adata = simulate(CONFIGS["test"], n_samples=403, seed=0)
    counts = adata.obs[keys.SUBCLASS].value_counts(sort=False).tolist()
    assert counts == [101, 101, 101, 100]
    assert (adata.X.sum(1) > 0).all()


def test_class_proportions():
    config = dataclasses.replace(CONFIGS["test"], class_proportions=(0.1, 0.2, 0.3, 0.4))
    adata = simulate(config, n_samples=100, seed=0)
    assert adata.obs[keys.SUBCLASS].value_counts(sort=False).tolist() == [10, 20, 30, 40]


# --- seeds and threads -------------------------------------------------------


def test_seeds_threads_and_chunks(monkeypatch):
    monkeypatch.setattr(_sampler, "CHUNK_ELEMENTS", 1 << 16)  # a few rows a chunk
    config = dataclasses.replace(CONFIGS["test"], n_samples=100)
    ticks = []
    one = simulate(config, seed=5, threads=1, progress=ticks.append)
    two = simulate(config, seed=5, threads=2)
    assert sum(ticks) == 100 and len(ticks) > 2
    np.testing.assert_array_equal(one.X, two.X)
    other = simulate(config, seed=6)
    assert not np.array_equal(one.X, other.X)
    more = simulate(config, n_samples=120, seed=5)
    uns_one, uns_more = (a.uns[keys.UNS][keys.SIMULATE] for a in (one, more))
    assert (uns_one[keys.PATHWAY_GENES] != uns_more[keys.PATHWAY_GENES]).nnz == 0


# --- the sampler against the two-stage scheme ----------------------------------


@pytest.mark.parametrize(
    "slack", [POISSON_SLACK, 0.0, -3.0], ids=["default", "half-over", "all-over"]
)
@pytest.mark.parametrize("n_reads", [30, 1_000, 1_500_000])
@pytest.mark.parametrize("config", [BLOCK, RANDOM], ids=["block", "random"])
def test_fixed_theta_matches_two_stage(config, n_reads, slack):
    """Given theta, both schemes are Multinomial(n_reads, theta @ beta)
    (method.md §1.8): compare per-gene means and variances with each other
    and with n q and n q (1 - q). Slack <= 0 sends about half or all of the
    rows through the multinomial fallback."""
    rng = np.random.default_rng(11)
    params = draw_parameters(config, rng)
    theta = np.tile(rng.dirichlet(params.alpha[0]), (2_000, 1))
    fast = sample_counts(mixture(theta, params.beta), n_reads, rng, slack=slack)
    plain = plain_two_stage(theta, params.beta, n_reads, rng)
    assert (fast.sum(1) == n_reads).all()

    q = np.asarray(theta[0] @ params.beta).ravel()
    live = q > 0
    assert (fast[:, ~live] == 0).all() and (plain[:, ~live] == 0).all()
    fast, plain, q = fast[:, live], plain[:, live], q[live]
    for x in (fast, plain):
        z_mean, z_var = z_exact(x, n_reads * q, n_reads * q * (1 - q))
        assert z_mean.max() < Z_MAX and z_var.max() < Z_MAX
    assert z_means(fast, plain).max() < Z_MAX
    assert z_vars(fast, plain).max() < Z_MAX


@pytest.mark.parametrize("reads", [0, 1, 7, 200])
def test_categorical_counts_match_multinomial(reads):
    """The top-up reads: Multinomial(reads, q) per row, rows independent,
    zero-probability genes never hit (at the start, middle and end)."""
    rng = np.random.default_rng(21)
    q = rng.dirichlet(np.full(40, 5.0))
    q[[0, 17, 39]] = 0
    q /= q.sum()
    rows = np.tile(q, (4_000, 1))
    per_row = np.full(4_000, reads)
    per_row[::2] = 0  # empty rows in between must not shift the others
    fast = categorical_counts(rows, per_row, rng)
    assert (fast.sum(1) == per_row).all()
    assert (fast[:, [0, 17, 39]] == 0).all()
    if reads > 1:
        plain = rng.multinomial(reads, q, size=2_000)
        live = q > 0
        a, b = fast[1::2][:, live], plain[:, live]
        z_mean, z_var = z_exact(a, reads * q[live], reads * q[live] * (1 - q[live]))
        assert z_mean.max() < Z_MAX and z_var.max() < Z_MAX
        assert z_means(a, b).max() < Z_MAX and z_vars(a, b).max() < Z_MAX


@pytest.mark.parametrize("n_reads", [1_000, 1_500_000])
@pytest.mark.parametrize("config", [BLOCK, RANDOM], ids=["block", "random"])
def test_simulation_matches_two_stage(config, n_reads):
    """Whole model, theta ~ Dirichlet(alpha_c): class-conditional per-gene
    means and variances of the fast path, of the two-stage scheme and their
    exact values agree within sampling error."""
    config = dataclasses.replace(config, n_reads=n_reads)
    rng = np.random.default_rng(12)
    params = draw_parameters(config, rng)
    subclass = np.repeat([0, 1], 2_000)
    fast = sample_matrix(
        config, params, subclass, np.random.SeedSequence(13), threads=1, progress=None
    )
    theta = np.concatenate([rng.dirichlet(params.alpha[c], size=2_000) for c in (0, 1)])
    plain = plain_two_stage(theta, params.beta, n_reads, rng) * (1e6 / n_reads)

    for c in (0, 1):
        mean, var = exact_moments(params.alpha[c], params.beta, n_reads)
        live = mean > 0
        scale = 1e6 / n_reads
        a, b = fast[subclass == c][:, live], plain[subclass == c][:, live]
        for x in (a, b):
            z_mean, z_var = z_exact(x, scale * mean[live], scale**2 * var[live])
            assert z_mean.max() < Z_MAX and z_var.max() < Z_MAX
        assert z_means(a, b).max() < Z_MAX
        assert z_vars(a, b).max() < Z_MAX
        assert (fast[subclass == c][:, ~live] == 0).all()

    # Genes over-expressed in class 0 only are higher in class 0 than in class 1.
    over = [np.unique(params.beta[params.over_pathways[c]].indices) for c in (0, 1)]
    genes = np.setdiff1d(*over)
    assert (fast[subclass == 0][:, genes].mean(0) > fast[subclass == 1][:, genes].mean(0)).all()


# --- parameters: validity re-draw and random memberships ---------------------


@pytest.mark.parametrize("layout", ["block", "random"])
def test_redraw_only_failing_pathways(layout):
    """min_prop = 0 accepts every draw; with min_prop = 0.05 only the failing
    over-expressed pathways may change, and they then pass."""
    config = dataclasses.replace(
        CONFIGS["test"], layout=layout, min_prop=0.0, n_pathways=200, n_genes=2_000
    )
    loose = draw_parameters(config, np.random.default_rng(1))
    strict = draw_parameters(dataclasses.replace(config, min_prop=0.05), np.random.default_rng(1))
    over = np.zeros(config.n_pathways, dtype=bool)
    over[strict.over_pathways] = True
    passed = np.array([row.data.min() >= 0.05 for row in loose.beta])
    changed = np.array(
        [(a != b).nnz > 0 or a.nnz != b.nnz for a, b in zip(loose.beta, strict.beta, strict=True)]
    )
    assert changed.any()
    assert not changed[~over | passed].any()
    assert all(row.data.min() >= 0.05 for row in strict.beta[over])
    assert not passed[~over].all()  # background pathways keep low weights


@pytest.mark.parametrize("seed", range(8))
def test_simu1_parameters_never_crash(seed):
    """The reference crashed for 6 of seeds 0-7 (method.md §1.5)."""
    params = draw_parameters(CONFIGS["SIMU1"], np.random.default_rng(seed))
    over = params.beta[params.over_pathways.ravel()]
    assert over.data.min() >= 0.01


def test_random_memberships_match_bernoulli():
    """Sizes and gene usage of the fast membership draw match independent
    Bernoulli memberships redrawn while empty (method.md §1.3)."""
    n_pathways, n_genes, k = 2_000, 300, 2
    config = SimulationConfig(
        "m", 2, n_genes, n_pathways, 1, 10, "random", genes_per_pathway=k, min_prop=0.0
    )
    beta = draw_parameters(config, np.random.default_rng(2)).beta
    sizes = np.diff(beta.indptr)
    plain_sizes, plain_counts = plain_membership(n_pathways, n_genes, k, np.random.default_rng(3))
    assert sizes.min() >= 1
    for row in beta:
        assert len(np.unique(row.indices)) == row.nnz
    se = np.sqrt(sizes.var() / n_pathways + plain_sizes.var() / n_pathways)
    assert abs(sizes.mean() - plain_sizes.mean()) < Z_MAX * se
    # Gene usage is uniform: chi-square with n_genes - 1 degrees of freedom.
    for counts in (np.bincount(beta.indices, minlength=n_genes), plain_counts):
        expected = counts.sum() / n_genes
        chi2 = ((counts - expected) ** 2 / expected).sum()
        assert abs(chi2 - (n_genes - 1)) < Z_MAX * np.sqrt(2 * (n_genes - 1))


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


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"seed": -1}, r"^seed: expected a non-negative", id="seed"),
        pytest.param({"seed": 0, "threads": 0}, r"^threads: expected a positive", id="threads"),
        pytest.param({"seed": 0, "n_samples": 0}, r"^n_samples: expected an", id="samples"),
    ],
)
def test_bad_simulate_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        simulate(CONFIGS["test"], **kwargs)


def test_empty_class_from_proportions():
    config = dataclasses.replace(CONFIGS["test"], class_proportions=(0.01, 0.33, 0.33, 0.33))
    with pytest.raises(InputError, match=r"n_samples: 20 samples leave generated class 0"):
        simulate(config, n_samples=20, seed=0)


def test_unsatisfiable_min_prop():
    config = get_config("test", min_prop=0.0999, n_samples=4)
    with pytest.raises(InputError, match=r"min_prop: .* after 1000 redraws"):
        simulate(config, seed=0)


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
