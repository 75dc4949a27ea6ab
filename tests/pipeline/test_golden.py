"""The test profile's numbers do not move unless a change means them to.

``tests/data/golden/test_profile.metrics.tsv`` is ``summary/metrics.tsv`` of
``-profile test,local`` on the 2-core CPU machine, written before the
issue-17 restructuring. A refactor must leave it byte-identical. A change
that deliberately changes a number replaces the file in the same commit and
says why in its message.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from .conftest import Run

pytestmark = pytest.mark.pipeline

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden" / "test_profile.metrics.tsv"


def test_metrics_equal_the_golden_run(test_run: Run) -> None:
    got = (test_run.outdir / "summary" / "metrics.tsv").read_bytes()
    if got != GOLDEN.read_bytes():
        # Name the rows that moved, then fail on the bytes.
        key = ["dataset", "model", "seed", "method", "metric", "variant"]
        old = pd.read_csv(GOLDEN, sep="\t").set_index(key)["value"]
        new = pd.read_csv(test_run.outdir / "summary" / "metrics.tsv", sep="\t")
        moved = (
            old.compare(new.set_index(key)["value"])
            if old.index.equals(new.set_index(key).index)
            else "the rows differ"
        )
        pytest.fail(f"summary/metrics.tsv differs from {GOLDEN.name}:\n{moved}")
