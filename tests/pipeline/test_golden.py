"""The test profile's numbers do not move unless a change means them to.

``tests/data/golden/test_profile.metrics.tsv`` is ``summary/metrics.tsv`` of
``-profile test,local`` on the 2-core CPU machine, written before the
issue-17 restructuring. A refactor must leave every row and every number in
place. A change that deliberately changes a number replaces the file in the
same commit and says why in its message.

The numbers are compared to :data:`RTOL`, not byte for byte: torch's and
BLAS's float32 kernels round differently on different CPU instruction sets.
The same code and seeds gave values up to 1.75e-6 apart (relative) on an
AVX2 machine and an AVX-512 one. On one machine a run is byte-identical to
the last (``test_pipeline.py::test_resume_caches_every_task``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .conftest import Run

pytestmark = pytest.mark.pipeline

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden" / "test_profile.metrics.tsv"

#: Relative tolerance: float32 round-off across CPUs, far below what any
#: change of method, seed or data moves (gaps are percentages given to 1e-2).
RTOL = 1e-5

KEY = ["dataset", "model", "seed", "method", "metric", "variant"]


def test_metrics_equal_the_golden_run(test_run: Run) -> None:
    old = pd.read_csv(GOLDEN, sep="\t").set_index(KEY)["value"]
    new = pd.read_csv(test_run.outdir / "summary" / "metrics.tsv", sep="\t").set_index(KEY)["value"]
    assert list(new.index) == list(old.index), "summary/metrics.tsv has other rows than the golden"
    close = np.isclose(new.to_numpy(), old.to_numpy(), rtol=RTOL, atol=0.0, equal_nan=True)
    if not close.all():
        moved = pd.DataFrame({"golden": old[~close], "now": new[~close]})
        pytest.fail(f"summary/metrics.tsv differs from {GOLDEN.name} beyond rtol={RTOL}:\n{moved}")
