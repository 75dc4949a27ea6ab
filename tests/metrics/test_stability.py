"""genexai.metrics.stability: pairwise ranking metrics against plain per-pair code."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from genexai.metrics import pair_metrics
from tests.helpers.metrics import ref_order


@pytest.mark.parametrize("seed", [0, 1])
def test_pair_metrics_match_per_pair_code(seed):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random((4, 50)), 1)  # ties
    got = pair_metrics(scores, top_k=(5, 20))
    for i in range(4):
        for j in range(4):
            for k in (5, 20):
                a = set(ref_order(list(scores[i]), descending=True)[:k])
                b = set(ref_order(list(scores[j]), descending=True)[:k])
                assert got[f"jaccard@{k}"][i, j] == pytest.approx(len(a & b) / len(a | b))
            assert got["spearman"][i, j] == pytest.approx(
                scipy.stats.spearmanr(scores[i], scores[j]).statistic
            )
            assert got["kendall"][i, j] == pytest.approx(
                scipy.stats.kendalltau(scores[i], scores[j]).statistic
            )
