"""Comparison methods: DeepLift and GradientShap (captum), and a random control.

captum is imported when a method is built, not with the package: it pulls in
matplotlib, 0.4 s of every ATTRIBUTE task, most of which run IG only.
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from .._defaults import N_SAMPLES, SEED
from ..models import seeded_global_rngs
from ._base import Attribution, Output, check_at_least


class DeepLift(Attribution):
    """captum's ``DeepLift`` (rescale rule), multiplied by ``x - b``.

    For ``output="probability"`` a ``Softmax`` module is appended to the
    model so that DeepLift applies its softmax rule to it. Options: those of
    :class:`~._base.Attribution` only.
    """

    name: ClassVar[str] = "deeplift"

    def __init__(self, model: nn.Module, *, output: Output = "probability") -> None:
        super().__init__(model, output=output)
        module = model if self.output == "logit" else nn.Sequential(model, nn.Softmax(dim=1))
        import captum.attr  # imported here, not at the top: see the module docstring

        self._captum = captum.attr.DeepLift(module)

    def _attribute(
        self, x: Tensor, baseline: Tensor, target: Tensor, expected: Tensor
    ) -> tuple[Tensor, Tensor]:
        x = x.detach().requires_grad_()
        with warnings.catch_warnings():
            # captum announces on every call the hooks it sets and then removes.
            warnings.filterwarnings("ignore", message="Setting forward, backward hooks")
            values = self._captum.attribute(x, baselines=baseline[None], target=target)
        return values.detach(), torch.zeros(len(x), dtype=torch.int64)


class GradientShap(Attribution):
    """captum's ``GradientShap`` with the single baseline and no input noise.

    The expected gradient at ``n_samples`` uniformly random points of the
    path from ``b`` to ``x``, times ``x - b``: a Monte-Carlo IG. Batches are
    seeded in turn from ``seed``, so the values depend on the batch size.

    Parameters
    ----------
    model, output
        See :class:`~._base.Attribution`.
    n_samples
        Random points per example, at least 1. Default: :data:`N_SAMPLES` (50).
    seed
        Seeds the sequence of per-batch seeds. Default: :data:`SEED` (0).
    """

    name: ClassVar[str] = "gradient_shap"

    def __init__(
        self,
        model: nn.Module,
        *,
        output: Output = "probability",
        n_samples: int = N_SAMPLES,
        seed: int = SEED,
    ) -> None:
        super().__init__(model, output=output)
        check_at_least("n_samples", n_samples, 1)
        self.n_samples = n_samples
        self.seed = seed
        import captum.attr  # imported here, not at the top: see the module docstring

        self._captum = captum.attr.GradientShap(self.forward)
        self._rng = np.random.default_rng(seed)

    def _attribute(
        self, x: Tensor, baseline: Tensor, target: Tensor, expected: Tensor
    ) -> tuple[Tensor, Tensor]:
        # captum draws from the global generators: fork them, seeded per batch.
        with seeded_global_rngs(int(self._rng.integers(2**32)), x.device):
            values = self._captum.attribute(
                x, baselines=baseline[None], target=target, n_samples=self.n_samples, stdevs=0.0
            )
        return values.detach(), torch.full((len(x),), self.n_samples, dtype=torch.int64)


class RandomAttribution(Attribution):
    """Control: independent standard-normal scores, ignoring the model.

    Drawn from one generator seeded with ``seed``, batch after batch, so the
    values do not depend on the batch size.

    Parameters
    ----------
    model, output
        See :class:`~._base.Attribution`.
    seed
        Seed of the generator. Default: :data:`SEED` (0).
    """

    name: ClassVar[str] = "random"

    def __init__(
        self, model: nn.Module, *, output: Output = "probability", seed: int = SEED
    ) -> None:
        super().__init__(model, output=output)
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def _attribute(
        self, x: Tensor, baseline: Tensor, target: Tensor, expected: Tensor
    ) -> tuple[Tensor, Tensor]:
        values = torch.from_numpy(self._rng.standard_normal(x.shape, dtype=np.float32))
        return values.to(x), torch.zeros(len(x), dtype=torch.int64)
