"""genexai.io: safe reads, atomic writes, matrix checks and class codes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from genexai import io
from genexai.errors import InputError


def test_round_trip(tmp_path: Path, small_adata) -> None:
    adata = small_adata()
    io.write_h5ad(adata, tmp_path / "x.h5ad")
    back = io.read_h5ad(tmp_path / "x.h5ad")
    np.testing.assert_array_equal(back.X, adata.X)
    assert io.class_names(back, where="x") == ["A", "B"]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        pytest.param(lambda p: None, "no such file", id="missing"),
        pytest.param(lambda p: p.write_text("not hdf5"), "not a readable HDF5", id="text"),
        pytest.param(
            lambda p: p.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 20),
            "not a readable HDF5",
            id="truncated",
        ),
        pytest.param(lambda p: h5py.File(p, "w").close(), "no 'X'", id="no-X"),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, make, match: str) -> None:
    path = tmp_path / "bad.h5ad"
    make(path)
    with pytest.raises(InputError, match=match):
        io.read_h5ad(path)


def test_truncated_real_file(tmp_path: Path, small_adata) -> None:
    path = tmp_path / "x.h5ad"
    io.write_h5ad(small_adata(200, 50), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=str(path)):
        io.read_h5ad(path)


def test_object_dtype_x_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "obj.h5ad"
    with h5py.File(path, "w") as f:
        f.create_dataset("X", data=np.array([[b"a", b"b"]], dtype="S1"))
    with pytest.raises(InputError, match="expected a numeric matrix"):
        io.read_h5ad(path)


def test_size_limit_checked_from_metadata(tmp_path: Path, small_adata) -> None:
    path = tmp_path / "big.h5ad"
    io.write_h5ad(small_adata(100, 100), path)
    with pytest.raises(InputError, match="MiB in memory, above the limit"):
        io.read_h5ad(path, max_bytes=1000)
    assert io.check_h5ad_size(path) == (100, 100)


def test_sparse_shape_from_metadata(tmp_path: Path, small_adata) -> None:
    adata = small_adata(10, 8)
    adata.X = sp.csr_matrix(adata.X)
    io.write_h5ad(adata, tmp_path / "s.h5ad")
    assert io.check_h5ad_size(tmp_path / "s.h5ad") == (10, 8)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        pytest.param(lambda a: a.X.__setitem__((0, 0), np.nan), "NaN or infinite", id="nan"),
        pytest.param(lambda a: a.X.__setitem__((0, 0), np.inf), "NaN or infinite", id="inf"),
    ],
)
def test_non_finite_values(mutate, match: str, small_adata) -> None:
    adata = small_adata()
    mutate(adata)
    with pytest.raises(InputError, match=match):
        io.check_matrix(adata, where="x")


def test_empty_matrix(small_adata) -> None:
    with pytest.raises(InputError, match="empty matrix"):
        io.check_matrix(small_adata()[:0].copy(), where="x")


def test_duplicate_names(small_adata) -> None:
    adata = small_adata()
    adata.var_names = ["g0", "g0", "g2", "g3"]
    with pytest.raises(InputError, match="duplicate var name 'g0'"):
        io.check_matrix(adata, where="x")


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.tsv"
    with pytest.raises(RuntimeError), io.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_respects_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        io.write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.tsv")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "t.tsv").stat().st_mode)
    assert mode == 0o640


def test_unwritable_output_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        io.write_table(pd.DataFrame({"a": [1]}), tmp_path / "nope" / "t.tsv")


def test_label_codes_unknown_class(small_adata) -> None:
    with pytest.raises(InputError, match="label 'B' is not one of"):
        io.label_codes(small_adata(), ["A", "C"], where="x")


def test_cli_memory_limit_refuses_before_loading(tmp_path: Path, small_adata) -> None:
    """--max-memory-gb reaches read_h5ad through the shared CLI option."""
    import subprocess
    import sys

    path = tmp_path / "x.h5ad"
    io.write_h5ad(small_adata(100, 100), path)
    script = Path(__file__).resolve().parents[2] / "bin" / "prepare.py"
    proc = subprocess.run(
        [
            sys.executable,
            str(script),
            "--input",
            str(path),
            "--output",
            str(tmp_path / "o.h5ad"),
            "--max-memory-gb",
            "0.00001",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "above the limit of 0.01 MiB (raise it with --max-memory-gb)" in proc.stderr
    assert not (tmp_path / "o.h5ad").exists()
    io.set_memory_limit(None)


def huge_sparse_file(path: Path, shape=(10**6, 10**5), nnz: int = 10) -> Path:
    """A tiny ``.h5ad`` whose CSR ``X`` declares ``shape`` and holds ``nnz`` values.

    Only ``X`` is written (with h5py): the size check reads nothing else.
    """
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    indptr[1 : nnz + 1] = np.arange(1, nnz + 1)
    indptr[nnz + 1 :] = nnz
    with h5py.File(path, "w") as f:
        x = f.create_group("X")
        x.attrs.update({"encoding-type": "csr_matrix", "encoding-version": "0.1.0"})
        x.attrs["shape"] = np.array(shape, dtype=np.int64)
        x.create_dataset("data", data=np.ones(nnz, np.float32))
        x.create_dataset("indices", data=np.arange(nnz, dtype=np.int32))
        x.create_dataset("indptr", data=indptr, compression="gzip")
    return path


def test_huge_declared_sparse_shape_charged_by_what_the_step_holds(tmp_path: Path) -> None:
    path = huge_sparse_file(tmp_path / "huge.h5ad")
    stored = 10 * (4 + 4) + (10**6 + 1) * 8  # data + indices + indptr
    limit = 2**30
    # Densified whole: 4e11 bytes, refused from the headers, with the sizes, in one line.
    with pytest.raises(InputError) as err:
        io.check_h5ad_size(path, max_bytes=limit)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(
        f"{path}: X is a sparse 1000000 × 100000 matrix, made dense"
    )
    assert "(10 non-zeros stored)" in msg and "372.5 GiB" in msg and "limit of 1.0 GiB" in msg
    # Kept sparse: charged its stored arrays only.
    assert io.check_h5ad_size(path, max_bytes=stored, keep_sparse=True) == (10**6, 10**5)
    with pytest.raises(InputError, match="above the limit"):
        io.check_h5ad_size(path, max_bytes=stored - 1, keep_sparse=True)
    # Some rows densified: charged those rows on top of the stored arrays.
    rows = 100 * 10**5 * 4
    assert io.check_h5ad_size(path, max_bytes=stored + rows, dense_rows=100) == (10**6, 10**5)
    with pytest.raises(InputError, match=r"100 rows of it made dense \(float32\)"):
        io.check_h5ad_size(path, max_bytes=stored + rows - 1, dense_rows=100)
    # dense_rows is capped by the matrix's rows.
    small = huge_sparse_file(tmp_path / "small.h5ad", shape=(50, 20), nnz=3)
    assert io.check_h5ad_size(small, max_bytes=51 * 8 + 3 * 8 + 50 * 20 * 4, dense_rows=10**6)
