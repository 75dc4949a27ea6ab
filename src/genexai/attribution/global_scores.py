"""Global methods: one score vector per class, given to every example of the class.

Scope ``"global"`` (:data:`genexai._defaults.GLOBAL_METHODS`): an example's
values are its target class's row of a ``(n_classes, n_genes)`` matrix,
whatever the example. :class:`Coefficients` takes the matrix from a linear
model's weights; :class:`ClassScores` is given it (the classical rankings of
RANK_GENES). Neither walks a path: ``n_steps`` is 0, and completeness is a
diagnostic only.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import InputError
from ..models import has_linear_input
from ._base import Attribution, Output


def _identity_head(model: nn.Module) -> bool:
    """Whether ``model`` has the first-linear-layer contract with ``head(z) == z``.

    Duck-typed, as the contract itself (:func:`genexai.models.has_linear_input`):
    an ``nn.Identity`` head, or one that returns a probe of unit and negated
    rows unchanged (a ReLU or a width change would not).
    """
    if not has_linear_input(model):
        return False
    if isinstance(model.head, nn.Identity):
        return True
    with torch.no_grad():
        weight = model.input_weight()
        eye = torch.eye(weight.shape[0], dtype=weight.dtype, device=weight.device)
        probe = torch.cat([eye, -2 * eye])
        out = model.head(probe)
    return isinstance(out, Tensor) and out.shape == probe.shape and torch.equal(out, probe)


class Coefficients(Attribution):
    """The model's effective first-layer weight row of the target class.

    ``W[target]`` for LR, ``(W Âᵀ)[target]`` for DiffuseLR (the diffusion
    folded into the weight, :meth:`genexai.models.GeneModel.input_weight`):
    the logit's gradient, the same for every example. Only for models whose
    logits are linear in ``x`` (the first-linear-layer contract with an
    identity head); others are refused when the method is built. ``output``
    is accepted and ignored: the coefficients are those of the logits.
    """

    name: ClassVar[str] = "coefficients"

    def __init__(self, model: nn.Module, *, output: Output = "probability") -> None:
        super().__init__(model, output=output)
        if not _identity_head(model):
            arch = getattr(model, "genexai", {}).get("arch", type(model).__name__)
            msg = (
                f"method: 'coefficients' needs a model whose logits are linear in x "
                f"(LR or DiffuseLR), found architecture {arch!r}"
            )
            raise InputError(msg)

    def _attribute(
        self, x: Tensor, baseline: Tensor, target: Tensor, expected: Tensor
    ) -> tuple[Tensor, Tensor]:
        with torch.no_grad():
            weight = self.model.input_weight().detach()
        return weight[target].to(x), torch.zeros(len(x), dtype=torch.int64)


class ClassScores(Attribution):
    """Given scores per class and gene: each example gets its target class's row.

    The classical rankings (``wilcoxon``, ``t_test``, ``mutual_info``) enter
    ATTRIBUTE through this class; the ranking's name is recorded by the step.

    Parameters
    ----------
    model, output
        See :class:`~._base.Attribution`; the model gives only the number of
        classes checked against ``scores``.
    scores
        ``(n_classes, n_genes)`` finite floats, rows in class-index order,
        columns in the model's gene order; larger = more characteristic.
    """

    name: ClassVar[str] = "class_scores"

    def __init__(
        self, model: nn.Module, *, output: Output = "probability", scores: np.ndarray | Tensor
    ) -> None:
        super().__init__(model, output=output)
        scores = torch.as_tensor(np.asarray(scores, dtype=np.float64))
        if scores.ndim != 2 or not torch.isfinite(scores).all():
            msg = (
                f"scores: expected finite numbers (n_classes, n_genes), "
                f"found shape {tuple(scores.shape)}"
            )
            raise InputError(msg)
        self.scores = scores

    def _attribute(
        self, x: Tensor, baseline: Tensor, target: Tensor, expected: Tensor
    ) -> tuple[Tensor, Tensor]:
        shape, found = (self._count_classes(baseline), x.shape[1]), tuple(self.scores.shape)
        if found != shape:
            msg = f"scores: expected shape {shape} (classes, genes), found {found}"
            raise InputError(msg)
        return self.scores.to(x)[target], torch.zeros(len(x), dtype=torch.int64)
