"""Tests of genexai.io."""
