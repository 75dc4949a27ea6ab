"""Plain gradient methods: saliency and input x gradient (captum's definitions).

Neither takes an option of its own, nor uses the baseline.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from ._base import Attribution


class Saliency(Attribution):
    """``|dF/dx|``, captum's ``Saliency`` with its default ``abs=True``."""

    name: ClassVar[str] = "saliency"

    def _attribute(
        self, x: Tensor, baseline: Tensor, target: Tensor, expected: Tensor
    ) -> tuple[Tensor, Tensor]:
        return self._gradient(x, target).abs(), torch.zeros(len(x), dtype=torch.int64)


class InputXGradient(Attribution):
    """``x * dF/dx``, captum's ``InputXGradient`` (the input, not ``x - b``)."""

    name: ClassVar[str] = "input_x_gradient"

    def _attribute(
        self, x: Tensor, baseline: Tensor, target: Tensor, expected: Tensor
    ) -> tuple[Tensor, Tensor]:
        return x * self._gradient(x, target), torch.zeros(len(x), dtype=torch.int64)
