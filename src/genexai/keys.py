"""Every obs/var/varm/uns/layers key genexai reads or writes, spelled once.

Grouped by the step that writes them. Code that reads or writes one of these
keys imports its name here; no other module spells it. Not listed here, and
spelled where they are written:

- the parameter entries of ``uns[UNS][<step>]`` named after the step
  function's arguments (``seed``, ``test_size``, …; for SIMULATE the
  ``SimulationConfig`` fields), unless code other than the writer looks one
  up (then it is here: ``TRANSFORM``, ``HAS_COUNTS``, ``SEED``, …);
- the fields of TRAIN's checkpoint metadata and metrics JSON, which belong
  to :mod:`genexai.models` and :mod:`genexai.train` (those REPORT reads are
  here: ``TRAIN_ACCURACY``, ``BALANCED_ACCURACY``);
- single columns of the tables between the steps: each table's columns, in
  order, are here as a ``*_COLUMNS`` tuple, and code selecting one column
  spells its name;
- keys quoted in docstrings and messages (messages should format the
  constant, ``obs[{keys.LABEL!r}]``).
"""

from __future__ import annotations

#: ``adata.uns[UNS]`` holds one dict per step: ``uns[UNS][<step>]``.
UNS = "genexai"

# --- obs (samples / explained examples) --------------------------------
LABEL = "label"  #: task class, categorical (categories in class-index order)
SUBCLASS = "subclass"  #: generated class of a simulation, categorical
SPLIT = "split"  #: "train" or "test", categorical
TRAIN = "train"
TEST = "test"

# --- simulate ------------------------------------------------------------
SIMULATE = "simulate"  #: uns[UNS][SIMULATE]: parameters, alpha, layout
#: varm[INFORMATIVE]: bool DataFrame (n_genes, n_subclasses); True where the
#: gene belongs to an over-expressed pathway of that generated class.
INFORMATIVE = "informative"
#: uns[UNS][SIMULATE][PATHWAY_GENES]: CSR bool (n_pathways, n_genes).
PATHWAY_GENES = "pathway_genes"
#: uns[UNS][SIMULATE][OVER_PATHWAYS]: int (n_subclasses, n_over) pathway ids.
OVER_PATHWAYS = "over_pathways"
#: uns[UNS][SIMULATE][ALPHA]: float32 (n_subclasses, n_pathways) Dirichlet prior.
#: The other entries of uns[UNS][SIMULATE] are the SimulationConfig field
#: names (merge: int task class per subclass) and "seed".
ALPHA = "alpha"

# --- import / prepare ----------------------------------------------------
IMPORT = "import"  #: uns[UNS][IMPORT]: source format and files
PREPARE = "prepare"  #: uns[UNS][PREPARE]: transform, split parameters
COUNTS = "counts"  #: layers[COUNTS]: the input values before transforming
MEAN = "genexai_mean"  #: var: training mean of the pre-scaling values
STD = "genexai_std"  #: var: training std (1 where the gene is constant)
#: uns[UNS][IMPORT][HAS_COUNTS]: bool, X holds counts (PREPARE keeps them in layers[COUNTS]).
HAS_COUNTS = "has_counts"
#: uns[UNS][PREPARE][SPARSE_X]: True when X is sparse and holds only the
#: per-sample part of the transform; readers standardise rows with the var
#: statistics (:func:`genexai.io.expression`). Absent for a dense X.
SPARSE_X = "sparse_x"
#: uns[UNS][PREPARE][TRANSFORM]: the transform's name (genexai.prepare.Transform).
TRANSFORM = "transform"

#: Columns of a ``*.prepare.tsv`` (PREPARE), in order: one row per class and split.
PREPARE_SUMMARY_COLUMNS = ("dataset", "class", "split", "n_samples", "n_genes", "simulated")

# --- attribute (rows = explained examples) -------------------------------
ATTRIBUTE = "attribute"  #: uns[UNS][ATTRIBUTE]: method, baseline, digest...
PREDICTION = "prediction"  #: obs: predicted class, categorical like LABEL
CORRECT = "correct"  #: obs: bool, prediction == label
TARGET = "target"  #: obs: class index whose output is explained
TARGET_PROB = "target_prob"  #: obs: F_target(x)
BASELINE_PROB = "baseline_prob"  #: obs: F_target(b)
DELTA = "completeness_delta"  #: obs: |sum(a) - (F(x) - F(b))|
N_STEPS = "n_steps"  #: obs: IG steps used for this example
BASELINE = "baseline"  #: uns[UNS][ATTRIBUTE][BASELINE]: (n_genes,) float32
# uns[UNS][ATTRIBUTE] fields (N_STEPS, BASELINE also appear there):
METHOD = "method"  #: attribution method name (genexai.attribution.METHODS)
BASELINE_KIND = "baseline_kind"  #: "zero", "class_mean" or "vector"
BASELINE_CLASS = "baseline_class"  #: class whose training mean is the baseline
TARGET_KIND = "target_kind"  #: "true", "predicted" or "logit"
STUDIED_CLASSES = "classes"  #: classes whose examples are explained
CHECKPOINT_SHA256 = "checkpoint_sha256"  #: sha256 of the model checkpoint file
ARCH = "arch"  #: model architecture, from the checkpoint metadata
SEED = "seed"  #: seed of the random methods
N_SAMPLES = "n_samples"  #: GradientShap random points per example
TOLERANCE = "tolerance"  #: completeness tolerance, percentage points
MAX_STEPS = "max_steps"  #: IG step cap of the per-example redo
VERSION = "version"  #: genexai version that wrote the file

