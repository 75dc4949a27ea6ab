"""The ``local`` switches of prediction_gaps and feature_agreement (global-scope runs)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from genexai.metrics import feature_agreement, ground_truth, normalize_rows, prediction_gaps

CLASSES = ["C0", "C1", "C2"]


def test_metric_switches_match_the_full_tables(metric_model, metric_data):
    """local=False gives the full table without the skipped rows, the same numbers."""
    model = metric_model("linear", 20, 3)
    x, a, baseline, labels, correct = metric_data(15, 20, 3, seed=3)
    options = {
        "labels": labels,
        "correct": correct,
        "class_names": CLASSES,
        "gap": 4,
        "n_random": 2,
    }
    full, full_curves = prediction_gaps(model, x, a, baseline, labels, seed=0, **options)
    calls = []
    part, part_curves = prediction_gaps(
        model, x, a, baseline, labels, seed=0, local=False, progress=calls.append, **options
    )
    assert sum(calls) == 4 + 2
    keep = full["variant"].str.split(":").str[0] != "local"
    pd.testing.assert_frame_equal(part, full[keep].reset_index(drop=True), check_exact=True)
    keep = ~full_curves["curve"].str.endswith("_local")
    pd.testing.assert_frame_equal(part_curves, full_curves[keep].reset_index(drop=True))
    informative = np.random.default_rng(0).random((20, 3)) < 0.3
    truth = ground_truth(informative, labels[correct], n_classes=3, class_names=CLASSES)
    a_norm = normalize_rows(a[correct])
    full = feature_agreement(a_norm, truth, precision_k=(5,))
    part = feature_agreement(a_norm, truth, precision_k=(5,), local=False)
    keep = ~full["variant"].str.split(":").str[0].isin(["local", "global_intersect"])
    pd.testing.assert_frame_equal(part, full[keep].reset_index(drop=True), check_exact=True)
