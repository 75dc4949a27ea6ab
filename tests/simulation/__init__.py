"""Tests of genexai.simulation, the kernels of SIMULATE."""
