"""genexai.train: the training loop against a plain reference loop, metrics, fit()."""

from __future__ import annotations

import json
import logging

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import balanced_accuracy_score
from torch import nn

from genexai import keys
from genexai.errors import InputError
from genexai.graph import Graph, correlation_graph
from genexai.models import (
    ARCHS,
    build_model,
    derived_seed,
    load_model,
    preprocessing_reference,
    save_checkpoint,
)
from genexai.train import (
    Schedule,
    evaluate_model,
    fit,
    predict_logits,
    train_model,
    write_metrics,
)

N_GENES, CLASSES = 30, ["A", "B", "C"]
SHORT = {"epochs": 3, "milestones": (2,), "batch_size": 8}


def toy(n: int = 45, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three classes, each shifting its own block of genes; gene blocks co-vary."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    latent = rng.standard_normal((n, N_GENES // 5))
    x = np.repeat(latent, 5, axis=1) + 0.5 * rng.standard_normal((n, N_GENES))
    for c in range(3):
        x[y == c, 10 * c : 10 * c + 5] += 3.0
    return x.astype(np.float32), y


def graph_for(x: np.ndarray) -> Graph:
    return Graph(correlation_graph(x, threshold=0.5), [f"G{g:02d}" for g in range(N_GENES)], 0.5)


def model(arch: str, x: np.ndarray, *, seed: int = 1, dtype=torch.float32, **kwargs):
    graph = graph_for(x).adj if arch.startswith("Diffuse") else None
    net = build_model(arch, n_genes=N_GENES, n_classes=3, graph=graph, seed=seed, **kwargs)
    return net.to(dtype)


def reference_train(net, x, y, *, seed, epochs, lr, momentum, weight_decay, milestones, gamma,
                    batch_size, shuffle):  # fmt: skip
    """The obvious loop: gather each batch by index, call model(x) on it."""
    x = torch.as_tensor(x, dtype=net.linear.weight.dtype)
    y = torch.as_tensor(y)
    order = torch.Generator().manual_seed(derived_seed(seed, "order"))
    optimiser = torch.optim.SGD(
        net.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay
    )
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimiser, list(milestones), gamma)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derived_seed(seed, "dropout"))
        for _ in range(epochs):
            net.train()
            perm = torch.randperm(len(y), generator=order) if shuffle else torch.arange(len(y))
            for start in range(0, len(y), batch_size):
                idx = perm[start : start + batch_size]
                loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
            scheduler.step()
    return net.eval()


def options(**overrides) -> dict:
    return {**Schedule().__dict__, **SHORT, **overrides}


@pytest.mark.parametrize("shuffle", [True, False], ids=["shuffle", "sequential"])
@pytest.mark.parametrize("arch", ARCHS)
def test_training_equals_reference_loop(arch, shuffle):
    x, y = toy()
    opts = options(shuffle=shuffle, lr=0.05)
    # float64: the fused optimiser and the precomputed diffusion only change
    # rounding, which float64 keeps far below the tolerance.
    fast = model(arch, x, dtype=torch.float64)
    slow = model(arch, x, dtype=torch.float64)
    history = train_model(fast, x, y, seed=7, **opts)
    reference_train(slow, x, y, seed=7, **opts)
    assert not fast.training
    assert history["epoch"] == [1, 2, 3]
    for (name, a), b in zip(fast.state_dict().items(), slow.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9, msg=name)


@pytest.mark.parametrize("arch", ARCHS)
def test_same_seed_same_model_on_cpu(arch):
    x, y = toy()
    runs = []
    for seed in (3, 3, 4):
        net = model(arch, x)
        runs.append((train_model(net, x, y, seed=seed, **options()), net.state_dict()))
    (h1, s1), (h2, s2), (_, s3) = runs
    assert h1 == h2
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    assert not torch.equal(s1["linear.weight"], s3["linear.weight"])


def test_sequential_order_ignores_the_seed():
    """Without shuffling or dropout, the training seed has nothing to draw."""
    x, y = toy()
    a, b = model("LR", x, dropout=0), model("LR", x, dropout=0)
    train_model(a, x, y, seed=1, **options(shuffle=False))
    train_model(b, x, y, seed=2, **options(shuffle=False))
    assert torch.equal(a.linear.weight, b.linear.weight)


