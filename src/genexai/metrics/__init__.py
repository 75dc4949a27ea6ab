"""Metrics of explanations: prediction gaps, agreement with the ground truth,
accuracy curves and ranking-stability kernels (method.md §6–8), and
gene-set (pathway) scores, over-representation and agreement.

Every metric here is vectorised over genes and examples; each fast path has
a plain reference implementation in the tests.
"""

from __future__ import annotations

from ._common import normalize_rows, stable_order
from .agreement import (
    GroundTruth,
    class_informative,
    diffuse,
    feature_agreement,
    ground_truth,
    top_k_hits,
)
from .curves import accuracy_curves, balanced_accuracy, gene_grid, kept_predictions
from .openxai import example_noise, openxai_gaps, openxai_prediction_gaps
from .pathways import over_representation, pathway_agreement, set_scores, simulated_gene_sets
from .prediction_gaps import VARIANTS, gap_curves, prediction_gaps
from .stability import pair_metrics

__all__ = [
    "VARIANTS",
    "GroundTruth",
    "accuracy_curves",
    "balanced_accuracy",
    "class_informative",
    "diffuse",
    "example_noise",
    "feature_agreement",
    "gap_curves",
    "gene_grid",
    "ground_truth",
    "kept_predictions",
    "normalize_rows",
    "openxai_gaps",
    "openxai_prediction_gaps",
    "over_representation",
    "pair_metrics",
    "pathway_agreement",
    "prediction_gaps",
    "set_scores",
    "simulated_gene_sets",
    "stable_order",
    "top_k_hits",
]
