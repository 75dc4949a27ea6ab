"""Every obs/var/uns/layer key genexai reads or writes, spelled once.

Grouped by the step that writes them. Other modules import these names;
no key string appears anywhere else in the package.
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

# --- import / prepare ----------------------------------------------------
IMPORT = "import"  #: uns[UNS][IMPORT]: source format and files
PREPARE = "prepare"  #: uns[UNS][PREPARE]: transform, split parameters
COUNTS = "counts"  #: layers[COUNTS]: the input values before transforming
MEAN = "genexai_mean"  #: var: training mean of the pre-scaling values
STD = "genexai_std"  #: var: training std (1 where the gene is constant)

# --- train ---------------------------------------------------------------
TRAIN_STEP = "train"

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

# --- evaluate ------------------------------------------------------------
EVALUATE = "evaluate"

#: Columns of every tidy metrics table, in order.
METRIC_COLUMNS = ("dataset", "model", "seed", "method", "metric", "variant", "value")
