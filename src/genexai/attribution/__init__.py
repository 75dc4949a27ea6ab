"""Attribution methods: the kernels of the ATTRIBUTE step (like captum's ``attr``).

One class per method, registered in :data:`METHODS`: Integrated Gradients
(the paper's method, with an exact fast path for models whose first layer is
linear and a per-example completeness check), saliency, input x gradient,
DeepLift, GradientShap, a random control, and the global methods
(:mod:`.global_scores`: a linear model's coefficients, and given class
scores, the classical rankings). Each takes a batch of tensors;
the step over an AnnData is :func:`genexai.attribute.attribute`.

Each method's defaults are declared once, beside it (:data:`N_STEPS`,
:func:`default_max_steps`, :data:`TOLERANCE`, :data:`N_SAMPLES`, :data:`SEED`).
"""

from __future__ import annotations

from .._defaults import Method
from ._base import Attribution, Attributions, Completeness, Output
from ._registry import METHODS
from .comparison import N_SAMPLES, SEED, DeepLift, GradientShap, RandomAttribution
from .global_scores import ClassScores, Coefficients
from .gradients import InputXGradient, Saliency
from .integrated_gradients import N_STEPS, TOLERANCE, IntegratedGradients, default_max_steps
from .quadrature import gauss_legendre

__all__ = [
    "METHODS",
    "N_SAMPLES",
    "N_STEPS",
    "SEED",
    "TOLERANCE",
    "Attribution",
    "Attributions",
    "ClassScores",
    "Coefficients",
    "Completeness",
    "DeepLift",
    "GradientShap",
    "InputXGradient",
    "IntegratedGradients",
    "Method",
    "Output",
    "RandomAttribution",
    "Saliency",
    "default_max_steps",
    "gauss_legendre",
]
