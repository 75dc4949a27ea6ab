"""genexai.metrics.prediction_gaps and .openxai: fast paths against plain loops (§6, anchors §1a).

Also holds the small contract-implementing models the other metric tests
import (``from test_prediction_gaps import ...``).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse
import torch
from torch import nn

from genexai.metrics import (
    example_noise,
    gap_curves,
    normalize_rows,
    openxai_gaps,
    openxai_prediction_gaps,
    prediction_gaps,
    stable_order,
)
from genexai.metrics._common import target_prob
from genexai.metrics.prediction_gaps import _gap_curves
from genexai.models import build_model, first_layer

# Probability units. The fast path sums float32 terms in another order than a
# float64 forward pass; over at most a few hundred genes that moves a
# probability by ~1e-7, far below this.
ATOL = 1e-5


class LinearModel(nn.Module):
    """LR with the first-linear-layer contract: ``head`` is the identity."""

    def __init__(self, n_genes: int, n_classes: int, *, seed: int) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.weight = nn.Parameter(torch.randn(n_classes, n_genes, generator=gen))
        self.bias = nn.Parameter(torch.randn(n_classes, generator=gen))

    def input_weight(self) -> torch.Tensor:
        return self.weight

    def input_bias(self) -> torch.Tensor:
        return self.bias

    def head(self, z: torch.Tensor) -> torch.Tensor:
        return z

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x @ self.input_weight().T + self.input_bias())


class MLPModel(nn.Module):
    """Linear → BatchNorm (eval, non-trivial statistics) → ReLU → Linear, with the contract."""

    def __init__(self, n_genes: int, n_classes: int, *, seed: int, n_hidden: int = 6) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.first = nn.Linear(n_genes, n_hidden)
        self.rest = nn.Sequential(
            nn.BatchNorm1d(n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_classes)
        )
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=gen))
            self.rest[0].running_mean.copy_(torch.randn(n_hidden, generator=gen))
            self.rest[0].running_var.copy_(torch.rand(n_hidden, generator=gen) + 0.5)
        self.eval()

    def input_weight(self) -> torch.Tensor:
        return self.first.weight

    def input_bias(self) -> torch.Tensor:
        return self.first.bias

    def head(self, z: torch.Tensor) -> torch.Tensor:
        return self.rest(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rest(self.first(x))


class PlainModel(nn.Module):
    """A model without the contract: metrics must fall back to forward passes."""

    def __init__(self, n_genes: int, n_classes: int, *, seed: int) -> None:
        super().__init__()
        torch.manual_seed(seed)  # test-local weights; no library code draws here
        self.net = nn.Sequential(nn.Linear(n_genes, 5), nn.Tanh(), nn.Linear(5, n_classes))
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def gene_model(arch: str):
    """A genexai model whose head the compiled kernel runs (:mod:`genexai.metrics._kernels`)."""

    def build(n_genes: int, n_classes: int, *, seed: int) -> nn.Module:
        graph = None
        if arch.startswith("Diffuse"):
            rng = np.random.default_rng(seed)
            dense = rng.random((n_genes, n_genes)) * (rng.random((n_genes, n_genes)) < 0.2)
            graph = scipy.sparse.csr_array(((dense + dense.T) / 2).astype(np.float32))
        model = build_model(arch, n_genes=n_genes, n_classes=n_classes, graph=graph, seed=seed)
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.randn(p.shape, generator=gen))
            for name, buf in model.named_buffers():
                if name.endswith("running_mean"):
                    buf.copy_(torch.randn(buf.shape, generator=gen))
                elif name.endswith("running_var"):
                    buf.copy_(torch.rand(buf.shape, generator=gen) + 0.5)
        return model.eval()

    return build


MODELS = {
    "linear": LinearModel,
    "mlp": MLPModel,
    "plain": PlainModel,
    **{arch: gene_model(arch) for arch in ("LR", "MLP", "DiffuseMLP")},
}


def make_model(kind: str, n_genes: int, n_classes: int, *, seed: int = 0) -> nn.Module:
    return MODELS[kind](n_genes, n_classes, seed=seed).eval()


def make_data(n_obs: int, n_genes: int, n_classes: int, *, seed: int, ties: bool = False):
    """Random examples, attributions (rounded to create ties), labels and a correctness mask."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_obs, n_genes)).astype(np.float32)
    a = rng.standard_normal((n_obs, n_genes)).astype(np.float32)
    if ties:
        a = np.round(a, 0)  # many exact ties within each row
    a[0] = 0  # an all-zero row: every gene ties
    labels = np.arange(n_obs) % n_classes
    correct = rng.random(n_obs) < 0.7
    correct[:n_classes] = True
    baseline = (0.3 * rng.standard_normal(n_genes)).astype(np.float32)
    return x, a, baseline, labels, correct


