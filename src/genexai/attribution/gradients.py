"""Plain gradient methods: saliency and input x gradient (captum's definitions)."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from ._base import Attribution, Attributions


class Saliency(Attribution):
    """``|dF/dx|``, captum's ``Saliency`` with its default ``abs=True``."""

    name: ClassVar[str] = "saliency"

    def attribute(self, x: Tensor, baseline: Tensor, target: Tensor) -> Attributions:
        """Absolute gradient of each example; ``baseline`` is not used."""
        return Attributions(self.gradient(x, target).abs(), torch.zeros(len(x), dtype=torch.int64))


class InputXGradient(Attribution):
    """``x * dF/dx``, captum's ``InputXGradient`` (the input, not ``x - b``)."""

    name: ClassVar[str] = "input_x_gradient"

    def attribute(self, x: Tensor, baseline: Tensor, target: Tensor) -> Attributions:
        """Input times gradient of each example; ``baseline`` is not used."""
        return Attributions(x * self.gradient(x, target), torch.zeros(len(x), dtype=torch.int64))
