"""The choices and defaults of the steps, in a module that imports nothing heavy.

The command line (:mod:`genexai.cli`) builds its ``click.Choice`` options
and its defaults from these names before it imports a step, so that
``--help`` and usage errors answer at once, without loading numpy, torch or
anndata. Each name is defined here only and re-exported where it belongs;
import it from there (``genexai.models.Arch``, ``genexai.train.DEFAULTS``,
``genexai.attribution.N_STEPS``, ...).
"""

from __future__ import annotations

import dataclasses
from typing import Literal, get_args

# genexai.io ---------------------------------------------------------------

#: ``"all"`` selects every row, whatever its split.
Split = Literal["train", "test", "all"]

# genexai.io.formats (IMPORT) ----------------------------------------------

Format = Literal["h5ad", "table", "pancan_gdc", "pancan_xena", "xena_htseq", "star_counts"]
FORMATS: tuple[str, ...] = get_args(Format)

# genexai.prepare ----------------------------------------------------------

Transform = Literal["zscore", "log2_zscore", "log2_cpm_center", "center", "none"]
TRANSFORMS: tuple[str, ...] = get_args(Transform)
SplitKind = Literal["stratified", "paper"]
SPLITS: tuple[str, ...] = get_args(SplitKind)

# genexai.graph ------------------------------------------------------------

DEFAULT_THRESHOLD = 0.5
#: Rows of the correlation matrix computed at once: a block holds at most
#: ``block_size × n_genes`` float32 values (200 MB for 50,000 genes).
DEFAULT_BLOCK_SIZE = 1024
#: Training cells the correlations are computed on at most; a larger training
#: split is subsampled (uniformly, seed :data:`DEFAULT_GRAPH_SEED`). At 20,000
#: cells a Pearson estimate has standard error at most 1/sqrt(n) = 0.007, far
#: below the 0.5 threshold, and the dense standardised copy is 20,000 × n_genes
#: float32 (1.6 GB for 20,000 genes) whatever the atlas size.
DEFAULT_MAX_CELLS = 20_000
#: Seed of that subsample: fixed, so one dataset has one graph for every model seed.
DEFAULT_GRAPH_SEED = 0

# genexai.models -----------------------------------------------------------

Arch = Literal["LR", "MLP", "DiffuseLR", "DiffuseMLP"]
#: Hidden width of the MLP families (§3: one layer of 20 units everywhere).
DEFAULT_HIDDEN = 20
Device = Literal["auto", "cpu", "cuda"]

# genexai.train ------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Optimisation settings; the defaults are the paper's (method.md §4)."""

    epochs: int = 25
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    milestones: tuple[int, ...] = (12, 22)
    gamma: float = 0.1
    batch_size: int = 32
    #: Reshuffle every epoch; ``False`` keeps the split order, as the
    #: paper's sequential loaders for the simulations do.
    shuffle: bool = True


DEFAULTS = Schedule()

# genexai.attribution ------------------------------------------------------

Method = Literal[
    "integrated_gradients",
    "saliency",
    "input_x_gradient",
    "deeplift",
    "gradient_shap",
    "random",
    "coefficients",
]
#: Default Gauss–Legendre nodes of the first pass (method.md §5).
N_STEPS = 3000
#: Default cap of the per-example redo, in multiples of ``n_steps`` (30,000 nodes
#: at the paper's 3,000). Relative, not absolute: the redo adds ``n_steps``
#: nodes per round, and each new Gauss–Legendre rule costs O(nodes^2) to build,
#: so a fixed 30,000-node cap let a small ``n_steps`` (50) run 600 ever dearer
#: rounds on an example that never completes.
MAX_STEPS_FACTOR = 10
#: Default completeness tolerance, percentage points (method.md §5).
TOLERANCE = 1.0
#: Default random points per example of :class:`~genexai.attribution.GradientShap`.
N_SAMPLES = 50
#: Default seed of the random methods (:class:`~genexai.attribution.GradientShap`,
#: :class:`~genexai.attribution.RandomAttribution`).
SEED = 0

# genexai.rank_genes -------------------------------------------------------

#: Classical, model-free rankings (RANK_GENES): per class, a score per gene
#: from the training split only. ATTRIBUTE takes them as global methods.
Ranking = Literal["wilcoxon", "t_test", "mutual_info"]
RANKINGS: tuple[str, ...] = get_args(Ranking)
#: Methods that give one score vector per class, not one per example
#: (``uns["genexai"]["attribute"]["scope"] == "global"``): EVALUATE computes
#: only the metrics a global ranking defines.
GLOBAL_METHODS: tuple[str, ...] = ("coefficients", *RANKINGS)

# genexai.biomarkers -------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """The verdict's thresholds (genexai.biomarkers' module docstring)."""

    #: ``sufficient``: keep_accuracy >= this, %.
    sufficiency: float = 95.0
    #: ``necessary``: remove_drop - random_drop >= this, percentage points.
    necessity_margin: float = 10.0
    #: ``stable``: mean Jaccard of the seeds' top-k sets >= this, in [0, 1].
    stability: float = 0.5
    #: ``true``: precision >= this, %.
    truth: float = 50.0


THRESHOLDS = Thresholds()
#: Default method of ``*.biomarkers.tsv``.
PRIMARY_METHOD = "integrated_gradients"
#: Default genes per class of BIOMARKERS; EVALUATE's ``--biomarker-k`` must be
#: the same, so that its per-class curves hold the points at k.
BIOMARKER_TOP_K = 20

# genexai.attribute --------------------------------------------------------

#: ``"true"``/``"predicted"``: softmax probability of the true/predicted
#: class; ``"logit"``: logit of the true class.
Target = Literal["true", "predicted", "logit"]
#: Default examples per batch.
BATCH_SIZE = 256
