"""Integrated Gradients with a per-example completeness check (method.md §5).

``IG_g(x) = (x_g - b_g) * integral_0^1 dF/dx_g(b + a (x - b)) da``, by the
Gauss–Legendre rule of captum (:mod:`.quadrature`).

Fast path, for models with the first-linear-layer contract
(:func:`genexai.models.has_linear_input`: LR, MLP and the diffused models):
``z = x W^T + c`` is affine, so the straight path ``x(a) = b + a (x - b)``
maps to the straight path ``z(a) = z_b + a (z_x - z_b)`` in the hidden space,
and ``dF/dx = W^T dF/dz``. Hence

    IG(x) = (x - b) * (W^T sum_k w_k dF/dz(z(a_k)))

Only the ``H``-dimensional gradient is evaluated at the ``n_steps`` path
points; one ``(n, H) @ (H, G)`` product maps the sum back to the genes. The
quadrature is captum's, so the result equals captum's
``IntegratedGradients`` up to float rounding (tested to 1e-4 relative).

Other models go through captum itself (the general path).

Completeness (the paper's rule, applied per example, not per batch): the
gap ``|round(100 sum_g a_g, 2) - round(100 (F(x) - F(b)), 2)|`` in percentage
points (:meth:`~._base.Completeness.gap`) must not exceed ``tolerance``;
failing examples, and only those, are redone with ``n_steps`` more nodes
(3000, 6000, 9000, ...) up to ``max_steps``. ``F(x) - F(b)`` comes from the
forward passes :meth:`~._base.Attribution.attribute` already has.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import ClassVar

import torch
from torch import Tensor, nn

from .._defaults import MAX_STEPS_FACTOR, N_STEPS, TOLERANCE
from ..errors import InputError
from ..models import has_linear_input
from ._base import Attribution, Output, check_at_least
from .quadrature import gauss_legendre

logger = logging.getLogger(__name__)

#: Default points per pass: the fast path holds ``points x H`` values per
#: activation, the general path ``points x G``.
_FAST_POINTS = 1 << 16
_GENERAL_POINTS = 1 << 11


@contextlib.contextmanager
def _one_cpu_thread(device: torch.device) -> Iterator[None]:
    """Run the hidden-space loop on one CPU thread, restoring the setting after.

    Its ~20 kernels per pass work on small ``(points, H)`` tensors: split over
    threads, each kernel waits for a synchronisation that dominates when the
    cores are shared (measured on 2 busy cores: 27 s with 2 threads, 5.6 s
    with 1, for 3,960 x 3,000 MLP points). The gene-sized products before and
    after keep all threads.
    """
    if device.type != "cpu":
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def default_max_steps(n_steps: int) -> int:
    """The redo's node cap when none is given: ``MAX_STEPS_FACTOR * n_steps``."""
    return MAX_STEPS_FACTOR * n_steps


