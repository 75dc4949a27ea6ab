"""genexai.simulation._sampler against the paper's tables and plain re-implementations.

Statistical tests compare sample moments with a z-score bounded by 5: for
one gene a false alarm has probability ~6e-7, so the ~100 genes of a test
fail together less than once in 10^4 runs, whatever the seed.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

from genexai.simulate import CONFIGS, SimulationConfig
from genexai.simulation import (
    POISSON_SLACK,
    categorical_counts,
    class_sizes,
    draw_parameters,
    mixture,
    sample_counts,
    sample_matrix,
)
from tests.helpers.simulation import BLOCK, RANDOM

Z_MAX = 5.0


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
