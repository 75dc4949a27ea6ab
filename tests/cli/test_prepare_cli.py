"""bin/prepare.py: options reach prepare(), IMPORT -> PREPARE as the pipeline runs it,
one-line errors with exit code 2 and no output left behind."""

from __future__ import annotations

import os
import re
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from genexai import io, keys
from genexai.cli.prepare import main
from genexai.prepare import prepare
from tests.helpers import formats as fx


def _counts(path: Path, *, n: int = 30, classes: int = 2, seed: int = 0) -> ad.AnnData:
    rng = np.random.default_rng(seed)
    adata = ad.AnnData(
        X=rng.poisson(20, size=(n, 12)).astype(np.float32),
        obs=pd.DataFrame(
            {keys.LABEL: pd.Categorical([f"c{i % classes}" for i in range(n)])},
            index=[f"s{i}" for i in range(n)],
        ),
        var=pd.DataFrame(index=[f"g{j}" for j in range(12)]),
    )
    io.write_h5ad(adata, path)
    return adata


@pytest.mark.parametrize(
    ("options", "kwargs"),
    [
        ([], {}),
        (
            ["--transform", "log2_cpm_center", "--split", "paper", "--test-size", "0.4"],
            {"transform": "log2_cpm_center", "split": "paper"},
        ),
        (
            ["--transform", "log2_zscore", "--seed", "3", "--test-size", "0.25"],
            {"transform": "log2_zscore", "seed": 3, "test_size": 0.25},
        ),
        (
            ["--min-samples-per-class", "11", "--transform", "center"],
            {"transform": "center", "min_samples_per_class": 11},
        ),
    ],
    ids=["defaults", "paper_brca", "log2_zscore", "min_samples"],
)
def test_options_reach_prepare(tmp_path, options, kwargs):
    adata = _counts(tmp_path / "in.h5ad", n=32, classes=3)  # 11, 11 and 10 samples
    out = tmp_path / "out.h5ad"
    args = ["--input", str(tmp_path / "in.h5ad"), "--output", str(out), *options]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    got = io.read_h5ad(out)
    expected = prepare(adata, **kwargs)
    np.testing.assert_array_equal(got.X, expected.X)
    assert got.obs[keys.SPLIT].equals(expected.obs[keys.SPLIT])
    np.testing.assert_array_equal(got.layers[keys.COUNTS], expected.layers[keys.COUNTS])
    assert got.uns[keys.UNS][keys.PREPARE][keys.TRANSFORM] == kwargs.get("transform", "zscore")
    assert list(got.obs[keys.LABEL].cat.categories) == list(expected.obs[keys.LABEL].cat.categories)