def test_global_rng_untouched():
    x, y = toy()
    before = torch.get_rng_state()
    train_model(model("LR", x), x, y, seed=0, **options())
    assert torch.equal(torch.get_rng_state(), before)


def test_learning_rate_schedule_and_curve():
    x, y = toy(n=16)
    history = train_model(model("LR", x), x, y, seed=0, batch_size=16)  # paper defaults
    assert history["epoch"] == list(range(1, 26))
    assert history["lr"] == pytest.approx([0.1] * 12 + [0.01] * 10 + [0.001] * 3)
    assert all(np.isfinite(history["loss"])) and all(0 <= a <= 100 for a in history["accuracy"])


@pytest.mark.parametrize("arch", ARCHS)
def test_models_learn_separable_classes(arch):
    x, y = toy(n=90)
    net = model(arch, x)
    history = train_model(net, x, y, seed=0, epochs=10, milestones=(8,), batch_size=16, lr=0.02)
    assert history["loss"][-1] < history["loss"][0]
    assert evaluate_model(net, x, y, CLASSES)["accuracy"] > 90


def test_batch_norm_skips_a_single_last_sample(caplog):
    x, y = toy(n=33)
    with caplog.at_level(logging.WARNING, logger="genexai.train"):
        history = train_model(model("MLP", x), x, y, seed=0, **options(batch_size=16))
    assert "last batch of 1 is skipped" in caplog.text
    assert len(history["loss"]) == 3
    with pytest.raises(InputError, match="at least 2 training samples"):
        train_model(model("MLP", x), x[:1], y[:1], seed=0, epochs=1)


