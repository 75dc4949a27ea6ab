"""The library checks behind the refusals: class names known at PREPARE, the
memory guard, filters that count what they drop, REPORT's inputs and outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from genexai import io, keys
from genexai.errors import InputError
from genexai.import_data import import_data
from genexai.prepare import check_classes, prepare
from genexai.report import collect_results, read_versions, write_report

from .conftest import REPO, Valid
from .test_import import _declared_sparse

# --- Values that depend on the data: checked at PREPARE (check_classes) ------


@pytest.fixture(scope="module")
def prepared() -> ad.AnnData:
    """Three classes a, b, c; c has a single sample and is dropped by PREPARE."""
    rng = np.random.default_rng(0)
    labels = ["a"] * 6 + ["b"] * 6 + ["c"]
    adata = ad.AnnData(
        X=rng.poisson(5, (13, 4)).astype(np.float32),
        obs=pd.DataFrame({keys.LABEL: pd.Categorical(labels)}, index=[f"s{i}" for i in range(13)]),
        var=pd.DataFrame(index=[f"g{j}" for j in range(4)]),
    )
    return prepare(adata, transform="zscore", split="stratified", test_size=0.5, seed=0)


CLASS_CASES = [
    pytest.param(
        {"baseline_class": "nope"},
        r"^baseline_class: 'nope' is not a class of prepared\.h5ad \(classes: 'a', 'b'\)$",
        id="baseline-class-names-no-class",
    ),
    pytest.param(
        {"baseline_class": "c"},
        r"^baseline_class: 'c' is not a class of prepared\.h5ad, dropped for having fewer "
        r"than 2 samples \(classes: 'a', 'b'\)$",
        id="baseline-class-dropped-as-too-small",
    ),
    pytest.param(
        {"classes": ["a", "z"]},
        r"^classes: 'z' is not a class of prepared\.h5ad \(classes: 'a', 'b'\)$",
        id="studied-class-names-no-class",
    ),
]


@pytest.mark.parametrize(("options", "message"), CLASS_CASES)
def test_check_classes_refuses(prepared: ad.AnnData, options: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        check_classes(prepared, where="prepared.h5ad", **options)


def test_check_classes_needs_training_and_test_samples(prepared: ad.AnnData) -> None:
    only_test = prepared[prepared.obs[keys.SPLIT] == keys.TEST].copy()
    with pytest.raises(InputError, match=r"^baseline_class: class 'a' has no training sample"):
        check_classes(only_test, baseline_class="a", where="p")
    only_train = prepared[prepared.obs[keys.SPLIT] == keys.TRAIN].copy()
    with pytest.raises(
        InputError, match=r"^classes: no test sample of the studied classes \['b'\]"
    ):
        check_classes(only_train, classes=["b"], where="p")


def test_check_classes_accepts_the_classes(prepared: ad.AnnData) -> None:
    check_classes(prepared, baseline_class="b", classes=["a"], where="p")
    check_classes(prepared, where="p")


# --- The memory guard counts what the step allocates ---------------------------


def test_memory_guard_counts_the_dense_copy_of_a_sparse_x(tmp_path: Path) -> None:
    path = tmp_path / "s.h5ad"
    _declared_sparse(path, n=1000)  # 1000 × 1000: 4 MB dense, a few kB stored
    limit = 2 * 2**20
    with pytest.raises(InputError, match=r"s\.h5ad: X is a sparse 1000 × 1000 matrix, made dense"):
        io.check_h5ad_size(path, max_bytes=limit)
    # A caller that keeps X sparse allocates only what is stored.
    assert io.check_h5ad_size(path, max_bytes=limit, keep_sparse=True) == (1000, 1000)


def test_memory_guard_counts_the_layer_read(tmp_path: Path) -> None:
    adata = ad.AnnData(
        X=sp.csr_matrix((10, 500), dtype=np.float32),
        layers={"counts": sp.csr_matrix((10, 500), dtype=np.float32)},
    )
    path = tmp_path / "l.h5ad"
    adata.write_h5ad(path)
    with h5py.File(path) as f:
        assert "X" in f
    with pytest.raises(InputError, match=r"layer 'counts' is a sparse 10 × 500 matrix"):
        io.read_h5ad(path, layer="counts", max_bytes=10_000)
    assert io.read_h5ad(path, layer="counts").layers["counts"].shape == (10, 500)


# --- Filters count what they drop -----------------------------------------------


def test_dropped_genes_and_samples_are_counted(tmp_path: Path) -> None:
    """Genes leave only through a documented filter, each counted in uns."""
    folder = REPO / "tests" / "data" / "formats" / "star_counts"
    adata = import_data(
        folder / "files", format="star_counts", labels=folder / "gdc_sample_sheet.2024-01-15.tsv"
    )
    record = adata.uns["genexai"]["import"]
    dropped_genes = sum(v for k, v in record.items() if k.startswith("dropped_genes_"))
    dropped_samples = sum(v for k, v in record.items() if k.startswith("dropped_samples_"))
    assert record["n_genes_read"] - dropped_genes == adata.n_vars
    assert record["n_samples_read"] - dropped_samples == adata.n_obs
    assert record["dropped_genes_counters"] == 4  # the N_* rows


# --- REPORT -----------------------------------------------------------------------


def test_versions_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "versions.yml"
    path.write_bytes(b'"GENEXAI:IMPORT":\n  numpy: "2\xff"\n')
    with pytest.raises(
        InputError, match=r"versions\.yml: not UTF-8 text \(byte 0xff at offset 29\)"
    ):
        read_versions(path)
    path.write_text('"GENEXAI:IMPORT":\n  numpy: "2.4"\n')
    assert "numpy" in read_versions(path)


@pytest.mark.parametrize("blocked", ["report", "summary", "report/report.html"])
def test_report_writes_nothing_when_an_output_is_in_the_way(
    tmp_path: Path, valid: Valid, blocked: str
) -> None:
    results = collect_results(valid.results)
    outdir = tmp_path / "out"
    (outdir / blocked).parent.mkdir(parents=True, exist_ok=True)
    if blocked.endswith(".html"):
        (outdir / blocked).mkdir()
    else:
        (outdir / blocked).write_text("in the way")
    before = sorted(p.relative_to(outdir) for p in outdir.rglob("*"))
    with pytest.raises(InputError, match=str(outdir / blocked.split("/")[0])):
        write_report(results, outdir, params={}, versions="")
    assert sorted(p.relative_to(outdir) for p in outdir.rglob("*")) == before
    shutil.rmtree(outdir)
    written = write_report(results, outdir, params={}, versions="")
    assert all(p.is_file() for p in written)
