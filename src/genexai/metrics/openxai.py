"""OpenXAI's prediction gaps: Gaussian noise on the top-k genes or on the rest.

Not the paper's PG (:mod:`.prediction_gaps`); after ``openxai/metrics.py``
``eval_pred_faithfulness`` (anchors.md §1a), made multiclass:

- the top-``k`` genes of an example are those of largest ``|a|`` (ties by
  gene index);
- ``x' = x + ε`` with ``ε ~ N(0, σ²)`` on the top-``k`` genes only
  (``openxai_pgi``) or on all the others (``openxai_pgu``);
- per example, the mean over ``n_samples`` draws of ``|F_t(x') − F_t(x)|``,
  with ``F_t`` the softmax probability of the explained class ``t`` (OpenXAI
  reads column 0, which only suits 2 classes).

Both use the same draw ``ε`` of shape ``(n_samples, n_genes)`` per example
(PGI its top-``k`` entries, PGU the others), from a generator of its own
(:func:`example_noise`), so batching does not change the numbers. Higher
PGI and lower PGU are better.

Models with the first-linear-layer contract see the noise only through
``ε Wᵀ``. On the ``G − k`` other genes that is a Gaussian vector of the
hidden width ``H`` with covariance ``σ² (W Wᵀ − W_top W_topᵀ)``, so PGU
draws it directly (``H`` normals per sample instead of ``G − k``); PGI
draws its ``k`` entries of ``ε``. Same law, other numbers than the forward
path: drawing ``n_samples × G`` normals per example was most of the metric
(4 s of a 6 s SimuB evaluation).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..models import first_layer
from ._common import group_means, stable_order, target_prob


def example_noise(
    seed: int, index: int, shape: tuple[int, ...], *, out: torch.Tensor | None = None
) -> torch.Tensor:
    """Standard normal draws of example ``index``: ``torch.randn(shape)`` from a
    generator seeded by ``numpy.random.SeedSequence([seed, index])``.

    One generator per example makes the draws independent of batching.
    ``out``, if given, receives them.
    """
    state = np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0]
    return torch.randn(shape, generator=torch.Generator().manual_seed(int(state)), out=out)


def openxai_gaps(
    model: nn.Module,
    x: np.ndarray,
    attributions: np.ndarray,
    target: np.ndarray,
    *,
    k: int = 100,
    sigma: float = 0.1,
    n_samples: int = 50,
    seed: int = 0,
    batch_size: int = 16,
) -> tuple[np.ndarray, np.ndarray]:
    """OpenXAI PGI and PGU of every example.

    Parameters
    ----------
    model
        Eval-mode classifier (logits).
    x
        ``(n_obs, n_genes)`` float32.
    attributions
        ``(n_obs, n_genes)`` float.
    target
        ``(n_obs,)`` int: the explained class.
    k
        Genes perturbed by PGI (kept by PGU). Default: 100.
    sigma
        Standard deviation of the noise, in the model's input units. Default: 0.1.
    n_samples
        Draws per example. Default: 50.
    seed
        Example ``i`` draws its noise with :func:`example_noise` ``(seed, i)``. Default: 0.
    batch_size
        Examples per batch; memory ``2 · batch_size · n_samples · n_genes``
        floats. Default: 16.

    Returns
    -------
    pgi, pgu
        ``(n_obs,)`` float64, mean ``|ΔF_t|`` in probability units.

    Notes
    -----
    With the first-linear-layer contract, ``z(x + ε ⊙ m) = z(x) + (ε ⊙ m) Wᵀ``:
    PGI needs only the top-``k`` columns of ``W``, and PGU's term is drawn
    from its law (see the module docstring), so no perturbed input is
    built. Other models run forward passes on the perturbed inputs.
    """
    x = np.asarray(x, dtype=np.float32)
    n, n_genes = x.shape
    k = min(k, n_genes)
    top = torch.from_numpy(
        stable_order(np.abs(np.asarray(attributions, dtype=np.float32)), descending=True)[:, :k]
    )
    layer = first_layer(model)
    pgi, pgu = np.empty(n), np.empty(n)
    if layer is not None:
        weight_t = layer.weight.T
        gram = (layer.weight.double() @ weight_t.double())[None]  # (1, H, H)
        n_hidden = gram.shape[-1]
    with torch.no_grad():
        for start in range(0, n, batch_size):
            rows = slice(start, min(start + batch_size, n))
            xb = torch.from_numpy(x[rows])
            tb = torch.as_tensor(np.asarray(target[rows], dtype=np.int64))
            nb = len(xb)
            top_b = top[rows]
            if layer is not None:
                draws = torch.empty((nb, n_samples, k + n_hidden))
                for j in range(nb):  # one generator per example (see example_noise)
                    example_noise(seed, rows.start + j, draws.shape[1:], out=draws[j])
                w_top = weight_t[top_b]  # (nb, k, H)
                d_top = torch.bmm(sigma * draws[..., :k], w_top)  # (nb, S, H)
                # ε Wᵀ on the other genes ~ N(0, σ² Σ), Σ = W Wᵀ − W_topᵀ W_top,
                # positive semi-definite. Its symmetric square root V √Λ Vᵀ is
                # unique, unlike V √Λ: eigenvectors' signs (and bases of repeated
                # eigenvalues) vary with LAPACK's code path, e.g. the thread count.
                w64 = w_top.double()
                values, vectors = torch.linalg.eigh(gram - w64.transpose(1, 2) @ w64)
                root = (vectors * values.clamp(min=0).sqrt()[:, None, :]) @ vectors.transpose(1, 2)
                d_rest = sigma * (draws[..., k:].double() @ root).float()
                z0 = layer.hidden(xb)
                p0 = target_prob(layer.head(z0), tb)[:, None]
                shifts = ((pgi, d_top), (pgu, d_rest))
                probs = [
                    (
                        out,
                        target_prob(
                            layer.head((z0[:, None] + dz).reshape(-1, dz.shape[-1])).reshape(
                                nb, n_samples, -1
                            ),
                            tb[:, None],
                        ),
                    )
                    for out, dz in shifts
                ]
            else:
                noise = torch.empty((nb, n_samples, n_genes))
                for j in range(nb):
                    example_noise(seed, rows.start + j, (n_samples, n_genes), out=noise[j])
                noise.mul_(sigma)
                p0 = target_prob(model(xb), tb)[:, None]
                mask = torch.zeros((nb, 1, n_genes), dtype=torch.bool)
                mask.scatter_(2, top_b[:, None, :], value=True)
                probs = []
                for out, where in ((pgi, mask), (pgu, ~mask)):
                    perturbed = (xb[:, None, :] + noise * where).reshape(-1, n_genes)
                    logits = model(perturbed).reshape(nb, n_samples, -1)
                    probs.append((out, target_prob(logits, tb[:, None])))
            for out, p in probs:
                out[rows] = (p - p0).abs().double().mean(dim=1).numpy()
    return pgi, pgu


def openxai_prediction_gaps(
    model: nn.Module,
    x: np.ndarray,
    attributions: np.ndarray,
    target: np.ndarray,
    labels: np.ndarray,
    *,
    class_names: Sequence[str],
    k: int = 100,
    sigma: float = 0.1,
    n_samples: int = 50,
    max_examples: int = 500,
    seed: int | np.random.Generator = 0,
    batch_size: int = 16,
) -> pd.DataFrame:
    """``openxai_pgi`` and ``openxai_pgu``, class-balanced, in percent.

    Parameters
    ----------
    model, x, attributions, target
        As :func:`openxai_gaps`; ``x`` holds the correctly classified examples.
    labels
        ``(n_obs,)`` int: their task classes.
    class_names
        The model's class names, in class-index order.
    k, sigma, n_samples, batch_size
        As :func:`openxai_gaps`.
    max_examples
        At most this many examples, drawn at random (without replacement)
        when there are more. Default: 500.
    seed
        Seed or Generator of the subset and the noise. Default: 0.

    Returns
    -------
    Columns ``metric, variant, value``: variant ``local`` (mean over classes
    of the class means, × 100) and ``local:<class>`` per class.
    """
    rng = np.random.default_rng(seed)
    rows = np.arange(len(x))
    if len(rows) > max_examples:
        rows = np.sort(rng.choice(len(rows), size=max_examples, replace=False))
    pgi, pgu = openxai_gaps(
        model,
        x[rows],
        attributions[rows],
        np.asarray(target)[rows],
        k=k,
        sigma=sigma,
        n_samples=n_samples,
        seed=int(rng.integers(2**63)),
        batch_size=batch_size,
    )
    groups = np.asarray(labels)[rows]
    present = np.unique(groups)
    table = []
    for metric, values in (("openxai_pgi", pgi), ("openxai_pgu", pgu)):
        per_class = 100 * group_means(values, groups, len(class_names))[present]
        table.append((metric, "local", float(per_class.mean())))
        table += [
            (metric, f"local:{class_names[c]}", float(v))
            for c, v in zip(present, per_class, strict=True)
        ]
    return pd.DataFrame(table, columns=["metric", "variant", "value"])
