"""genexai: evidence for (or against) the genes a classifier relies on.

Simulate expression with known biomarkers, prepare real data, train models,
explain them with Integrated Gradients and evaluate the explanations
(Bontonou et al. 2023, arXiv 2303.11336).

Each step is a module named after it, and its function is exposed here::

    import genexai as gx

    sim = gx.simulate("test", seed=0)
    prepared = gx.prepare(sim, seed=43)
    model = gx.train(prepared, arch="LR", seed=1).model
    attributions = gx.attribute(prepared, model)
    result = gx.evaluate(prepared, model, attributions, dataset="test")

``gx.<step>`` is the module ``genexai.<step>``, and calling it calls the
step function it holds (:data:`STEPS`): ``gx.train(...)`` is
``genexai.train.fit(...)``. Nothing heavy (torch, anndata) is imported
until a step is used, so ``import genexai`` and the command-line help stay
fast.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import types
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genexai")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

#: Step name -> the name of its function in the module ``genexai.<step>``.
STEPS: dict[str, str] = {
    "simulate": "simulate",
    "import_data": "import_data",
    "prepare": "prepare",
    "rank_genes": "rank_genes",
    "graph": "graph_from_adata",
    "train": "fit",
    "attribute": "attribute",
    "evaluate": "evaluate",
    "stability": "stability",
    "biomarkers": "biomarkers",
    "report": "write_report",
}

__all__ = ["STEPS", "__version__", *STEPS]


class _Step(types.ModuleType):
    """A step module that can be called as its step function.

    ``genexai.prepare`` stays the module (``import genexai.prepare as m``
    and ``m.BLOCK_ELEMENTS`` work), and ``genexai.prepare(adata)`` calls
    ``genexai.prepare.prepare(adata)``.
    """

    def __call__(self, *args: object, **kwargs: object) -> object:
        return getattr(self, STEPS[self.__name__.rpartition(".")[2]])(*args, **kwargs)

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(getattr(self, STEPS[self.__name__.rpartition(".")[2]]))


class _Package(types.ModuleType):
    """The ``genexai`` package: step modules load on first use and are callable.

    Python sets each imported submodule as an attribute of its package,
    whichever way it was imported; that is where a step module becomes a
    :class:`_Step`.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name in STEPS and type(value) is types.ModuleType:
            value.__class__ = _Step
        super().__setattr__(name, value)

    def __getattr__(self, name: str) -> object:
        if name not in STEPS:
            msg = f"module {__name__!r} has no attribute {name!r}"
            raise AttributeError(msg)
        return importlib.import_module(f"{__name__}.{name}")

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *STEPS})


sys.modules[__name__].__class__ = _Package