#: uns[UNS][ATTRIBUTE][SCOPE]: "local" (one attribution per example) or
#: "global" (each example carries its class's score vector: the classical
#: rankings and the linear models' coefficients, genexai._defaults.GLOBAL_METHODS).
SCOPE = "scope"
#: uns[UNS][ATTRIBUTE], only when a cap was given: MAX_EXPLAINED_PER_CLASS (int),
#: and per studied class (int64, in STUDIED_CLASSES order) N_ELIGIBLE, its
#: correctly classified input rows, and N_EXPLAINED, those explained.
MAX_EXPLAINED_PER_CLASS = "max_explained_per_class"
N_ELIGIBLE = "n_eligible"
N_EXPLAINED = "n_explained"

# --- rank_genes (rows = classes, columns = genes) -------------------------
RANK_GENES = "rank_genes"  #: uns[UNS][RANK_GENES]: method, seed, n_train, dataset, version
#: layers of a rankings file (wilcoxon, t_test): class vs rest, training split.
LOGFOLDCHANGES = "logfoldchanges"  #: log2 fold change (scanpy's)
PVALS = "pvals"  #: two-sided p-value
PVALS_ADJ = "pvals_adj"  #: Benjamini-Hochberg adjusted p-value (per class)
#: obs[N_TRAIN] of a rankings file: int64 training samples of the class;
#: uns[UNS][RANK_GENES][N_TRAIN]: int, all of them.
N_TRAIN = "n_train"

# --- evaluate ------------------------------------------------------------
EVALUATE = "evaluate"
#: uns[UNS][EVALUATE] fields of the gene scores (with SEED, METHOD, VERSION).
DATASET = "dataset"
MODEL = "model"
#: Gene scores: var[OVERALL], the mean over every correctly classified example.
OVERALL = "overall"
#: Gene scores: obs[N_EXAMPLES], the class's correctly classified examples.
N_EXAMPLES = "n_examples"
#: Columns of a ``*.completeness.tsv`` (EVALUATE), in order: one row per example.
COMPLETENESS_COLUMNS = ("dataset", "model", "seed", "method", "example", "delta", "n_steps")
#: Columns of a ``*.stability_summary.tsv`` (STABILITY), in order.
STABILITY_SUMMARY_COLUMNS = (
    "dataset",
    "method",
    "model_a",
    "model_b",
    "metric",
    "variant",
    "n_pairs",
    "mean",
    "std",
)

#: Columns of every tidy metrics table, in order.
METRIC_COLUMNS = ("dataset", "model", "seed", "method", "metric", "variant", "value")

# --- report (reads the tables of PREPARE, TRAIN, EVALUATE and STABILITY) --
#: Fields of the TRAIN metrics JSON shown as accuracy (percentages).
TRAIN_ACCURACY = "train_accuracy"
BALANCED_ACCURACY = "balanced_accuracy"
#: Columns of a ``*.curves.tsv`` (EVALUATE), in order.
CURVE_COLUMNS = ("dataset", "model", "seed", "method", "curve", "n_genes", "value", "std")
#: Columns of a ``*.top_genes.tsv`` (EVALUATE); an ``informative`` column may follow.
TOP_GENES_COLUMNS = ("dataset", "model", "seed", "method", "class", "rank", "gene", "score")
#: Columns of a ``*.stability.tsv`` (STABILITY), in order.
STABILITY_COLUMNS = (
    "dataset",
    "method",
    "model_a",
    "seed_a",
    "model_b",
    "seed_b",
    "metric",
    "variant",
    "value",
)

# --- biomarkers (per dataset: BIOMARKERS; REPORT reads them) ---------------
#: Columns of a ``*.biomarkers.tsv``, in order; ``informative`` (bool) follows
#: where the truth is known (simulations).
BIOMARKER_COLUMNS = (
    "dataset",
    "method",
    "class",
    "rank",
    "gene",
    "mean_rank",
    "rank_std",
    "seed_fraction",
    "model_fraction",
    "n_runs",
    "wilcoxon_logfc",
    "wilcoxon_pval_adj",
)
#: Columns of a ``*.verdict.tsv``, in order: one row per method × class.
VERDICT_COLUMNS = (
    "dataset",
    "method",
    "class",
    "k",
    "n_runs",
    "n_examples",
    "sufficient_k",
    "keep_accuracy",
    "keep_accuracy_std",
    "remove_drop",
    "remove_drop_std",
    "random_drop",
    "random_drop_std",
    "stability",
    "precision",
    "pathway_agreement",
    "sufficient",
    "necessary",
    "stable",
    "true",
    "verdict",
)
#: Columns of a ``*.pathways.tsv``, in order; ``over_expressed`` (bool)
#: follows on simulations.
PATHWAY_COLUMNS = (
    "dataset",
    "method",
    "model",
    "class",
    "gene_set",
    "set_size",
    "n_not_found",
    "n_top",
    "score_sum",
    "score_mean",
    "p_value",
    "p_adj",
    "rank",
)
#: The boolean column of a ``*.pathways.tsv`` on simulations.
OVER_EXPRESSED = "over_expressed"
