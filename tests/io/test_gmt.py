"""GMT gene-set files (genexai.io.read_gmt) and their membership over a gene order."""

from __future__ import annotations

import gzip
import re

import numpy as np
import pytest
import scipy.sparse

from genexai.errors import InputError
from genexai.io import GeneSets, read_gmt

GMT = (
    "SET_A\thttp://example.org/a\tg1\tg3\tg1\tMISSING\n"
    "\n"
    "SET_B\t\tg2 \tg0\t\n"
    "SET_C\tonly absent genes\tX1\tX2\n"
)


def test_read_gmt_parses_sets_and_drops_repeats(tmp_path):
    path = tmp_path / "sets.gmt"
    path.write_text(GMT)
    sets = read_gmt(path)
    assert sets == GeneSets(
        names=("SET_A", "SET_B", "SET_C"),
        descriptions=("http://example.org/a", "", "only absent genes"),
        members=(("g1", "g3", "MISSING"), ("g2", "g0"), ("X1", "X2")),
        source=str(path),
    )


def test_read_gmt_reads_compressed_files(tmp_path):
    path = tmp_path / "sets.data"
    path.write_bytes(gzip.compress(GMT.encode()))
    assert read_gmt(path).names == ("SET_A", "SET_B", "SET_C")


def test_membership_matches_names_case_sensitively(tmp_path):
    path = tmp_path / "sets.gmt"
    path.write_text(GMT + "SET_D\tcase\tG1\tg4\n")
    membership, n_not_found = read_gmt(path).membership(
        ["g0", "g1", "g2", "g3", "g4"], where="prepared.h5ad"
    )
    assert isinstance(membership, scipy.sparse.csr_array)
    assert membership.dtype == bool
    expected = np.array(
        [
            [False, True, False, True, False],
            [True, False, True, False, False],
            [False] * 5,
            [False, False, False, False, True],
        ]
    )
    np.testing.assert_array_equal(membership.toarray(), expected)
    assert n_not_found.dtype == np.int64
    np.testing.assert_array_equal(n_not_found, [1, 0, 2, 1])


def test_membership_refuses_disjoint_gene_names(tmp_path):
    path = tmp_path / "sets.gmt"
    path.write_text("SET_A\tdesc\tTP53\tBRCA1\nSET_B\tdesc\tEGFR\n")
    with pytest.raises(InputError) as caught:
        read_gmt(path).membership(["ENSG01", "ENSG02"], where="prepared.h5ad")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: none of the genes of its 2 gene sets is among the 2 genes")
    assert "prepared.h5ad" in message
    assert "set gene 'TP53', data gene 'ENSG01'" in message


def test_membership_refuses_duplicate_data_genes(tmp_path):
    path = tmp_path / "sets.gmt"
    path.write_text("SET_A\tdesc\tg1\n")
    with pytest.raises(InputError, match=r"prepared.h5ad: duplicate gene name 'g1'"):
        read_gmt(path).membership(["g1", "g1"], where="prepared.h5ad")


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("SET_A\tdesc\tg1\nSET_B\tdesc\n", 2, "2 tab-separated field"),
        ("SET_A g1 g2\n", 1, "1 tab-separated field"),
        ("SET_A\tdesc\tg1\n\n \tdesc\tg2\n", 3, "empty gene set name"),
        ("SET_A\tdesc\tg1\nSET_B\tdesc\tg2\nSET_A\tagain\tg3\n", 3, "duplicate gene set name"),
        ("SET_A\tdesc\t\t\n", 1, "lists no gene"),
    ],
)
def test_read_gmt_refuses_bad_lines(tmp_path, text, line, what):
    path = tmp_path / "bad.gmt"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_gmt(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: line {line}: ")
    assert what in message


def test_read_gmt_duplicate_names_the_first_line(tmp_path):
    path = tmp_path / "bad.gmt"
    path.write_text("SET_A\tdesc\tg1\nSET_B\tdesc\tg2\nSET_A\tagain\tg3\n")
    with pytest.raises(InputError, match=r"'SET_A' \(first on line 1\)"):
        read_gmt(path)


@pytest.mark.parametrize("text", ["", "\n \n\n"])
def test_read_gmt_refuses_a_file_without_sets(tmp_path, text):
    path = tmp_path / "empty.gmt"
    path.write_text(text)
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: no gene set"):
        read_gmt(path)


def test_read_gmt_refuses_a_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_gmt(tmp_path / "absent.gmt")
