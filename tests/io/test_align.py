"""genexai.io: genes aligned by name."""

from __future__ import annotations

import numpy as np
import pytest

from genexai import io
from genexai.errors import InputError


def test_align_genes_by_name(small_adata) -> None:
    adata = small_adata()
    aligned = io.align_genes(adata, ["g3", "g1", "g0", "g2"], where="x")
    np.testing.assert_array_equal(aligned.X[:, 0], adata.X[:, 3])


@pytest.mark.parametrize(
    ("genes", "match"),
    [
        pytest.param(["g0", "g1", "g2"], "1 unexpected genes", id="extra"),
        pytest.param(["g0", "g1", "g2", "g3", "g4"], "1 expected genes missing", id="missing"),
    ],
)
def test_align_genes_mismatch(genes, match: str, small_adata) -> None:
    with pytest.raises(InputError, match=match):
        io.align_genes(small_adata(), genes, where="x")
