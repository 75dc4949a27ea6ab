"""Simulated gene expression with known biomarkers (method.md §1).

A hierarchical LDA-style model. Each generated class ``c`` (a *subclass*)
has a Dirichlet prior ``alpha[c]`` over pathways; its ``n_over``
over-expressed pathways get ``class_gap`` times the background weight. A
pathway ``p`` owns a set of genes with proportions ``beta[p] ~
Dirichlet(eta_concentration)`` on that set. One sample of class ``c`` draws
pathway proportions ``theta ~ Dirichlet(alpha[c])``, then ``n_reads`` reads,
each picking a pathway from ``theta`` and then a gene from ``beta[p]``; the
gene counts are scaled to counts per million.

Sampling uses the mixture form (method.md §1.8): given ``theta``, each read
lands on gene ``g`` with probability ``q[g] = sum_p theta[p] beta[p, g]``,
so the counts are exactly ``Multinomial(n_reads, q)``, one draw per sample
over the genes, instead of one draw per pathway. That multinomial is drawn
as Poisson counts topped up to ``n_reads`` (:func:`_sample_counts`), which
has the same law and costs less. The distribution is the two-stage one; the
random stream is not.

Fixes to the reference code (method.md §10): seeded; only the pathway that
fails the validity rule is redrawn; no all-zero rows when the number of
samples is not divisible by the number of classes; ``beta`` is sparse.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, NamedTuple, get_args

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import keys
from .errors import InputError

__all__ = [
    "CONFIGS",
    "Layout",
    "MergeRule",
    "SimulationConfig",
    "get_config",
    "parse_merge",
    "parse_proportions",
    "simulate",
]

logger = logging.getLogger(__name__)

#: ``block``: pathway ``p`` owns genes ``k p … k p + k - 1`` (``k`` =
#: genes_per_pathway, disjoint, covering every gene). ``random``: each gene
#: joins each pathway independently with probability ``k / n_genes``,
#: redrawn while the pathway is empty (pathways overlap).
Layout = Literal["block", "random"]
#: ``identity``: task class = generated class. ``last_vs_rest``: generated
#: classes ``0 … C-2`` become task class 0 and ``C-1`` becomes class 1
#: (SimuB, SimuC; method.md §1.6).
MergeRule = Literal["identity", "last_vs_rest"]

#: Genes × samples (and extra reads) per chunk of samples: arrays of 8 MiB
#: per thread stay below glibc's mmap threshold, so their memory is reused
#: between chunks instead of page-faulted in again (measured: 8x fewer faults
#: and ~10% less CPU than 32 MiB chunks at SIMU1 size).
CHUNK_ELEMENTS = 1 << 20
#: Standard deviations of the Poisson total kept below the reads (see
#: :func:`_sample_counts`).
POISSON_SLACK = 2.0
#: Redraw rounds before the validity rule is declared unsatisfiable.
MAX_REDRAW_ROUNDS = 1000


def _option(field: str) -> str:
    return "--" + field.replace("_", "-")


@dataclasses.dataclass(frozen=True)
class SimulationConfig:
    """Every parameter of a simulation; validated on construction.

    Parameters
    ----------
    name
        Configuration name, recorded in the output.
    n_classes
        Generated classes (subclasses), ``>= 2``.
    n_genes, n_pathways
        Genes and pathways. The block layout needs
        ``n_genes == genes_per_pathway * n_pathways``.
    n_over
        Over-expressed pathways per generated class; class ``c`` owns
        pathways ``n_over c … n_over c + n_over - 1``, so
        ``n_over * n_classes <= n_pathways``.
    n_samples
        Samples, ``>= n_classes`` (every class gets at least one).
    layout
        Pathway → gene structure, see :data:`Layout`.
    genes_per_pathway
        Genes per pathway (block) or expected genes per pathway (random).
    class_gap
        Prior weight of an over-expressed pathway relative to a background
        one (paper: 2).
    alpha_scale
        Factor on the whole prior (paper: 4, so background 4, over 8).
    eta_concentration
        Concentration of ``beta[p] ~ Dirichlet(eta_concentration · 1)`` on the
        pathway's genes (paper: 5).
    n_reads
        Reads per sample (paper: 1.5e6); the output is per million reads.
    class_proportions
        Fraction of samples per generated class, summing to 1; ``None``:
        equal.
    min_prop
        Validity rule: every gene of an over-expressed pathway has
        ``beta >= min_prop``, else that pathway is redrawn; ``None``:
        ``0.1 / genes_per_pathway`` (paper: 0.01).
    merge
        Generated class → task class: a :data:`MergeRule` or one task class
        index per generated class, using every index from 0 up.
    """

    name: str
    n_classes: int
    n_genes: int
    n_pathways: int
    n_over: int
    n_samples: int
    layout: Layout = "block"
    genes_per_pathway: int = 10
    class_gap: float = 2.0
    alpha_scale: float = 4.0
    eta_concentration: float = 5.0
    n_reads: int = 1_500_000
    class_proportions: tuple[float, ...] | None = None
    min_prop: float | None = None
    merge: MergeRule | tuple[int, ...] = "identity"

    def __post_init__(self) -> None:
        for field in ("n_genes", "n_pathways", "n_over", "genes_per_pathway", "n_reads"):
            _check_int(field, getattr(self, field), minimum=1)
        _check_int("n_classes", self.n_classes, minimum=2)
        _check_int("n_samples", self.n_samples, minimum=self.n_classes)
        for field in ("class_gap", "alpha_scale", "eta_concentration"):
            value = getattr(self, field)
            if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
                msg = f"{_option(field)}: expected a positive number, found {value!r}"
                raise InputError(msg)
        if self.layout not in get_args(Layout):
            msg = f"--layout: expected one of {get_args(Layout)}, found {self.layout!r}"
            raise InputError(msg)
        if self.n_over * self.n_classes > self.n_pathways:
            msg = (
                f"--n-over: expected n_over * n_classes <= n_pathways ({self.n_pathways}), "
                f"found {self.n_over} * {self.n_classes} = {self.n_over * self.n_classes}"
            )
            raise InputError(msg)
        if self.layout == "block" and self.n_genes != self.genes_per_pathway * self.n_pathways:
            msg = (
                f"--n-genes: the block layout needs n_genes = genes_per_pathway * n_pathways "
                f"= {self.genes_per_pathway} * {self.n_pathways} = "
                f"{self.genes_per_pathway * self.n_pathways}, found {self.n_genes}"
            )
            raise InputError(msg)
        if self.layout == "random" and self.genes_per_pathway > self.n_genes:
            msg = (
                f"--genes-per-pathway: expected at most n_genes ({self.n_genes}) with the "
                f"random layout, found {self.genes_per_pathway}"
            )
            raise InputError(msg)
        if self.min_prop is not None and not 0 <= self.min_prop < 1 / self.genes_per_pathway:
            msg = (
                f"--min-prop: expected 0 <= min_prop < 1/genes_per_pathway "
                f"({1 / self.genes_per_pathway:g}), found {self.min_prop!r}"
            )
            raise InputError(msg)
        self._check_proportions()
        self.task_classes()  # validates merge

    def _check_proportions(self) -> None:
        props = self.class_proportions
        if props is None:
            return
        if len(props) != self.n_classes:
            msg = (
                f"--class-proportions: expected {self.n_classes} values (one per "
                f"generated class), found {len(props)}"
            )
            raise InputError(msg)
        values = np.asarray(props, dtype=float)
        if not (np.isfinite(values).all() and (values > 0).all()):
            shown = ",".join(f"{v:g}" for v in values)
            msg = f"--class-proportions: expected positive numbers, found {shown}"
            raise InputError(msg)
        if abs(values.sum() - 1) > 1e-6:
            msg = f"--class-proportions: expected values summing to 1, found sum {values.sum():g}"
            raise InputError(msg)

    def task_classes(self) -> np.ndarray:
        """Task class index of each generated class, int64 ``(n_classes,)``."""
        if self.merge == "identity":
            return np.arange(self.n_classes)
        if self.merge == "last_vs_rest":
            return (np.arange(self.n_classes) == self.n_classes - 1).astype(np.int64)
        if isinstance(self.merge, str):
            msg = (
                f"--merge: expected one of {get_args(MergeRule)} or a list of task class "
                f"indices, found {self.merge!r}"
            )
            raise InputError(msg)
        mapping = np.asarray(self.merge)
        shown = ",".join(str(v) for v in self.merge)
        if len(mapping) != self.n_classes or mapping.dtype.kind not in "iu":
            msg = (
                f"--merge: expected {self.n_classes} integer task class indices (one per "
                f"generated class), found {shown}"
            )
            raise InputError(msg)
        n_task = mapping.max() + 1 if len(mapping) else 0
        if mapping.min() < 0 or n_task < 2 or len(np.unique(mapping)) != n_task:
            msg = (
                f"--merge: expected task class indices using every value 0 … T-1 with "
                f"T >= 2, found {shown}"
            )
            raise InputError(msg)
        return mapping.astype(np.int64)

    def resolved_min_prop(self) -> float:
        """The validity threshold in use (``0.1 / genes_per_pathway`` by default)."""
        return 0.1 / self.genes_per_pathway if self.min_prop is None else float(self.min_prop)

    def resolved_proportions(self) -> np.ndarray:
        """Fraction of samples per generated class, float64 ``(n_classes,)``."""
        if self.class_proportions is None:
            return np.full(self.n_classes, 1 / self.n_classes)
        return np.asarray(self.class_proportions, dtype=float)


def _check_int(field: str, value: Any, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        msg = f"{_option(field)}: expected {what}, found {value!r}"
        raise InputError(msg)


def _paper(name: str, **sizes: Any) -> SimulationConfig:
    """A configuration with the paper's reads, prior, gap and concentration."""
    return SimulationConfig(
        name=name, n_reads=1_500_000, class_gap=2.0, alpha_scale=4.0, eta_concentration=5.0, **sizes
    )


