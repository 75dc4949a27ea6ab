"""Tests of genexai.attribution."""
