"""Blocks of a compressed matrix by stored values (io.stored_blocks)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from genexai.io import stored_blocks


@pytest.mark.parametrize("major", [None, np.array([0, 2, 3, 5, 8, 9])])
def test_blocks_cover_the_entries_in_order_and_close_past_each_multiple(major):
    x = sp.random(10, 30, density=0.3, format="csr", random_state=0)
    rows = np.arange(10) if major is None else major
    blocks = stored_blocks(x.indptr, major, max_stored=12)
    assert blocks[0].start == 0 and blocks[-1].stop == len(rows)
    assert len(blocks) > 2
    for a, b in zip(blocks[:-1], blocks[1:], strict=True):
        assert a.stop == b.start > a.start
    lengths = np.diff(x.indptr)[rows]
    for block in blocks[:-1]:
        # A block ends on the entry that crossed a multiple of max_stored.
        before = lengths[: block.stop - 1].sum()
        assert before // 12 < lengths[: block.stop].sum() // 12


def test_one_long_entry_is_one_block_and_nothing_gives_no_block():
    indptr = np.array([0, 1, 101, 102])
    assert stored_blocks(indptr, max_stored=10) == [slice(0, 2), slice(2, 3)]
    assert stored_blocks(np.array([0])) == []