# --- plain reference implementations -----------------------------------


def probs64(model: nn.Module, x: np.ndarray) -> np.ndarray:
    """Softmax probabilities of a float64 copy of the model."""
    import copy

    m = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        return torch.softmax(m(torch.as_tensor(np.asarray(x, dtype=np.float64))), dim=-1).numpy()


def ref_order(values, *, descending: bool) -> list[int]:
    """Python's sort is stable: ties keep the lower index first."""
    return sorted(range(len(values)), key=lambda g: -values[g] if descending else values[g])


def ref_gap_curve(model, x, baseline, target, order, gap) -> np.ndarray:
    n_genes = len(x)
    steps = []
    p0 = probs64(model, x[None])[0, target]
    for j in range(1, n_genes // gap + 1):
        replaced = x.copy()
        for g in order[: gap * j]:
            replaced[g] = baseline[g]
        steps.append(max(p0 - probs64(model, replaced[None])[0, target], 0.0))
    return np.array(steps)


def ref_pg(model, x, baseline, target, order, gap) -> float:
    return gap / len(x) * ref_gap_curve(model, x, baseline, target, order, gap).sum()


def ref_class_mean(values: dict[int, list[float]]) -> float:
    return 100 * float(np.mean([np.mean(v) for v in values.values()]))


# --- tests ----------------------------------------------------------------


def test_normalize_rows():
    a = np.array([[3.0, 4.0], [0.0, 0.0], [-1.0, 0.0]])
    np.testing.assert_allclose(normalize_rows(a), [[0.6, 0.8], [0, 0], [-1, 0]])
    assert normalize_rows(a).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])  # integer-key and argsort paths
@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stable_order_matches_python_sort(seed, descending, dtype):
    rng = np.random.default_rng(seed)
    values = np.round(rng.standard_normal((4, 30)), 0).astype(dtype)
    values[0, :5] = -0.0  # -0.0 and 0.0 tie
    values[1, :3] = [
        np.finfo(dtype).max,
        -np.finfo(dtype).max,
        np.finfo(dtype).tiny / 4,
    ]  # extremes, subnormal
    values[2] *= 1e-3  # not exact in binary
    got = stable_order(values, descending=descending)
    for row, want in zip(got, values, strict=True):
        assert list(row) == ref_order(list(want), descending=descending)


@pytest.mark.parametrize("scale", [1, 50, 1e4], ids=["small", "subnormal-range", "overflow-range"])
def test_target_prob_matches_softmax(scale):
    logits = scale * torch.randn(200, 7, generator=torch.Generator().manual_seed(0))
    target = torch.arange(200) % 7
    got = target_prob(logits, target)
    want = torch.softmax(logits.double(), dim=-1)[torch.arange(200), target]
    assert torch.isfinite(got).all()
    # float32 rounds z_c - z_t by up to |z| · 6e-8, which exp turns into a
    # relative error of the same size (~3e-6 for logits near 50).
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-30)