@pytest.mark.parametrize("simulated", [False, True], ids=["imported", "simulated"])
def test_summary_counts_each_class_and_split(tmp_path, simulated):
    adata = _counts(tmp_path / "in.h5ad", n=32, classes=3)
    if simulated:
        adata.varm[keys.INFORMATIVE] = np.zeros((adata.n_vars, 3), dtype=bool)
        io.write_h5ad(adata, tmp_path / "in.h5ad")
    args = ["--input", str(tmp_path / "in.h5ad"), "--output", str(tmp_path / "out.h5ad")]
    summary = tmp_path / "toy.prepare.tsv"
    result = CliRunner().invoke(main, [*args, "--summary", str(summary), "--dataset", "toy"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(summary, sep="\t", dtype={"class": str})
    assert list(table.columns) == list(keys.PREPARE_SUMMARY_COLUMNS)
    prepared = io.read_h5ad(tmp_path / "out.h5ad")
    # plain counts, in class-index order then split order
    want = [
        (
            "toy",
            c,
            split,
            int(((prepared.obs[keys.LABEL] == c) & (prepared.obs[keys.SPLIT] == split)).sum()),
            12,
            simulated,
        )
        for c in prepared.obs[keys.LABEL].cat.categories
        for split in sorted(prepared.obs[keys.SPLIT].astype(str).unique())
    ]
    assert [tuple(row) for row in table.itertuples(index=False)] == want
    assert table["n_samples"].sum() == 32


def test_summary_needs_a_dataset(tmp_path):
    _counts(tmp_path / "in.h5ad")
    args = ["--input", str(tmp_path / "in.h5ad"), "--output", str(tmp_path / "out.h5ad")]
    result = CliRunner().invoke(main, [*args, "--summary", str(tmp_path / "s.tsv")])
    assert result.exit_code == 2 and "--summary needs --dataset" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["in.h5ad"]


def test_script_is_an_executable_with_a_shebang(script):
    assert os.access(script("prepare"), os.X_OK)
    assert script("prepare").read_text().splitlines()[0] == "#!/usr/bin/env python3"


def test_import_then_prepare_as_the_pipeline_does(tmp_path, run_script):
    """BRCA from the committed Xena HTSeq fixture, the paper's options."""
    folder = fx.COMMITTED / "xena_htseq"
    (tmp_path / "input.data").symlink_to(folder / fx.HTSEQ_MATRIX)
    (tmp_path / "labels.data").symlink_to(folder / fx.HTSEQ_PHENOTYPE)
    imported = run_script(
        "import_data",
        *("--input", "input.data", "--format", "xena_htseq", "--labels", "labels.data"),
        *("--output", "brca.imported.h5ad"),
        cwd=tmp_path,
    )
    assert imported.returncode == 0, imported.stderr
    prepared = run_script(
        "prepare",
        *("--input", "brca.imported.h5ad", "--output", "brca.prepared.h5ad"),
        *("--transform", "log2_cpm_center", "--split", "paper", "--test-size", "0.4"),
        *("--seed", "43", "--min-samples-per-class", "2"),
        cwd=tmp_path,
    )
    assert prepared.returncode == 0, prepared.stderr
    adata = io.read_h5ad(tmp_path / "brca.prepared.h5ad")
    assert list(adata.obs[keys.LABEL].cat.categories) == ["Primary Tumor", "Solid Tissue Normal"]
    assert (adata.obs[keys.SPLIT] == keys.TEST).sum() == int(0.4 * adata.n_obs)
    assert keys.COUNTS in adata.layers and adata.X.dtype == np.float32


@pytest.mark.parametrize(
    ("setup", "options", "message"),
    [
        (
            lambda p: _counts(p, classes=1),
            [],
            r"^Error: prepare: in\.h5ad: 1 class\(es\) with >= 2 samples \(sizes: \{'c0': 30\}\)",
        ),
        (
            lambda p: p.write_text("not hdf5"),
            [],
            r"^Error: prepare: in\.h5ad: not a readable HDF5/\.h5ad file",
        ),
    ],
    ids=["one_class", "not_h5ad"],
)
def test_subprocess_bad_input(tmp_path, setup, options, message, run_script):
    setup(tmp_path / "in.h5ad")
    args = ["--input", "in.h5ad", "--output", "out.h5ad", *options]
    done = run_script("prepare", *args, cwd=tmp_path)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert re.match(message, done.stderr.strip()), done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["in.h5ad"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "missing.h5ad"], "'missing.h5ad' does not exist"),
        (["--input", "in.h5ad", "--test-size", "1"], "--test-size"),
        (["--input", "in.h5ad", "--transform", "log"], "'log' is not one of"),
    ],
    ids=["missing_file", "test_size", "transform"],
)
def test_usage_errors(tmp_path, args, message):
    _counts(tmp_path / "in.h5ad")
    with CliRunner().isolated_filesystem(temp_dir=tmp_path):
        _counts(Path("in.h5ad"))
        result = CliRunner().invoke(main, [*args, "--output", "out.h5ad"])
        assert result.exit_code == 2 and message in result.output
        assert not Path("out.h5ad").exists()
