"""The first-linear-layer contract (docs/architecture.md).

Every genexai model maps ``x`` to ``head(x @ input_weight().T + input_bias())``
in eval mode. The fast IG path and the prediction-gap kernels use it to work
in the hidden space; other models fall back to plain forward passes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


def has_linear_input(model: nn.Module) -> bool:
    """Whether ``model`` exposes the first-linear-layer contract.

    That is ``input_weight() (H, G)``, ``input_bias() (H,)`` and ``head(z)``
    with ``model(x) == head(x @ input_weight().T + input_bias())``
    (``docs/architecture.md``).
    """
    return all(
        callable(getattr(model, name, None)) for name in ("input_weight", "input_bias", "head")
    )


@dataclass(frozen=True)
class FirstLayer:
    """A model split as ``x ↦ head(x @ weight.T + bias)`` (the first-linear-layer contract).

    Attributes
    ----------
    weight
        ``(n_hidden, n_genes)`` float32.
    bias
        ``(n_hidden,)`` float32.
    head
        Maps ``(n, n_hidden)`` float32 to logits ``(n, n_classes)``.
    mlp_head
        The head as plain arrays where it is one the compiled kernels know
        (:mod:`._kernels`): ``None`` for the identity (LR families);
        ``(scale, shift, weight, bias)`` for BatchNorm1d (eval, folded into
        ``scale``/``shift``, ``(n_hidden,)``) → ReLU → Linear (``(n_classes,
        n_hidden)``, ``(n_classes,)``), all float32 numpy.
    fused
        Whether ``mlp_head`` describes the head (else only ``head`` does).
    """

    weight: torch.Tensor
    bias: torch.Tensor
    head: Callable[[torch.Tensor], torch.Tensor]
    mlp_head: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    fused: bool = False

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ weight.T + bias``: ``(n, n_genes)`` → ``(n, n_hidden)``."""
        return torch.addmm(self.bias, x, self.weight.T)


def first_layer(model: nn.Module) -> FirstLayer | None:
    """The model's first-linear-layer contract as arrays, or None if it has none."""
    if not has_linear_input(model):
        return None
    with torch.no_grad():
        weight = model.input_weight().detach().float().contiguous()
        bias = model.input_bias().detach().float()
    fused, mlp_head = _known_head(model.head)
    return FirstLayer(weight=weight, bias=bias, head=model.head, mlp_head=mlp_head, fused=fused)


def _known_head(head: Callable) -> tuple[bool, tuple | None]:
    """``(fused, mlp_head)`` of :class:`FirstLayer` for ``head``."""
    if isinstance(head, nn.Identity):
        return True, None
    parts = list(head) if isinstance(head, nn.Sequential) else []
    kinds = [type(p) for p in parts]
    if (
        kinds != [nn.BatchNorm1d, nn.ReLU, nn.Linear]
        or parts[0].training
        or parts[0].running_var is None
        or parts[2].bias is None
    ):
        return False, None
    norm, linear = parts[0], parts[2]
    with torch.no_grad():
        var, mean = norm.running_var.double(), norm.running_mean.double()
        gamma = norm.weight.double() if norm.affine else torch.ones_like(var)
        beta = norm.bias.double() if norm.affine else torch.zeros_like(var)
        scale = gamma / torch.sqrt(var + norm.eps)
        shift = beta - mean * scale
        arrays = (scale, shift, linear.weight, linear.bias)
        return True, tuple(np.ascontiguousarray(a.float().numpy()) for a in arrays)
