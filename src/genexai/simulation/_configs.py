"""Simulation parameters: :class:`SimulationConfig` and the paper's :data:`CONFIGS`.

Private module of :mod:`genexai.simulation`; import the names from there (or
from the step, :mod:`genexai.simulate`). Messages name the
:class:`SimulationConfig` field at fault (``n_genes: …``), not a command-line
option: the bin script prefixes the step.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, get_args

import numpy as np

from ..errors import InputError

__all__ = [
    "CONFIGS",
    "Layout",
    "MergeRule",
    "SimulationConfig",
    "check_int",
    "get_config",
    "parse_merge",
    "parse_proportions",
]

#: ``block``: pathway ``p`` owns genes ``k p … k p + k - 1`` (``k`` =
#: genes_per_pathway, disjoint, covering every gene). ``random``: each gene
#: joins each pathway independently with probability ``k / n_genes``,
#: redrawn while the pathway is empty (pathways overlap).
Layout = Literal["block", "random"]
#: ``identity``: task class = generated class. ``last_vs_rest``: generated
#: classes ``0 … C-2`` become task class 0 and ``C-1`` becomes class 1
#: (SimuB, SimuC; method.md §1.6).
MergeRule = Literal["identity", "last_vs_rest"]


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
    sparse
        ``True``: ``X`` is a CSR matrix of raw read counts (droplet
        single-cell data), drawn read by read in blocks of cells;
        ``False``: dense counts per million reads.
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
    sparse: bool = False

    def __post_init__(self) -> None:
        for field in ("n_genes", "n_pathways", "n_over", "genes_per_pathway", "n_reads"):
            check_int(field, getattr(self, field), minimum=1)
        check_int("n_classes", self.n_classes, minimum=2)
        check_int("n_samples", self.n_samples, minimum=self.n_classes)
        for field in ("class_gap", "alpha_scale", "eta_concentration"):
            value = getattr(self, field)
            if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
                msg = f"{field}: expected a positive number, found {value!r}"
                raise InputError(msg)
        if self.layout not in get_args(Layout):
            msg = f"layout: expected one of {get_args(Layout)}, found {self.layout!r}"
            raise InputError(msg)
        if self.n_over * self.n_classes > self.n_pathways:
            msg = (
                f"n_over: expected n_over * n_classes <= n_pathways ({self.n_pathways}), "
                f"found {self.n_over} * {self.n_classes} = {self.n_over * self.n_classes}"
            )
            raise InputError(msg)
        if self.layout == "block" and self.n_genes != self.genes_per_pathway * self.n_pathways:
            msg = (
                f"n_genes: the block layout needs n_genes = genes_per_pathway * n_pathways "
                f"= {self.genes_per_pathway} * {self.n_pathways} = "
                f"{self.genes_per_pathway * self.n_pathways}, found {self.n_genes}"
            )
            raise InputError(msg)
        if self.layout == "random" and self.genes_per_pathway > self.n_genes:
            msg = (
                f"genes_per_pathway: expected at most n_genes ({self.n_genes}) with the "
                f"random layout, found {self.genes_per_pathway}"
            )
            raise InputError(msg)
        if self.min_prop is not None and not 0 <= self.min_prop < 1 / self.genes_per_pathway:
            msg = (
                f"min_prop: expected 0 <= min_prop < 1/genes_per_pathway "
                f"({1 / self.genes_per_pathway:g}), found {self.min_prop!r}"
            )
            raise InputError(msg)
        if not isinstance(self.sparse, bool | np.bool_):
            msg = f"sparse: expected true or false, found {self.sparse!r}"
            raise InputError(msg)
        self._check_proportions()
        self.task_classes()  # validates merge

    def _check_proportions(self) -> None:
        props = self.class_proportions
        if props is None:
            return
        if len(props) != self.n_classes:
            msg = (
                f"class_proportions: expected {self.n_classes} values (one per "
                f"generated class), found {len(props)}"
            )
            raise InputError(msg)
        values = np.asarray(props, dtype=float)
        if not (np.isfinite(values).all() and (values > 0).all()):
            shown = ",".join(f"{v:g}" for v in values)
            msg = f"class_proportions: expected positive numbers, found {shown}"
            raise InputError(msg)
        if abs(values.sum() - 1) > 1e-6:
            msg = f"class_proportions: expected values summing to 1, found sum {values.sum():g}"
            raise InputError(msg)

    def task_classes(self) -> np.ndarray:
        """Task class index of each generated class, int64 ``(n_classes,)``."""
        if self.merge == "identity":
            return np.arange(self.n_classes)
        if self.merge == "last_vs_rest":
            return (np.arange(self.n_classes) == self.n_classes - 1).astype(np.int64)
        if isinstance(self.merge, str):
            msg = (
                f"merge: expected one of {get_args(MergeRule)} or a list of task class "
                f"indices, found {self.merge!r}"
            )
            raise InputError(msg)
        mapping = np.asarray(self.merge)
        shown = ",".join(str(v) for v in self.merge)
        if len(mapping) != self.n_classes or mapping.dtype.kind not in "iu":
            msg = (
                f"merge: expected {self.n_classes} integer task class indices (one per "
                f"generated class), found {shown}"
            )
            raise InputError(msg)
        n_task = mapping.max() + 1 if len(mapping) else 0
        if mapping.min() < 0 or n_task < 2 or len(np.unique(mapping)) != n_task:
            msg = (
                f"merge: expected task class indices using every value 0 … T-1 with "
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


def check_int(field: str, value: Any, *, minimum: int) -> None:
    """Raise :class:`InputError` unless ``value`` is an integer ``>= minimum``
    (booleans refused); the message names ``field``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        msg = f"{field}: expected {what}, found {value!r}"
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
        # Droplet-like: 2,000 reads over 20,000 genes and a sparse pathway
        # mix (alpha_scale 0.05) give about 5 % non-zero entries (measured 5.2 %).
        SimulationConfig(
            name="SingleCell",
            n_classes=10,
            n_genes=20_000,
            n_pathways=2_000,
            n_over=20,
            n_samples=20_000,
            n_reads=2_000,
            alpha_scale=0.05,
            sparse=True,
        ),
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
        msg = f"name: expected a configuration, one of {', '.join(CONFIGS)}, found {name!r}"
        raise InputError(msg)
    changes = {key: value for key, value in overrides.items() if value is not None}
    return dataclasses.replace(CONFIGS[by_lower[name.lower()]], **changes)


def parse_proportions(text: str) -> tuple[float, ...]:
    """``"0.25,0.75"`` → ``(0.25, 0.75)``: the text form of ``class_proportions``."""
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        msg = f"class_proportions: expected comma-separated numbers, found {text!r}"
        raise InputError(msg) from None


def parse_merge(text: str) -> MergeRule | tuple[int, ...]:
    """``"last_vs_rest"`` or ``"0,0,0,1"`` (task class per generated class)."""
    if text in get_args(MergeRule):
        return text  # type: ignore[return-value]
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        msg = (
            f"merge: expected one of {get_args(MergeRule)} or comma-separated "
            f"integers, found {text!r}"
        )
        raise InputError(msg) from None
