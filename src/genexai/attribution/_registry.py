"""The attribution methods by name: one class each, one entry each."""

from __future__ import annotations

from ._base import Attribution
from .comparison import DeepLift, GradientShap, RandomAttribution
from .global_scores import Coefficients
from .gradients import InputXGradient, Saliency
from .integrated_gradients import IntegratedGradients

#: Attribution method classes by name (the names of :data:`Method`).
METHODS: dict[str, type[Attribution]] = {
    cls.name: cls
    for cls in (
        IntegratedGradients,
        Saliency,
        InputXGradient,
        DeepLift,
        GradientShap,
        RandomAttribution,
        Coefficients,
    )
}