_SIMU = {"n_classes": 33, "n_genes": 15_000, "n_over": 37, "n_samples": 9_900}
_SIMU_ABC = {"n_genes": 50_000, "n_pathways": 5_000, "n_over": 500, "n_samples": 1_200}

#: The paper's configurations (method.md §1.4) and a small ``test`` one.
CONFIGS: dict[str, SimulationConfig] = {
    c.name: c
    for c in (
        _paper("SIMU1", n_pathways=1_500, layout="block", **_SIMU),
        _paper("SIMU2", n_pathways=3_000, layout="random", **_SIMU),
        _paper("SimuA", n_classes=2, **_SIMU_ABC),
        _paper("SimuB", n_classes=4, merge="last_vs_rest", **_SIMU_ABC),
        _paper("SimuC", n_classes=6, merge="last_vs_rest", **_SIMU_ABC),
        _paper("test", n_classes=4, n_genes=2_000, n_pathways=200, n_over=8, n_samples=400),
    )
}


def get_config(name: str, **overrides: Any) -> SimulationConfig:
    """A configuration from :data:`CONFIGS` with some fields replaced.

    Parameters
    ----------
    name
        A key of :data:`CONFIGS` (case-insensitive).
    **overrides
        :class:`SimulationConfig` fields; ``None`` values are ignored.

    Raises
    ------
    InputError
        Unknown name, or overrides that make an invalid configuration.
    """
    by_lower = {key.lower(): key for key in CONFIGS}
    if name.lower() not in by_lower:
        msg = f"--config: expected one of {', '.join(CONFIGS)}, found {name!r}"
        raise InputError(msg)
    changes = {key: value for key, value in overrides.items() if value is not None}
    return dataclasses.replace(CONFIGS[by_lower[name.lower()]], **changes)


