"""What every attribution method shares, after captum's ``Attribution``.

A method explains one scalar per example, ``F(x) = out(x)[target]``, where
``out`` is the model's softmax (``output="probability"``, the paper's choice)
or its logits (``output="logit"``). Every method takes the same options in
its constructor and exposes :meth:`Attribution.attribute`; a new method is a
subclass plus an entry in :data:`genexai.attribution.METHODS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Literal, NamedTuple, get_args

import torch
from torch import Tensor, nn

from ..errors import InputError

Output = Literal["probability", "logit"]


class Attributions(NamedTuple):
    """What :meth:`Attribution.attribute` returns for a batch of examples."""

    #: ``(n_obs, n_genes)``, the dtype of the inputs: one score per gene.
    values: Tensor
    #: ``(n_obs,)`` int64: path points used per example (0 for non-path methods).
    n_steps: Tensor


class Attribution(ABC):
    """Base class of the attribution methods.

    Parameters
    ----------
    model
        Eval-mode classifier mapping ``(n_obs, n_genes)`` to logits
        ``(n_obs, n_classes)``.
    output
        ``"probability"`` explains the softmax probability of the target
        class, ``"logit"`` its logit.
    n_steps
        Quadrature nodes of a path integral (IG). Default: 3000.
    max_steps
        IG: largest number of nodes of the per-example redo. Default: 30000.
    tolerance
        IG: completeness tolerance in percentage points (see
        :func:`completeness_gap`); ``None`` disables the redo. Default: 1.0.
    n_samples
        GradientShap: random points per example. Default: 50.
    internal_batch_size
        Largest number of (example, path point) pairs evaluated in one
        forward/backward pass, as in captum: it bounds memory independently
        of ``n_steps``. Default: the method's own.
    seed
        Seed of the random methods. Default: 0.
    """

    #: Name in :data:`genexai.attribution.METHODS` and in the output file.
    name: ClassVar[str]

    def __init__(
        self,
        model: nn.Module,
        *,
        output: Output = "probability",
        n_steps: int = 3000,
        max_steps: int = 30_000,
        tolerance: float | None = 1.0,
        n_samples: int = 50,
        internal_batch_size: int | None = None,
        seed: int = 0,
    ) -> None:
        if output not in get_args(Output):
            msg = f"output: expected one of {list(get_args(Output))}, found {output!r}"
            raise InputError(msg)
        for option, value, low in (
            ("n_steps", n_steps, 1),
            ("max_steps", max_steps, n_steps),
            ("n_samples", n_samples, 1),
            ("internal_batch_size", 1 if internal_batch_size is None else internal_batch_size, 1),
        ):
            if value < low:
                msg = f"{option}: expected at least {low}, found {value}"
                raise InputError(msg)
        if tolerance is not None and tolerance < 0:
            msg = (
                f"tolerance: expected a non-negative number of percentage points, found {tolerance}"
            )
            raise InputError(msg)
        self.model = model
        self.output = output
        self.n_steps = n_steps
        self.max_steps = max_steps
        self.tolerance = tolerance
        self.n_samples = n_samples
        self.internal_batch_size = internal_batch_size
        self.seed = seed

    def forward(self, x: Tensor) -> Tensor:
        """The explained outputs of every class, ``(n_obs, n_classes)``."""
        return self.transform(self.model(x))

    def transform(self, logits: Tensor) -> Tensor:
        """Logits ``(n_obs, n_classes)`` to the explained outputs (softmax or identity)."""
        return logits if self.output == "logit" else torch.softmax(logits, dim=1)

    def explained(self, x: Tensor, target: Tensor) -> Tensor:
        """``F(x)``: the explained output of each example, ``(n_obs,)``.

        ``x`` may be one row (a baseline), broadcast against ``target``.
        """
        with torch.no_grad():
            out = self.forward(x)
        return out.expand(len(target), -1).gather(1, target[:, None])[:, 0]

    def gradient(self, x: Tensor, target: Tensor) -> Tensor:
        """``dF/dx`` at each example, ``(n_obs, n_genes)``."""
        with torch.enable_grad():
            x = x.detach().requires_grad_()
            out = self.forward(x).gather(1, target[:, None]).sum()
            (grad,) = torch.autograd.grad(out, x)
        return grad

    @abstractmethod
    def attribute(self, x: Tensor, baseline: Tensor, target: Tensor) -> Attributions:
        """Attributions of a batch of examples.

        Parameters
        ----------
        x
            Examples ``(n_obs, n_genes)``, the model's dtype and device.
        baseline
            Reference point ``(n_genes,)``, same dtype and device.
        target
            ``(n_obs,)`` int64: the class whose output is explained.
        """
