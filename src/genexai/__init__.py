"""genexai: evidence for (or against) the genes a classifier relies on.

Simulate expression with known biomarkers, prepare real data, train models,
explain them with Integrated Gradients and evaluate the explanations
(Bontonou et al. 2023, arXiv 2303.11336).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genexai")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