def parse_proportions(text: str) -> tuple[float, ...]:
    """``"0.25,0.75"`` → ``(0.25, 0.75)``, for ``--class-proportions``."""
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        msg = f"--class-proportions: expected comma-separated numbers, found {text!r}"
        raise InputError(msg) from None


def parse_merge(text: str) -> MergeRule | tuple[int, ...]:
    """``"last_vs_rest"`` or ``"0,0,0,1"`` (task class per generated class)."""
    if text in get_args(MergeRule):
        return text  # type: ignore[return-value]
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        msg = (
            f"--merge: expected one of {get_args(MergeRule)} or comma-separated "
            f"integers, found {text!r}"
        )
        raise InputError(msg) from None


class _Parameters(NamedTuple):
    """Drawn model parameters."""

    alpha: np.ndarray  #: float64 (n_classes, n_pathways) Dirichlet prior per class
    beta: sp.csr_matrix  #: float64 (n_pathways, n_genes), rows sum to 1
    over_pathways: np.ndarray  #: int64 (n_classes, n_over)


def _class_sizes(n_samples: int, proportions: np.ndarray) -> np.ndarray:
    """Samples per class: floors of ``n_samples * proportions``, the remainder
    going one each to the largest fractional parts (ties: lowest class).

    Raises :class:`InputError` if a class would get no sample.
    """
    exact = n_samples * proportions
    sizes = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - sizes), kind="stable")
    sizes[order[: n_samples - sizes.sum()]] += 1
    if (sizes == 0).any():
        msg = (
            f"--n-samples: {n_samples} samples leave generated class "
            f"{int(np.argmin(sizes))} empty with proportions {proportions.round(4).tolist()}"
        )
        raise InputError(msg)
    return sizes


