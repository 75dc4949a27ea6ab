"""Tests of genexai.report."""