@pytest.mark.parametrize("gap", [1, 4, 7])
@pytest.mark.parametrize("shared", [True, False], ids=["shared", "local"])
@pytest.mark.parametrize("kind", list(MODELS))
def test_gap_curves_match_loop(kind, shared, gap):
    n_obs, n_genes, n_classes = 5, 23, 3
    model = make_model(kind, n_genes, n_classes, seed=gap)
    x, a, baseline, labels, _ = make_data(n_obs, n_genes, n_classes, seed=gap, ties=True)
    order = (
        stable_order(a.sum(axis=0), descending=True)
        if shared
        else stable_order(a, descending=False)
    )
    got = gap_curves(model, x, baseline, labels, order, gap=gap, batch_size=2)
    assert got.shape == (n_obs, n_genes // gap) and got.dtype == np.float32
    for i in range(n_obs):
        o = order if shared else order[i]
        want = ref_gap_curve(model, x[i], baseline, labels[i], list(o), gap)
        np.testing.assert_allclose(got[i], want, atol=ATOL)


@pytest.mark.parametrize("kind", ["linear", "plain"])
def test_gap_curves_do_not_depend_on_batch_size(kind):
    model = make_model(kind, 30, 4)
    x, a, baseline, labels, _ = make_data(9, 30, 4, seed=3)
    order = stable_order(a, descending=True)
    one = gap_curves(model, x, baseline, labels, order, gap=3, batch_size=1)
    many = gap_curves(model, x, baseline, labels, order, gap=3, batch_size=64)
    np.testing.assert_allclose(one, many, atol=1e-6)


def test_gap_is_zero_when_the_baseline_is_the_input():
    model = make_model("mlp", 20, 3)
    x, a, _, labels, _ = make_data(4, 20, 3, seed=5)
    got = gap_curves(model, x, x[0], labels, stable_order(a, descending=True), gap=2)
    np.testing.assert_allclose(got[0], 0, atol=ATOL)


def reference_table(model, x, a, baseline, labels, correct, *, gap, n_random, seed):
    """Every PG row by plain loops: orders, replacement, per-class means."""
    n_obs, n_genes = x.shape
    a = normalize_rows(a).astype(np.float64)  # checked in test_normalize_rows
    good = [i for i in range(n_obs) if correct[i]]
    classes = sorted({int(labels[i]) for i in good})
    f_base = probs64(model, baseline[None])[0]
    table = {}
    for metric, descending in (("pgi", True), ("pgu", False)):
        pooled = ref_order(a.sum(axis=0), descending=descending)
        per_class_orders = {
            c: ref_order(a[[i for i in good if labels[i] == c]].sum(axis=0), descending=descending)
            for c in classes
        }
        for variant in ("local", "global_pooled", "global_per_class"):
            by_class = {c: [] for c in classes}
            for i in good:
                c = int(labels[i])
                order = {
                    "local": ref_order(a[i], descending=descending),
                    "global_pooled": pooled,
                    "global_per_class": per_class_orders[c],
                }[variant]
                by_class[c].append(ref_pg(model, x[i], baseline, c, order, gap))
            table[metric, variant] = ref_class_mean(by_class)
            if metric == "pgu":
                table["pgu_adjusted", variant] = float(
                    np.mean([100 * np.mean(by_class[c]) / (1 - f_base[c]) for c in classes])
                )
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(n_random):
        order = list(rng.permutation(n_genes))
        by_class = {c: [] for c in classes}
        for i in good:
            by_class[int(labels[i])].append(
                ref_pg(model, x[i], baseline, int(labels[i]), order, gap)
            )
        trials.append(ref_class_mean(by_class))
    table["pgr", "random"] = float(np.mean(trials))
    return table


@pytest.mark.parametrize("kind", list(MODELS))
def test_prediction_gaps_match_reference(kind):
    n_obs, n_genes, n_classes, gap = 14, 22, 3, 4
    model = make_model(kind, n_genes, n_classes, seed=1)
    # Continuous attributions: sums over examples would break exact ties
    # differently depending on the summation order.
    x, a, baseline, labels, correct = make_data(n_obs, n_genes, n_classes, seed=7)
    calls = []
    metrics, curves = prediction_gaps(
        model,
        x,
        a,
        baseline,
        labels,
        labels,
        correct,
        class_names=["A", "B", "C"],
        gap=gap,
        n_random=3,
        seed=11,
        batch_size=4,
        progress=calls.append,
    )
    assert sum(calls) == 6 + 3
    want = reference_table(model, x, a, baseline, labels, correct, gap=gap, n_random=3, seed=11)
    got = metrics.set_index(["metric", "variant"])["value"]
    for key, value in want.items():
        # values are percentages: 100 × the probability-unit tolerance;
        # adjusted PGU divides by 1 − F_c(b), which can be small, so its
        # error grows with it: compare it relatively.
        rtol = 1e-4 if key[0] == "pgu_adjusted" else 0
        np.testing.assert_allclose(got[key], value, atol=100 * ATOL, rtol=rtol, err_msg=str(key))
    per_class = got.loc["pgi"].filter(like="local:")
    assert list(per_class.index) == ["local:A", "local:B", "local:C"]
    np.testing.assert_allclose(per_class.mean(), got["pgi", "local"])
    # The area under each mean gap curve is its PG.
    for (metric, variant), value in want.items():
        if metric == "pgu_adjusted":
            continue
        name = "pgr" if metric == "pgr" else f"{metric}_{variant}"
        curve = curves[curves["curve"] == name]
        assert list(curve["n_genes"]) == list(range(gap, n_genes + 1, gap))
        np.testing.assert_allclose(gap / n_genes * curve["value"].sum(), value, atol=100 * ATOL)


def test_prediction_gaps_are_seeded():
    model = make_model("linear", 20, 2)
    x, a, baseline, labels, correct = make_data(8, 20, 2, seed=2)
    args = (model, x, a, baseline, labels, labels, correct)
    kwargs = {"class_names": ["A", "B"], "gap": 2, "n_random": 4}
    first, _ = prediction_gaps(*args, **kwargs, seed=3)
    again, _ = prediction_gaps(*args, **kwargs, seed=3)
    other, _ = prediction_gaps(*args, **kwargs, seed=4)
    assert first.equals(again)
    pgr = first["metric"] == "pgr"
    assert not np.allclose(first.loc[pgr, "value"], other.loc[pgr, "value"])
    assert first.loc[~pgr].equals(other.loc[~pgr])
    none, curves = prediction_gaps(*args, **{**kwargs, "n_random": 0})
    assert none.equals(first.loc[~pgr].reset_index(drop=True))
    assert "pgr" not in set(curves["curve"])


# --- OpenXAI PGI / PGU ------------------------------------------------------


def ref_openxai(model, x, a, target, *, k, sigma, n_samples, seed):
    """Per example and draw: perturb the top-k (PGI) or the rest (PGU), average |ΔF_t|."""
    n_obs, n_genes = x.shape
    noise = sigma * np.stack(
        [example_noise(seed, i, (n_samples, n_genes)).numpy() for i in range(n_obs)]
    )
    pgi, pgu = [], []
    for i in range(n_obs):
        top = set(ref_order(list(np.abs(a[i])), descending=True)[:k])
        p0 = probs64(model, x[i][None])[0, target[i]]
        sums = [0.0, 0.0]
        for s in range(n_samples):
            for which, inside in ((0, True), (1, False)):
                moved = np.array(
                    [
                        x[i, g] + noise[i, s, g] if (g in top) == inside else x[i, g]
                        for g in range(n_genes)
                    ],
                    dtype=np.float32,
                )
                sums[which] += abs(probs64(model, moved[None])[0, target[i]] - p0)
        pgi.append(sums[0] / n_samples)
        pgu.append(sums[1] / n_samples)
    return np.array(pgi), np.array(pgu)


class Forward(nn.Module):
    """``model`` without the first-linear-layer contract: forward passes only."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


@pytest.mark.parametrize("batch_size", [1, 4])
def test_openxai_gaps_match_loop(batch_size):
    # Forward passes on the perturbed inputs: the definition, draw for draw.
    model = make_model("plain", 15, 4, seed=3)
    x, a, _, labels, _ = make_data(6, 15, 4, seed=3, ties=True)
    got = openxai_gaps(
        model, x, a, labels, k=4, sigma=0.5, n_samples=3, seed=9, batch_size=batch_size
    )
    want = ref_openxai(model, x, a, labels, k=4, sigma=0.5, n_samples=3, seed=9)
    np.testing.assert_allclose(got[0], want[0], atol=ATOL)
    np.testing.assert_allclose(got[1], want[1], atol=ATOL)


@pytest.mark.parametrize("kind", ["linear", "mlp", "LR", "DiffuseMLP"])
def test_openxai_gaps_of_linear_first_layers_have_the_forward_law(kind):
    # The fast path draws ε Wᵀ from its law instead of ε: with many draws
    # its means must agree with forward passes. Small noise keeps ΔF about
    # linear in ε, so |ΔF| is about half-normal (coefficient of variation
    # 0.76): the relative standard error of the difference of two means of
    # 40,000 draws is 0.5 %, and the tolerance about 5 of them.
    model = make_model(kind, 15, 4, seed=3)
    x, a, _, labels, _ = make_data(3, 15, 4, seed=3)
    kwargs = {"k": 4, "sigma": 0.02, "n_samples": 40_000, "batch_size": 1}
    fast = openxai_gaps(model, x, a, labels, seed=9, **kwargs)
    forward = openxai_gaps(Forward(model), x, a, labels, seed=10, **kwargs)
    np.testing.assert_allclose(fast, forward, rtol=0.03)
    again = openxai_gaps(model, x, a, labels, seed=9, **{**kwargs, "batch_size": 3})
    # Gaps near 1e-7 carry float32 summation noise of about 1e-12.
    np.testing.assert_allclose(again, fast, rtol=1e-6, atol=1e-11)


def test_openxai_table_is_class_balanced_and_subsampled():
    model = make_model("linear", 12, 3)
    x, a, _, labels, _ = make_data(30, 12, 3, seed=1)
    table = openxai_prediction_gaps(
        model,
        x,
        a,
        labels,
        labels,
        class_names=["A", "B", "C"],
        k=3,
        n_samples=2,
        max_examples=30,
        seed=0,
    )
    pgi, _ = openxai_gaps(
        model, x, a, labels, k=3, n_samples=2, seed=int(np.random.default_rng(0).integers(2**63))
    )
    got = table.set_index(["metric", "variant"])["value"]
    per_class = [100 * pgi[labels == c].mean() for c in range(3)]
    np.testing.assert_allclose([got["openxai_pgi", f"local:{c}"] for c in "ABC"], per_class)
    np.testing.assert_allclose(got["openxai_pgi", "local"], np.mean(per_class))
    small = openxai_prediction_gaps(
        model,
        x,
        a,
        labels,
        labels,
        class_names=["A", "B", "C"],
        k=3,
        n_samples=2,
        max_examples=5,
        seed=0,
    )
    assert small.equals(
        openxai_prediction_gaps(
            model,
            x,
            a,
            labels,
            labels,
            class_names=["A", "B", "C"],
            k=3,
            n_samples=2,
            max_examples=5,
            seed=0,
        )
    )
    assert not small.equals(table)


@pytest.mark.parametrize("arch", ["LR", "MLP", "DiffuseMLP"])
def test_genexai_models_take_the_compiled_kernel(arch):
    # The kernel must be what runs for the pipeline's own models, and agree
    # with torch's fast path on the same orders.
    model = make_model(arch, 40, 5, seed=2)
    layer = first_layer(model)
    assert layer is not None and layer.fused
    x, a, baseline, labels, _ = make_data(6, 40, 5, seed=2)
    order = stable_order(a, descending=True)
    got = gap_curves(model, x, baseline, labels, order, gap=3)
    torch_path = dataclasses.replace(layer, fused=False)
    with torch.no_grad():
        want = _gap_curves(model, torch_path, x, baseline, labels, order, 3, 4)
    np.testing.assert_allclose(got, want, atol=ATOL)
