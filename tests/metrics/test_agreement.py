"""genexai.metrics.agreement: feature agreement against plain set-based loops (§7)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import scipy.sparse

from genexai.errors import InputError
from genexai.metrics import (
    class_informative,
    diffuse,
    feature_agreement,
    ground_truth,
    normalize_rows,
    top_k_hits,
)
from tests.helpers.metrics import ref_order


def ref_auroc(scores, positive: set[int]) -> float:
    """Mann–Whitney: the share of (informative, other) pairs ranked right, ties half."""
    pos = [scores[g] for g in range(len(scores)) if g in positive]
    neg = [scores[g] for g in range(len(scores)) if g not in positive]
    wins = sum((p > q) + 0.5 * (p == q) for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def ref_agreement(a, groups, sets: list[set[int]], precision_k):
    """Every FA value per group, by Python sets, lists and sorted()."""
    out = {}
    for c, informative in enumerate(sets):
        rows = [i for i in range(len(a)) if groups[i] == c]
        if not rows:
            continue
        k = len(informative)
        tops = [ref_order(list(a[i]), descending=True)[:k] for i in rows]
        out["fa", "local", c] = 100 * np.mean([len(set(t) & informative) / k for t in tops])
        total = [sum(float(a[i, g]) for i in rows) for g in range(a.shape[1])]
        best = ref_order(total, descending=True)
        out["fa", "global_mean_score", c] = 100 * len(set(best[:k]) & informative) / k
        counts = Counter(g for t in tops for g in t)
        frequent = sorted(range(a.shape[1]), key=lambda g: -counts[g])[:k]
        out["fa", "global_intersect", c] = 100 * len(set(frequent) & informative) / k
        for p in precision_k:
            out[f"fa_precision@{p}", "global_mean_score", c] = (
                100 * len(set(best[:p]) & informative) / p
            )
        out["fa_auroc", "global_mean_score", c] = ref_auroc(total, informative)
    return out


def random_truth(n_genes, n_sub, *, seed):
    rng = np.random.default_rng(seed)
    return rng.random((n_genes, n_sub)) < 0.25


def check(table, want, names):
    got = table.set_index(["metric", "variant"])["value"]
    for (metric, variant, c), value in want.items():
        np.testing.assert_allclose(
            got[metric, f"{variant}:{names[c]}"],
            value,
            atol=1e-9,
            err_msg=f"{metric} {variant} {names[c]}",
        )
    for metric, variant, _ in want:
        per_group = [v for (m, w, _), v in want.items() if (m, w) == (metric, variant)]
        np.testing.assert_allclose(got[metric, variant], np.mean(per_group), atol=1e-9)


@pytest.mark.parametrize(
    ("n_classes", "n_sub", "studied"),
    [
        pytest.param(3, 3, [0, 1, 2], id="33-class-like"),
        pytest.param(2, 2, [0], id="SimuA-like"),
        pytest.param(2, 4, [0], id="SimuB-like"),
    ],
)
def test_feature_agreement_matches_reference(n_classes, n_sub, studied):
    n_obs, n_genes = 24, 40
    rng = np.random.default_rng(n_sub)
    informative = random_truth(n_genes, n_sub, seed=n_sub)
    if n_sub == n_classes:
        subclasses = rng.choice(studied, n_obs)
        labels = subclasses.copy()
    else:  # the §1.6 merge: subclasses 0..n_sub-2 are class 0
        subclasses = rng.choice(n_sub - 1, n_obs)
        labels = np.zeros(n_obs, dtype=np.int64)
    truth = ground_truth(
        informative,
        labels,
        n_classes=n_classes,
        subclasses=subclasses,
        subclass_names=[f"S{j}" for j in range(n_sub)],
        class_names=[f"C{j}" for j in range(n_classes)],
    )
    if n_sub != n_classes:
        want_sets = [
            set(np.flatnonzero(informative[:, s] | informative[:, -1])) for s in range(n_sub - 1)
        ]
        want_groups, names = subclasses, [f"S{j}" for j in range(n_sub - 1)]
    elif n_classes == 2:
        want_sets = [set(np.flatnonzero(informative.any(axis=1)))] * 2
        want_groups, names = labels, ["C0", "C1"]
    else:
        want_sets = [set(np.flatnonzero(informative[:, c])) for c in range(n_classes)]
        want_groups, names = labels, ["C0", "C1", "C2"]
    present = sorted(set(want_groups))
    assert truth.names == [names[c] for c in present]
    for j, c in enumerate(present):
        assert set(np.flatnonzero(truth.sets[j])) == want_sets[c]
    np.testing.assert_array_equal(truth.groups, [present.index(g) for g in want_groups])

    a = normalize_rows(rng.standard_normal((n_obs, n_genes)))
    table = feature_agreement(a, truth, precision_k=(3, 10))
    want = ref_agreement(a, truth.groups, [want_sets[c] for c in present], (3, 10))
    check(table, want, truth.names)


def test_diffusion_matches_dense_product():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 15))
    dense = rng.random((15, 15)) * (rng.random((15, 15)) < 0.3)
    dense = dense + dense.T
    got = diffuse(a, scipy.sparse.csr_matrix(dense))
    want = a @ dense
    want /= np.linalg.norm(want, axis=1, keepdims=True)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)  # float32 result


def test_diffused_agreement_uses_the_diffused_order():
    rng = np.random.default_rng(1)
    informative = random_truth(30, 3, seed=1)
    labels = np.arange(12) % 3
    truth = ground_truth(informative, labels, n_classes=3, class_names=["a", "b", "c"])
    adjacency = scipy.sparse.random(30, 30, density=0.2, random_state=1) + scipy.sparse.eye(30)
    adjacency = (adjacency + adjacency.T).tocsr()
    a = rng.standard_normal((12, 30))
    table = feature_agreement(diffuse(a, adjacency), truth, suffix="_diffused")
    assert table["variant"].str.split(":").str[0].str.endswith("_diffused").all()
    want = ref_agreement(
        diffuse(a, adjacency),
        labels,
        [set(np.flatnonzero(informative[:, c])) for c in range(3)],
        (10, 100),
    )
    table["variant"] = table["variant"].str.replace("_diffused", "")
    check(table, {k: v for k, v in want.items() if "precision@100" not in k[0]}, ["a", "b", "c"])


def test_top_k_hits():
    order = np.array([[2, 0, 1, 3], [3, 2, 1, 0]])
    sets = np.array([[True, False, True, False], [False, False, True, True]])
    np.testing.assert_allclose(top_k_hits(order, sets, np.array([3, 2])), [2 / 3, 1.0])


def test_class_informative_after_a_merge_is_every_informative_gene():
    informative = random_truth(20, 4, seed=3)
    got = class_informative(informative, n_classes=2)
    np.testing.assert_array_equal(got, np.stack([informative.any(axis=1)] * 2))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"n_classes": 2}, "obs\\['subclass'\\] is missing", id="no-subclass"),
        pytest.param(
            {"n_classes": 3, "subclasses": np.array([0, 1, 1]), "subclass_names": ["a", "b", "c"]},
            "differs from obs",
            id="mismatch",
        ),
    ],
)
def test_ground_truth_errors(kwargs, message):
    informative = random_truth(10, 3, seed=0)
    with pytest.raises(InputError, match=message):
        ground_truth(informative, np.array([0, 1, 2]), class_names=["a", "b", "c"], **kwargs)


def test_empty_informative_set_is_an_error():
    informative = np.zeros((10, 3), dtype=bool)
    informative[0, 0] = True
    truth = ground_truth(informative, np.array([0, 1]), n_classes=3, class_names=["a", "b", "c"])
    with pytest.raises(InputError, match="group 'b' has none"):
        feature_agreement(np.ones((2, 10), dtype=np.float32), truth)
