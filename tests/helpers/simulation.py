"""Small simulation configurations for the statistical tests of SIMULATE and its sampler."""

from __future__ import annotations

from genexai.simulate import SimulationConfig

BLOCK = SimulationConfig("stat-block", 2, 60, 6, 2, 400, "block", genes_per_pathway=10)
RANDOM = SimulationConfig("stat-random", 2, 60, 12, 3, 400, "random", genes_per_pathway=5)
