"""Kernels of the SIMULATE step: configurations and samplers (method.md §1).

The step itself is :mod:`genexai.simulate` (:func:`genexai.simulate.simulate`
checks the options, calls these kernels and builds the AnnData). This
package holds what it calls, in two private modules whose names are
re-exported here:

- ``_configs``: :class:`SimulationConfig` (every parameter, validated),
  the paper's :data:`CONFIGS`, :func:`get_config` and the parsers of the
  text forms of ``class_proportions`` and ``merge``;
- ``_sampler``: the array kernels, which never see an AnnData:
  :func:`draw_parameters` (the hierarchical LDA prior and ``beta`` with the
  validity redraw), :func:`sample_matrix` (per-million expression, chunked
  and threaded) and the exact multinomial sampler behind it
  (:func:`mixture`, :func:`sample_counts`, :func:`categorical_counts`).
"""

from __future__ import annotations

from ._configs import (
    CONFIGS,
    Layout,
    MergeRule,
    SimulationConfig,
    get_config,
    parse_merge,
    parse_proportions,
)
from ._sampler import (
    CHUNK_ELEMENTS,
    MAX_REDRAW_ROUNDS,
    POISSON_SLACK,
    SPARSE_CHUNK_ROWS,
    Parameters,
    categorical_counts,
    class_sizes,
    draw_parameters,
    mixture,
    sample_counts,
    sample_matrix,
    sample_sparse,
    sparse_blocks,
)

__all__ = [
    "CHUNK_ELEMENTS",
    "CONFIGS",
    "MAX_REDRAW_ROUNDS",
    "POISSON_SLACK",
    "SPARSE_CHUNK_ROWS",
    "Layout",
    "MergeRule",
    "Parameters",
    "SimulationConfig",
    "categorical_counts",
    "class_sizes",
    "draw_parameters",
    "get_config",
    "mixture",
    "parse_merge",
    "parse_proportions",
    "sample_counts",
    "sample_matrix",
    "sample_sparse",
    "sparse_blocks",
]