def _draw_memberships(
    pathways: np.ndarray, config: SimulationConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Genes of each pathway in ``pathways``: ``(pathway ids, gene ids)`` pairs.

    Random layout: pathway size ~ Binomial(n_genes, k / n_genes) redrawn while
    0, then a uniform subset of that size, which is the law of independent
    Bernoulli memberships redrawn while empty (method.md §1.3).
    """
    k = config.genes_per_pathway
    if config.layout == "block":
        genes = (pathways[:, None] * k + np.arange(k)).ravel()
        return np.repeat(pathways, k), genes
    sizes = rng.binomial(config.n_genes, k / config.n_genes, size=len(pathways))
    while (empty := sizes == 0).any():
        sizes[empty] = rng.binomial(config.n_genes, k / config.n_genes, size=empty.sum())
    owner = np.repeat(pathways, sizes)
    genes = rng.integers(config.n_genes, size=len(owner))
    # Redraw repeated genes within a pathway until all are distinct: the rule
    # commutes with any relabelling of the genes, so the final set is a
    # uniform subset of its size.
    while True:
        order = np.lexsort((genes, owner))
        owner, genes = owner[order], genes[order]
        repeat = np.zeros(len(genes), dtype=bool)
        repeat[1:] = (owner[1:] == owner[:-1]) & (genes[1:] == genes[:-1])
        if not repeat.any():
            return owner, genes
        genes[repeat] = rng.integers(config.n_genes, size=repeat.sum())


def _draw_beta(
    pathways: np.ndarray, config: SimulationConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Members and Dirichlet(eta_concentration) weights of ``pathways``.

    Returns ``(pathway ids, gene ids, beta)``, flat and aligned; ``beta``
    sums to 1 over each pathway's genes.
    """
    owner, genes = _draw_memberships(pathways, config, rng)
    weights = rng.standard_gamma(config.eta_concentration, size=len(genes))
    totals = np.bincount(owner, weights=weights, minlength=config.n_pathways)
    with np.errstate(invalid="ignore", divide="ignore"):
        return owner, genes, weights / totals[owner]


def _failing(
    owner: np.ndarray, beta: np.ndarray, is_over: np.ndarray, min_prop: float, n_pathways: int
) -> np.ndarray:
    """Sorted ids of the pathways to redraw: over-expressed ones with a gene
    below ``min_prop``, and any whose weights underflowed (NaN)."""
    bad = np.zeros(n_pathways, dtype=bool)
    bad[owner[~(beta >= min_prop) & is_over[owner]]] = True
    bad[owner[np.isnan(beta)]] = True
    return np.flatnonzero(bad)


def _draw_parameters(config: SimulationConfig, rng: np.random.Generator) -> _Parameters:
    """Draw ``beta`` (with the validity re-draw, method.md §1.5) and set
    ``alpha`` and the over-expressed pathways (§1.2)."""
    n_classes, n_pathways, n_over = config.n_classes, config.n_pathways, config.n_over
    over_pathways = np.arange(n_classes * n_over, dtype=np.int64).reshape(n_classes, n_over)
    alpha = np.full((n_classes, n_pathways), config.alpha_scale)
    alpha[np.arange(n_classes)[:, None], over_pathways] *= config.class_gap
    is_over = np.zeros(n_pathways, dtype=bool)
    is_over[over_pathways] = True

    min_prop = config.resolved_min_prop()
    owner, genes, beta = _draw_beta(np.arange(n_pathways), config, rng)
    for _ in range(MAX_REDRAW_ROUNDS):
        redo = _failing(owner, beta, is_over, min_prop, n_pathways)
        if not len(redo):
            break
        logger.info("redrawing %d pathway(s) that fail the validity rule", len(redo))
        keep = ~np.isin(owner, redo)
        new = _draw_beta(redo, config, rng)
        owner, genes, beta = (
            np.concatenate([old[keep], fresh])
            for old, fresh in zip((owner, genes, beta), new, strict=True)
        )
    else:
        msg = (
            f"--min-prop: over-expressed pathways still have a gene below {min_prop:g} "
            f"after {MAX_REDRAW_ROUNDS} redraws; lower it"
        )
        raise InputError(msg)
    matrix = sp.csr_matrix((beta, (owner, genes)), shape=(n_pathways, config.n_genes))
    matrix.sort_indices()
    return _Parameters(alpha, matrix, over_pathways)


def _mixture(theta: np.ndarray, beta: sp.csr_matrix) -> np.ndarray:
    """Gene probabilities of one read, ``q = theta @ beta``.

    Parameters
    ----------
    theta
        float64 ``(n_obs, n_pathways)``, rows on the simplex.
    beta
        float64 CSR ``(n_pathways, n_genes)``, rows on the simplex.

    Returns
    -------
    float64 C-contiguous ``(n_obs, n_genes)``, rows summing to 1.
    """
    q = np.ascontiguousarray(theta @ beta)
    q /= q.sum(axis=1, keepdims=True)
    return q


def _categorical_counts(q: np.ndarray, reads: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``Multinomial(reads[i], q[i])`` for each row by drawing the reads.

    Each read is a uniform mapped through the row's cumulative ``q``; the
    uniforms come sorted (normalised partial sums of exponentials are the
    order statistics of uniforms), so one ``searchsorted`` over all rows,
    offset by their index, places them.

    Parameters
    ----------
    q
        float64 ``(n_obs, n_genes)``, rows summing to 1.
    reads
        int64 ``(n_obs,)``, non-negative.

    Returns
    -------
    int64 ``(n_obs, n_genes)``, row ``i`` summing to ``reads[i]``.
    """
    n_obs, n_genes = q.shape
    cumulative = np.cumsum(q, axis=1)
    cumulative /= cumulative[:, -1:]
    cumulative += np.arange(n_obs)[:, None]
    spacings = reads + 1
    partial = np.cumsum(rng.standard_exponential(int(spacings.sum())))
    ends = np.cumsum(spacings) - 1
    before = np.concatenate([[0.0], partial[ends[:-1]]])
    row = np.repeat(np.arange(n_obs), spacings)
    uniform = (partial - before[row]) / (partial[ends] - before)[row] + row
    is_read = np.ones(len(uniform), dtype=bool)
    is_read[ends] = False
    flat = np.searchsorted(cumulative.ravel(), uniform[is_read], side="right")
    # Rounding can push a uniform to the row's upper edge: keep it on the row's
    # last gene with mass (a bias below float64 resolution).
    last = n_genes - 1 - np.argmax(q[:, ::-1] > 0, axis=1)
    read_row = row[is_read]
    flat = np.minimum(flat, read_row * n_genes + last[read_row])
    return np.bincount(flat, minlength=n_obs * n_genes).reshape(n_obs, n_genes)


def _sample_counts(
    q: np.ndarray, n_reads: int, rng: np.random.Generator, *, slack: float = POISSON_SLACK
) -> np.ndarray:
    """Exact ``Multinomial(n_reads, q[i])`` draws, one per row.

    With ``lam = n_reads - slack * sqrt(n_reads)``, independent
    ``y[g] ~ Poisson(lam q[g])`` have a total ``S ~ Poisson(lam)`` and, given
    ``S = s``, ``y ~ Multinomial(s, q)``; adding ``n_reads - s`` more reads
    drawn from ``q`` gives ``Multinomial(n_reads, q)`` for every ``s <=
    n_reads``. Rows with ``S > n_reads`` (probability 2.3% at slack 2) are
    redrawn with numpy's multinomial. Both branches have the law
    ``Multinomial(n_reads, q)``, hence so does the result. Poisson draws cost
    40-55% less CPU than the binomials of numpy's sequential multinomial
    (measured at SIMU1 and SimuA sizes).

    Parameters
    ----------
    q
        float64 ``(n_obs, n_genes)``, rows summing to 1.
    n_reads
        Reads per row.
    slack
        Standard deviations of ``S`` kept below ``n_reads``.

    Returns
    -------
    int64 ``(n_obs, n_genes)``, each row summing to ``n_reads``.
    """
    lam = max(n_reads - slack * np.sqrt(n_reads), 0.0)
    counts = rng.poisson(q * lam)
    missing = n_reads - counts.sum(axis=1)
    over = missing < 0
    missing[over] = 0
    counts += _categorical_counts(q, missing, rng)
    if over.any():
        counts[over] = rng.multinomial(n_reads, q[over])
    return counts


def simulate(
    config: SimulationConfig,
    *,
    n_samples: int | None = None,
    seed: int,
    threads: int = 1,
    progress: Callable[[int], Any] | None = None,
) -> ad.AnnData:
    """Simulate per-million expression with known informative genes.

    Samples are ordered by generated class. The parameters (``alpha``,
    ``beta``) depend only on ``config`` and ``seed``; the samples are drawn in
    fixed chunks, each from its own spawned seed, so the output does not
    depend on ``threads``.

    Parameters
    ----------
    config
        The simulation, e.g. ``CONFIGS["SIMU1"]`` or :func:`get_config`.
    n_samples
        Overrides ``config.n_samples``. Samples are split between generated
        classes by ``class_proportions``; the rounding remainder goes to the
        classes with the largest fractional share (ties: lowest index).
    seed
        Seed of everything random; the same seed gives identical output.
    threads
        Sampling threads.
    progress
        Called with the number of samples finished after each chunk.

    Returns
    -------
    AnnData ``(n_samples, n_genes)`` with

    - ``X``: float32 counts per million reads (each row sums to 1e6);
    - ``obs["label"]``: task class, categorical ``C0``, ``C1``, … (after merge);
    - ``obs["subclass"]``: generated class, categorical ``S0``, ``S1``, …;
    - ``obs_names`` ``sample00000``…, ``var_names`` ``G00000``…;
    - ``varm["informative"]``: bool DataFrame ``(n_genes, n_classes)``,
      columns ``S0``…: the gene is in an over-expressed pathway of that class;
    - ``uns["genexai"]["simulate"]``: every :class:`SimulationConfig` field
      (resolved: ``class_proportions``, ``min_prop``, ``merge`` as arrays or
      numbers), ``seed``, ``alpha`` float32 ``(n_classes, n_pathways)``,
      ``pathway_genes`` CSR bool ``(n_pathways, n_genes)``, ``over_pathways``
      int64 ``(n_classes, n_over)``.
    """
    if n_samples is not None:
        config = dataclasses.replace(config, n_samples=n_samples)
    _check_int("threads", threads, minimum=1)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        msg = f"--seed: expected a non-negative integer, found {seed!r}"
        raise InputError(msg)
    start = time.perf_counter()
    sizes = _class_sizes(config.n_samples, config.resolved_proportions())
    param_seed, sample_seed = np.random.SeedSequence(int(seed)).spawn(2)
    params = _draw_parameters(config, np.random.default_rng(param_seed))

    subclass = np.repeat(np.arange(config.n_classes), sizes)
    x = _sample_matrix(config, params, subclass, sample_seed, threads=threads, progress=progress)
    adata = _to_anndata(config, params, subclass, x, seed=int(seed))
    logger.info(
        "simulated %s: %d samples × %d genes in %.1f s",
        config.name,
        config.n_samples,
        config.n_genes,
        time.perf_counter() - start,
    )
    return adata


def _sample_matrix(
    config: SimulationConfig,
    params: _Parameters,
    subclass: np.ndarray,
    seed: np.random.SeedSequence,
    *,
    threads: int,
    progress: Callable[[int], Any] | None,
) -> np.ndarray:
    """float32 ``(n_samples, n_genes)`` per-million expression, chunk by chunk."""
    n_samples, n_genes = len(subclass), config.n_genes
    extra_reads = int(np.ceil(POISSON_SLACK * np.sqrt(config.n_reads)))
    rows_per_chunk = max(1, CHUNK_ELEMENTS // max(n_genes, extra_reads))
    starts = range(0, n_samples, rows_per_chunk)
    seeds = seed.spawn(len(starts))
    scale = 1e6 / config.n_reads
    x = np.empty((n_samples, n_genes), dtype=np.float32)

    def run(chunk: int) -> int:
        rows = slice(starts[chunk], min(starts[chunk] + rows_per_chunk, n_samples))
        rng = np.random.default_rng(seeds[chunk])
        codes = subclass[rows]
        theta = np.empty((len(codes), config.n_pathways))
        for c in np.unique(codes):
            block = codes == c
            theta[block] = rng.dirichlet(params.alpha[c], size=int(block.sum()))
        counts = _sample_counts(_mixture(theta, params.beta), config.n_reads, rng)
        np.multiply(counts, scale, out=x[rows], casting="unsafe")
        return len(codes)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for done in pool.map(run, range(len(starts))):
            if progress is not None:
                progress(done)
    return x


def _to_anndata(
    config: SimulationConfig,
    params: _Parameters,
    subclass: np.ndarray,
    x: np.ndarray,
    *,
    seed: int,
) -> ad.AnnData:
    """Wrap the matrix and the ground truth (see :func:`simulate`)."""
    task = config.task_classes()
    obs_width = max(5, len(str(config.n_samples - 1)))
    var_width = max(5, len(str(config.n_genes - 1)))
    sub_names = [f"S{c}" for c in range(config.n_classes)]
    task_names = [f"C{c}" for c in range(task.max() + 1)]
    obs = pd.DataFrame(
        {
            keys.LABEL: pd.Categorical.from_codes(task[subclass], categories=task_names),
            keys.SUBCLASS: pd.Categorical.from_codes(subclass, categories=sub_names),
        },
        index=[f"sample{i:0{obs_width}d}" for i in range(config.n_samples)],
    )
    var = pd.DataFrame(index=[f"G{g:0{var_width}d}" for g in range(config.n_genes)])

    membership = params.beta.astype(bool)
    membership.eliminate_zeros()  # a gene whose gamma weight underflowed gets no reads
    over = np.zeros((config.n_pathways, config.n_classes), dtype=np.int64)
    over[params.over_pathways, np.arange(config.n_classes)[:, None]] = 1
    informative = np.asarray(membership.T.astype(np.int64) @ over) > 0

    uns = {
        field.name: getattr(config, field.name)
        for field in dataclasses.fields(config)
        if field.name not in ("class_proportions", "min_prop", "merge")
    }
    uns.update(
        class_proportions=config.resolved_proportions(),
        min_prop=config.resolved_min_prop(),
        merge=task,
        seed=seed,
    )
    uns[keys.ALPHA] = params.alpha.astype(np.float32)
    uns[keys.PATHWAY_GENES] = membership
    uns[keys.OVER_PATHWAYS] = params.over_pathways
    adata = ad.AnnData(x, obs=obs, var=var)
    adata.varm[keys.INFORMATIVE] = pd.DataFrame(informative, index=var.index, columns=sub_names)
    adata.uns[keys.UNS] = {keys.SIMULATE: uns}
    return adata
