"""What every attribution method shares, after captum's ``Attribution``.

A method explains one scalar per example, ``F(x) = out(x)[target]``, where
``out`` is the model's softmax (``output="probability"``, the paper's choice)
or its logits (``output="logit"``). The base class holds only what every
method shares (the model and ``output``); each method adds its own options
to its constructor and implements :meth:`Attribution._attribute`. The public
:meth:`Attribution.attribute` validates the batch, calls it, and measures
completeness (:class:`Completeness`). A new method is a subclass plus an
entry in :data:`genexai.attribution.METHODS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Literal, NamedTuple, get_args

import torch
from torch import Tensor, nn

from ..errors import InputError

Output = Literal["probability", "logit"]


class Completeness(NamedTuple):
    """How far a batch's attributions are from ``F(x) - F(b)`` (method.md §5).

    Completeness says ``sum_g a_g = F(x) - F(b)`` for path methods (IG,
    DeepLift, GradientShap in expectation); for the others it is a
    diagnostic only.
    """

    #: ``(n_obs,)`` float64: the sum of each example's attributions.
    total: Tensor
    #: ``(n_obs,)`` float64: ``F(x) - F(b)``.
    expected: Tensor

    def delta(self) -> Tensor:
        """``|total - expected|``, ``(n_obs,)`` float64, in output units.

        The ATTRIBUTE step's ``obs["completeness_delta"]``.
        """
        return (self.total - self.expected).abs()

    def gap(self) -> Tensor:
        """The paper's gap, ``(n_obs,)`` float64, in percentage points.

        ``|round(100 total, 2) - round(100 expected, 2)|``, the rule of the
        reference code (method.md §5), compared with IG's tolerance (1 point).
        """
        return (
            (100 * self.total).round(decimals=2) - (100 * self.expected).round(decimals=2)
        ).abs()


class Attributions(NamedTuple):
    """What :meth:`Attribution.attribute` returns for a batch of examples."""

    #: ``(n_obs, n_genes)``, the dtype of the inputs: one score per gene.
    values: Tensor
    #: ``(n_obs,)`` int64: path points used per example (0 for non-path methods).
    n_steps: Tensor
    #: The completeness of ``values`` (float64, on the inputs' device).
    completeness: Completeness


def check_at_least(option: str, value: int, low: int) -> None:
    """Raise :class:`InputError` unless ``value >= low`` (a method option)."""
    if value < low:
        msg = f"{option}: expected at least {low}, found {value}"
        raise InputError(msg)


class Attribution(ABC):
    """Base class of the attribution methods.

    Parameters
    ----------
    model
        Eval-mode classifier mapping ``(n_obs, n_genes)`` to logits
        ``(n_obs, n_classes)``.
    output
        ``"probability"`` explains the softmax probability of the target
        class, ``"logit"`` its logit. Default: ``"probability"``.
    """

    #: Name in :data:`genexai.attribution.METHODS` and in the output file.
    name: ClassVar[str]

    def __init__(self, model: nn.Module, *, output: Output = "probability") -> None:
        if output not in get_args(Output):
            msg = f"output: expected one of {list(get_args(Output))}, found {output!r}"
            raise InputError(msg)
        self.model = model
        self.output = output
        self._n_classes: int | None = None

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

    def expected_total(self, x: Tensor, baseline: Tensor, target: Tensor) -> Tensor:
        """``F(x) - F(b)``, ``(n_obs,)`` float64: what completeness asks the sum to be."""
        return self.explained(x, target).double() - self.explained(baseline[None], target).double()

    @staticmethod
    def compute_completeness(values: Tensor, expected: Tensor) -> Completeness:
        """The completeness of attributions ``(n_obs, n_genes)`` against ``expected`` ``(n_obs,)``.

        The one place it is measured: by :meth:`attribute` for every method
        and by IG's per-example redo. ``expected`` comes from forward passes
        already made (:meth:`expected_total`, or the caller's own).
        """
        return Completeness(values.sum(dim=1, dtype=torch.float64), expected.double())

    def attribute(
        self, x: Tensor, baseline: Tensor, target: Tensor, *, expected: Tensor | None = None
    ) -> Attributions:
        """Attributions of a batch of examples, after checking the batch.

        Parameters
        ----------
        x
            Examples ``(n_obs, n_genes)``, the model's dtype and device.
        baseline
            Reference point ``(n_genes,)``, same dtype and device.
        target
            ``(n_obs,)`` int64, same device: the class index whose output is
            explained, in ``[0, n_classes)``.
        expected
            ``(n_obs,)`` ``F(x) - F(b)``, same device, when the caller has
            it from its own forward passes (the ATTRIBUTE step has them for
            its outputs); default: computed here (two forward passes).

        Returns
        -------
        :class:`Attributions`: ``values`` ``(n_obs, n_genes)`` in the dtype of
        ``x``, ``n_steps`` ``(n_obs,)`` int64 on the CPU, and their
        ``completeness`` against ``expected``.
        """
        self._check_batch(x, baseline, target, expected)
        if expected is None:
            expected = self.expected_total(x, baseline, target)
        values, n_steps = self._attribute(x, baseline, target, expected)
        return Attributions(values, n_steps, self.compute_completeness(values, expected))

    @abstractmethod
    def _attribute(
        self, x: Tensor, baseline: Tensor, target: Tensor, expected: Tensor
    ) -> tuple[Tensor, Tensor]:
        """The method's maths on a checked batch (see :meth:`attribute`).

        Returns the values ``(n_obs, n_genes)`` and the path points used per
        example ``(n_obs,)`` int64 on the CPU.
        """

    def _check_batch(
        self, x: Tensor, baseline: Tensor, target: Tensor, expected: Tensor | None
    ) -> None:
        if not isinstance(x, Tensor) or x.ndim != 2 or not x.is_floating_point():
            found = f"{x.dtype} {tuple(x.shape)}" if isinstance(x, Tensor) else type(x).__name__
            msg = f"x: expected a floating-point tensor (n_obs, n_genes), found {found}"
            raise InputError(msg)
        n_obs, n_genes = x.shape
        param = next(self.model.parameters(), None)
        if param is not None and (x.dtype, x.device) != (param.dtype, param.device):
            msg = (
                f"x: expected the model's dtype and device ({param.dtype}, {param.device}), "
                f"found ({x.dtype}, {x.device})"
            )
            raise InputError(msg)
        for option, tensor, shape, dtype in (
            ("baseline", baseline, (n_genes,), x.dtype),
            ("target", target, (n_obs,), torch.int64),
            ("expected", expected, (n_obs,), None),
        ):
            if tensor is None:
                continue
            if (
                not isinstance(tensor, Tensor)
                or tuple(tensor.shape) != shape
                or tensor.device != x.device
                or (tensor.dtype != dtype if dtype is not None else not tensor.is_floating_point())
            ):
                found = (
                    f"{tensor.dtype} {tuple(tensor.shape)} on {tensor.device}"
                    if isinstance(tensor, Tensor)
                    else type(tensor).__name__
                )
                msg = (
                    f"{option}: expected a {dtype or 'floating-point'} tensor of shape {shape} "
                    f"on {x.device}, found {found}"
                )
                raise InputError(msg)
        if n_obs:
            n_classes = self._count_classes(baseline)
            low, high = int(target.min()), int(target.max())
            if low < 0 or high >= n_classes:
                msg = f"target: expected class indices in [0, {n_classes}), found {low}..{high}"
                raise InputError(msg)

    def _count_classes(self, baseline: Tensor) -> int:
        """The model's number of classes, from one forward pass of the baseline (cached)."""
        if self._n_classes is None:
            with torch.no_grad():
                self._n_classes = int(self.model(baseline[None]).shape[1])
        return self._n_classes

    def _gradient(self, x: Tensor, target: Tensor) -> Tensor:
        """``dF/dx`` at each example, ``(n_obs, n_genes)``."""
        with torch.enable_grad():
            x = x.detach().requires_grad_()
            out = self.forward(x).gather(1, target[:, None]).sum()
            (grad,) = torch.autograd.grad(out, x)
        return grad
