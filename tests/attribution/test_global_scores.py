"""genexai.attribution.global_scores: a linear model's coefficients, and given class scores."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
import torch

from genexai.attribution import METHODS, ClassScores, Coefficients
from genexai.errors import InputError
from genexai.models import build_model

N_GENES, N_CLASSES = 12, 3


def gene_model(arch: str, *, seed: int = 0):
    """A genexai model with random (non-default) weights; diffused ones get a symmetric graph."""
    graph = None
    if arch.startswith("Diffuse"):
        rng = np.random.default_rng(seed)
        dense = rng.random((N_GENES, N_GENES)) * (rng.random((N_GENES, N_GENES)) < 0.3)
        graph = scipy.sparse.csr_array(((dense + dense.T) / 2).astype(np.float32))
    model = build_model(arch, n_genes=N_GENES, n_classes=N_CLASSES, graph=graph, seed=seed)
    model.genexai = {"arch": arch}
    return model.eval(), graph


def batch(n: int = 9, *, seed: int = 1):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, N_GENES, generator=gen)
    return x, torch.zeros(N_GENES), torch.arange(n) % N_CLASSES


def test_coefficients_is_registered():
    assert METHODS["coefficients"] is Coefficients


@pytest.mark.parametrize("output", ["probability", "logit"])
def test_lr_coefficients_are_the_weight_rows(output):
    model, _ = gene_model("LR")
    x, b, target = batch()
    result = Coefficients(model, output=output).attribute(x, b, target)
    weight = model.linear.weight.detach().numpy()
    np.testing.assert_array_equal(result.values.numpy(), weight[target.numpy()])
    np.testing.assert_array_equal(result.n_steps.numpy(), np.zeros(len(x), np.int64))
    assert result.values.dtype == x.dtype


def test_diffuse_lr_coefficients_fold_the_graph():
    model, graph = gene_model("DiffuseLR", seed=2)
    x, b, target = batch(seed=3)
    values = Coefficients(model).attribute(x, b, target).values.numpy()
    weight = model.linear.weight.detach().double().numpy()
    expected = weight @ graph.toarray().astype(np.float64).T  # W Âᵀ
    assert not np.allclose(expected, weight)  # the graph does change the weights
    np.testing.assert_allclose(values, expected[target.numpy()], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("arch", ["MLP", "DiffuseMLP"])
def test_coefficients_refuse_nonlinear_models(arch):
    model, _ = gene_model(arch)
    with pytest.raises(InputError, match=f"^method: 'coefficients' .* architecture '{arch}'$"):
        Coefficients(model)


def test_coefficients_refuse_a_model_without_the_contract():
    model = torch.nn.Sequential(torch.nn.Linear(N_GENES, N_CLASSES)).eval()
    with pytest.raises(InputError, match="architecture 'Sequential'"):
        Coefficients(model)


def test_class_scores_give_each_example_its_target_row():
    model, _ = gene_model("MLP")  # any model: only its number of classes is used
    scores = np.random.default_rng(0).standard_normal((N_CLASSES, N_GENES))
    x, b, target = batch()
    result = ClassScores(model, scores=scores).attribute(x, b, target)
    np.testing.assert_array_equal(result.values.numpy(), scores.astype(np.float32)[target.numpy()])
    assert result.values.dtype == torch.float32
    assert not result.n_steps.any()


@pytest.mark.parametrize(
    ("scores", "match"),
    [
        pytest.param(np.zeros((N_CLASSES, N_GENES - 1)), r"expected shape \(3, 12\)", id="genes"),
        pytest.param(np.zeros((N_CLASSES + 1, N_GENES)), r"found \(4, 12\)", id="classes"),
    ],
)
def test_class_scores_of_another_shape_are_refused(scores, match):
    model, _ = gene_model("LR")
    with pytest.raises(InputError, match=f"^scores: .*{match}"):
        ClassScores(model, scores=scores).attribute(*batch())


@pytest.mark.parametrize(
    "scores", [np.zeros(N_GENES), np.full((N_CLASSES, N_GENES), np.nan)], ids=["1d", "nan"]
)
def test_class_scores_must_be_a_finite_matrix(scores):
    with pytest.raises(InputError, match=r"^scores: expected finite numbers \(n_classes"):
        ClassScores(gene_model("LR")[0], scores=scores)
