"""Attributions of a classifier's output to its input genes (the ATTRIBUTE step).

:func:`attribute` explains the examples of an AnnData with one of
:data:`METHODS`: Integrated Gradients (the paper's method, with an exact fast
path for models whose first layer is linear and a per-example completeness
check), saliency, input x gradient, DeepLift, GradientShap, or a random
control.
"""

from __future__ import annotations

from ._api import (
    METHODS,
    BaselineKind,
    Method,
    Target,
    attribute,
    read_baseline,
)
from ._base import Attribution, Attributions, Output
from .comparison import DeepLift, GradientShap, RandomAttribution
from .gradients import InputXGradient, Saliency
from .integrated_gradients import IntegratedGradients, completeness_gap
from .quadrature import gauss_legendre

__all__ = [
    "METHODS",
    "Attribution",
    "Attributions",
    "BaselineKind",
    "DeepLift",
    "GradientShap",
    "InputXGradient",
    "IntegratedGradients",
    "Method",
    "Output",
    "RandomAttribution",
    "Saliency",
    "Target",
    "attribute",
    "completeness_gap",
    "gauss_legendre",
    "read_baseline",
]
