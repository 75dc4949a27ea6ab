"""Tests of genexai.models."""