class IntegratedGradients(Attribution):
    """Integrated Gradients; fast in the hidden space when the model allows.

    Parameters
    ----------
    model, output
        See :class:`~._base.Attribution`.
    n_steps
        Gauss–Legendre nodes of the first pass, at least 1. Default:
        :data:`N_STEPS` (3000).
    max_steps
        Largest number of nodes of the per-example redo, at least
        ``n_steps``. Default: :func:`default_max_steps`, ``MAX_STEPS_FACTOR``
        (10) times ``n_steps``: 30000 at the default 3000.
    tolerance
        Completeness tolerance in percentage points
        (:meth:`~._base.Completeness.gap`); ``None`` disables the redo.
        Default: :data:`TOLERANCE` (1.0).
    internal_batch_size
        Largest number of (example, path point) pairs evaluated in one
        forward/backward pass, as in captum: it bounds memory independently
        of ``n_steps``. Default: 65,536 on the fast path, 2,048 on captum's
        (``_FAST_POINTS``, ``_GENERAL_POINTS``).

    Attributes
    ----------
    linear_input
        True when the fast path is used (the model has the
        first-linear-layer contract); False for the captum path.
    """

    name: ClassVar[str] = "integrated_gradients"

    def __init__(
        self,
        model: nn.Module,
        *,
        output: Output = "probability",
        n_steps: int = N_STEPS,
        max_steps: int | None = None,
        tolerance: float | None = TOLERANCE,
        internal_batch_size: int | None = None,
    ) -> None:
        super().__init__(model, output=output)
        check_at_least("n_steps", n_steps, 1)
        max_steps = default_max_steps(n_steps) if max_steps is None else max_steps
        check_at_least("max_steps", max_steps, n_steps)
        if internal_batch_size is not None:
            check_at_least("internal_batch_size", internal_batch_size, 1)
        if tolerance is not None and tolerance < 0:
            msg = (
                f"tolerance: expected a non-negative number of percentage points, found {tolerance}"
            )
            raise InputError(msg)
        self.n_steps = n_steps
        self.max_steps = max_steps
        self.tolerance = tolerance
        self.internal_batch_size = internal_batch_size
        self.linear_input = has_linear_input(model)
        if self.linear_input:
            with torch.no_grad():
                self._weight = model.input_weight().detach()
                self._bias = model.input_bias().detach()
        else:
            # Imported here: captum pulls in matplotlib, 0.4 s of every
            # ATTRIBUTE task, and the pipeline's models take the fast path.
            import captum.attr

            self._captum = captum.attr.IntegratedGradients(self.forward)

    def _attribute(
        self, x: Tensor, baseline: Tensor, target: Tensor, expected: Tensor
    ) -> tuple[Tensor, Tensor]:
        """IG of a batch, each example redone with more steps until complete."""
        values = self._integrate(x, baseline, target, n_steps=self.n_steps)
        steps = torch.full((len(x),), self.n_steps, dtype=torch.int64)
        if self.tolerance is None:
            return values, steps
        failing = self.compute_completeness(values, expected).gap() > self.tolerance
        n_steps = self.n_steps
        while failing.any() and n_steps + self.n_steps <= self.max_steps:
            n_steps += self.n_steps
            redo = failing.nonzero()[:, 0]
            values[redo] = self._integrate(x[redo], baseline, target[redo], n_steps=n_steps)
            steps[redo.cpu()] = n_steps
            failing[redo] = (
                self.compute_completeness(values[redo], expected[redo]).gap() > self.tolerance
            )
        if failing.any():
            logger.warning(
                "%d example(s) still miss completeness by more than %g points at %d steps",
                int(failing.sum()),
                self.tolerance,
                n_steps,
            )
        return values, steps

    def _integrate(self, x: Tensor, baseline: Tensor, target: Tensor, *, n_steps: int) -> Tensor:
        """IG with a fixed number of Gauss–Legendre nodes, ``(n_obs, n_genes)``."""
        if self.linear_input:
            return self._integrate_linear(x, baseline, target, n_steps)
        points = max(self.internal_batch_size or _GENERAL_POINTS, len(x))
        return self._captum.attribute(
            x,
            baselines=baseline[None],
            target=target,
            n_steps=n_steps,
            method="gausslegendre",
            internal_batch_size=points,
        ).detach()

    def _integrate_linear(
        self, x: Tensor, baseline: Tensor, target: Tensor, n_steps: int
    ) -> Tensor:
        n, hidden = len(x), self._weight.shape[0]
        with torch.no_grad():
            z_x = x @ self._weight.T + self._bias
            z_b = baseline @ self._weight.T + self._bias
            dz = z_x - z_b
            n_classes = self.model.head(z_b[None]).shape[1]
        alphas, weights = (
            torch.tensor(a, dtype=x.dtype, device=x.device) for a in gauss_legendre(n_steps)
        )
        # Whole steps per pass: all n examples at k nodes, k * n <= points.
        per_pass = max(1, (self.internal_batch_size or _FAST_POINTS) // n)
        # Flat index of (row, target) in a (k n, C) block, rows ordered (node, example).
        flat = torch.arange(per_pass * n, device=x.device) * n_classes + target.repeat(per_pass)
        summed = torch.zeros(n * hidden, dtype=torch.float64, device=x.device)
        with _one_cpu_thread(x.device):
            for start in range(0, n_steps, per_pass):
                a, w = alphas[start : start + per_pass], weights[start : start + per_pass]
                z = torch.addcmul(z_b, a[:, None, None], dz).reshape(-1, hidden)
                with torch.enable_grad():
                    z.requires_grad_()
                    logits = self.model.head(z)
                    seed = self._output_grad(logits.detach(), flat[: len(z)])
                    (grad,) = torch.autograd.grad(logits, z, seed)
                summed += (w @ grad.view(len(a), n * hidden)).double()
        with torch.no_grad():
            return (summed.view(n, hidden).to(x.dtype) @ self._weight).mul_(x - baseline)

    def _output_grad(self, logits: Tensor, flat: Tensor) -> Tensor:
        """``dF/dlogits``, ``(rows, C)``; ``flat`` indexes each row's target.

        Written out rather than left to autograd: ``dp_t/dl = p_t (e_t - p)``
        is one pass over the softmax, where autograd's gather and softmax
        backward take several. For an identity head (LR) it is the whole
        gradient: autograd hands it back unchanged.
        """
        if self.output == "logit":
            grad = torch.zeros_like(logits)
            grad.view(-1)[flat] = 1.0
            return grad
        p = torch.softmax(logits, dim=1)
        p_target = p.view(-1)[flat]
        grad = p.mul_(-p_target[:, None])
        grad.view(-1)[flat] += p_target
        return grad
