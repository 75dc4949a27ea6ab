"""Tests of the command line: the step commands (genexai.cli), the bin/ scripts,
the ``genexai`` console script and genexai.batch."""