@pytest.mark.parametrize(
    ("data", "kwargs", "match"),
    [
        pytest.param((0, N_GENES), {}, "empty training split", id="empty"),
        pytest.param((10, 5), {}, r"expected x \(10, 30\)", id="genes"),
        pytest.param((10, N_GENES), {"labels": 7}, r"class indices in \[0, 3\)", id="labels"),
        pytest.param((10, N_GENES), {"epochs": 0}, "^epochs: ", id="epochs"),
        pytest.param((10, N_GENES), {"lr": 0.0}, "^lr: ", id="lr"),
        pytest.param((10, N_GENES), {"milestones": (5, 3)}, "^milestones: ", id="milestones"),
        pytest.param((10, N_GENES), {"batch_size": 0}, "^batch_size: ", id="batch"),
        pytest.param((10, N_GENES), {"device": "tpu"}, "^device: ", id="device"),
    ],
)
def test_train_model_errors(data, kwargs, match):
    x = np.zeros(data, np.float32)
    y = np.full(data[0], kwargs.pop("labels", 0))
    with pytest.raises(InputError, match=match):
        train_model(model("LR", toy()[0]), x, y, seed=0, **kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_requested_without_gpu_fails():
    x, y = toy()
    with pytest.raises(InputError, match="device 'cuda': CUDA is not available"):
        train_model(model("LR", x), x, y, seed=0, device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("arch", ARCHS)
def test_cuda_training_matches_cpu(arch):
    x, y = toy()
    cpu, gpu = model(arch, x, dropout=0), model(arch, x, dropout=0)
    train_model(cpu, x, y, seed=0, device="cpu", **options())
    train_model(gpu, x, y, seed=0, device="cuda", **options())
    for name, value in gpu.state_dict().items():
        torch.testing.assert_close(value.cpu(), cpu.state_dict()[name], rtol=1e-3, atol=1e-4)


# --- evaluation -----------------------------------------------------------------


class FixedLogits(nn.Module):
    """Returns its input as logits."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_evaluate_model_against_hand_computation():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((40, 3)).astype(np.float32)
    y = np.r_[np.zeros(25, int), np.ones(15, int)]  # class C absent from y
    metrics = evaluate_model(FixedLogits(), logits, y, CLASSES, batch_size=7)
    predicted = logits.argmax(axis=1)
    matrix = np.zeros((3, 3), int)
    for t, p in zip(y, predicted, strict=True):
        matrix[t, p] += 1
    recall = [matrix[c, c] / matrix[c].sum() for c in (0, 1)]
    assert metrics["n"] == 40
    assert metrics["confusion_matrix"] == matrix.tolist()
    assert metrics["accuracy"] == pytest.approx(100 * np.mean(predicted == y))
    assert metrics["balanced_accuracy"] == pytest.approx(100 * np.mean(recall))
    assert metrics["balanced_accuracy"] == pytest.approx(
        100 * balanced_accuracy_score(y, predicted)
    )
    assert metrics["recall"] == {"A": pytest.approx(100 * recall[0]),
                                 "B": pytest.approx(100 * recall[1]), "C": None}  # fmt: skip


def test_predict_logits_by_batches_equals_one_pass():
    x, _ = toy()
    net = model("MLP", x).eval()
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(predict_logits(net, x, batch_size=4), expected, rtol=1e-6, atol=1e-6)


# --- fit on a prepared dataset -------------------------------------------------


def prepared(n: int = 60, *, seed: int = 0) -> ad.AnnData:
    x, y = toy(n, seed)
    obs = pd.DataFrame(
        {
            keys.LABEL: pd.Categorical.from_codes(y, categories=CLASSES),
            keys.SPLIT: pd.Categorical(["test" if i % 4 == 0 else "train" for i in range(n)]),
        },
        index=[f"sample{i:05d}" for i in range(n)],
    )
    var = pd.DataFrame(
        {keys.MEAN: np.zeros(N_GENES), keys.STD: np.ones(N_GENES)},
        index=[f"G{g:02d}" for g in range(N_GENES)],
    )
    adata = ad.AnnData(X=x, obs=obs, var=var)
    adata.uns[keys.UNS] = {keys.PREPARE: {"transform": "zscore", "mean": np.zeros(3)}}
    return adata


def train_graph(adata: ad.AnnData) -> Graph:
    return graph_for(adata.X[adata.obs[keys.SPLIT] == "train"])


@pytest.mark.parametrize("arch", ARCHS)
def test_fit_outputs(arch, tmp_path):
    adata = prepared()
    graph = train_graph(adata) if arch.startswith("Diffuse") else None
    result = fit(adata, arch=arch, seed=2, graph=graph, schedule=Schedule(**SHORT), device="cpu")
    m = result.metrics
    assert (m["model"], m["seed"], m["device"], m["classes"]) == (arch, 2, "cpu", CLASSES)
    assert (m["n_train"], m["n_test"]) == (45, 15)
    assert m["train_accuracy"] == m["train"]["accuracy"]
    assert m["balanced_accuracy"] == m["test"]["balanced_accuracy"]
    assert len(m["history"]["loss"]) == 3 and m["hparams"]["epochs"] == 3
    assert np.array(m["test"]["confusion_matrix"]).sum() == 15
    meta = result.meta
    assert meta["genes"] == list(adata.var_names) and meta["classes"] == CLASSES
    assert meta["seed"] == 2 and meta["training"]["device"] == "cpu"
    assert meta["preprocessing"]["sha256"] == preprocessing_reference(adata)["sha256"]
    assert (meta["graph"] is None) == (graph is None)
    assert result.model.genexai["arch"] == arch
    json.dumps(m), json.dumps(meta)  # serialisable
    # The checkpoint round trip reproduces the test predictions.
    save_checkpoint(tmp_path / "m.pt", result.model, meta=meta)
    loaded = load_model(tmp_path / "m.pt")
    test = adata[adata.obs[keys.SPLIT] == "test"]
    codes = test.obs[keys.LABEL].cat.codes.to_numpy()
    assert evaluate_model(loaded, test.X, codes, CLASSES) == m["test"]


def test_fit_aligns_the_graph_by_gene_name():
    adata = prepared()
    graph = train_graph(adata)
    order = np.random.default_rng(0).permutation(N_GENES)
    shuffled = Graph(graph.adj[order][:, order].tocsr(), [graph.genes[i] for i in order], 0.5)
    args = {"arch": "DiffuseLR", "seed": 0, "schedule": Schedule(**SHORT), "device": "cpu"}
    a = fit(adata, graph=graph, **args).model.state_dict()
    b = fit(adata, graph=shuffled, **args).model.state_dict()
    for key, value in a.items():
        torch.testing.assert_close(b[key], value, rtol=1e-6, atol=1e-6, msg=key)


def test_fit_without_test_rows():
    adata = prepared()
    adata.obs[keys.SPLIT] = pd.Categorical(["train"] * adata.n_obs)
    m = fit(adata, arch="LR", seed=0, schedule=Schedule(epochs=1), device="cpu").metrics
    assert m["n_test"] == 0 and m["test"] is None and m["balanced_accuracy"] is None


def _no_split(a):
    del a.obs[keys.SPLIT]


def _no_train(a):
    a.obs[keys.SPLIT] = pd.Categorical(["test"] * a.n_obs)


def _class_only_in_test(a):
    labels = a.obs[keys.LABEL].astype(str).to_numpy()
    labels[a.obs[keys.SPLIT].to_numpy() == "test"] = "D"
    a.obs[keys.LABEL] = pd.Categorical(labels, categories=[*CLASSES, "D"])


def _one_class(a):
    a.obs[keys.LABEL] = pd.Categorical(["A"] * a.n_obs)


def _text_labels(a):
    a.obs[keys.LABEL] = a.obs[keys.LABEL].astype(str)


@pytest.mark.parametrize(
    ("edit", "kwargs", "match"),
    [
        pytest.param(_no_split, {}, r"obs\['split'\] is missing", id="no-split"),
        pytest.param(_no_train, {}, "empty training split", id="empty-train"),
        pytest.param(_class_only_in_test, {}, r"without training samples: \['D'\]", id="class"),
        pytest.param(_one_class, {}, "at least 2 classes", id="one-class"),
        pytest.param(_text_labels, {}, "must be categorical", id="labels"),
        pytest.param(None, {"arch": "DiffuseLR"}, "graph: model DiffuseLR needs", id="no-graph"),
        pytest.param(None, {"arch": "NN"}, "arch: expected one of", id="arch"),
    ],
)
def test_fit_errors(edit, kwargs, match):
    adata = prepared()
    if edit is not None:
        edit(adata)
    args = {"arch": "LR", "seed": 0, "schedule": Schedule(epochs=1), "device": "cpu", **kwargs}
    with pytest.raises(InputError, match=match):
        fit(adata, where="data.h5ad", **args)


def test_fit_refuses_a_graph_of_other_genes():
    adata = prepared()
    graph = train_graph(adata)
    other = Graph(graph.adj, [*graph.genes[:-1], "OTHER"], 0.5)
    with pytest.raises(InputError, match="data.h5ad vs graph: graph genes do not match"):
        fit(adata, arch="DiffuseMLP", seed=0, graph=other, where="data.h5ad", device="cpu")


# --- preprocessing reference and metrics file ---------------------------------


def test_preprocessing_reference_tracks_the_transform():
    a, b = prepared(), prepared()
    ref = preprocessing_reference(a)
    assert ref == preprocessing_reference(b)
    assert ref["prepare"]["transform"] == "zscore"
    assert ref["prepare"]["mean"]["shape"] == [3]
    b.var[keys.STD] = 2.0
    assert preprocessing_reference(b)["sha256"] != ref["sha256"]
    b.uns[keys.UNS][keys.PREPARE]["mean"] = np.ones(3)
    assert preprocessing_reference(b)["prepare"] != ref["prepare"]
    bare = ad.AnnData(np.zeros((2, 2), np.float32))
    assert preprocessing_reference(bare) == {"prepare": None, "sha256": None}


def test_write_metrics(tmp_path):
    path = tmp_path / "metrics.json"
    write_metrics({"train_accuracy": 97.5, "recall": {"A": None}}, path)
    assert json.loads(path.read_text()) == {"train_accuracy": 97.5, "recall": {"A": None}}
