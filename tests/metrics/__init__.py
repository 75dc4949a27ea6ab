"""Tests of genexai.metrics."""
