"""bin/stability.py: several gene-score files in, pairwise and summary tables out; errors."""

from __future__ import annotations

import stat
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from genexai import io, keys
from genexai.cli.stability import main
from genexai.errors import InputError
from genexai.stability import stability


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[Path]:
    """Gene scores of LR seeds 0 and 1 and MLP seed 0 (random values), as EVALUATE writes them."""
    folder = tmp_path_factory.mktemp("stability")
    paths = []
    for i, (model, seed) in enumerate([("LR", 0), ("LR", 1), ("MLP", 0)]):
        rng = np.random.default_rng(i)
        genes = [f"G{g}" for g in range(25)]
        adata = ad.AnnData(
            X=rng.standard_normal((2, 25)),
            obs=pd.DataFrame({keys.N_EXAMPLES: [6, 7]}, index=["A", "B"]),
            var=pd.DataFrame({keys.OVERALL: rng.standard_normal(25)}, index=genes),
        )
        adata.uns[keys.UNS] = {
            keys.EVALUATE: {
                keys.DATASET: "toy",
                keys.MODEL: model,
                keys.SEED: seed,
                keys.METHOD: "integrated_gradients",
            }
        }
        # names that say nothing: the run is read from the file, not from its name
        paths.append(folder / f"run{i}.gene_scores.h5ad")
        io.write_h5ad(adata, paths[-1])
    return paths


def _args(inputs, out: Path, *extra):
    return [arg for p in inputs for arg in ("--input", str(p))] + [
        "--output",
        str(out / "s.tsv"),
        "--summary",
        str(out / "sum.tsv"),
        *extra,
    ]


def test_writes_pairs_and_summary(inputs, tmp_path):
    result = CliRunner().invoke(main, _args(inputs, tmp_path, "--top-k", "3,10"))
    assert result.exit_code == 0, result.output
    pairs = pd.read_csv(tmp_path / "s.tsv", sep="\t")
    want = stability([io.read_h5ad(p) for p in inputs], top_k=(3, 10))
    pd.testing.assert_frame_equal(pairs, want.pairs, check_exact=False, rtol=1e-9)
    assert set(pairs["metric"]) == {"jaccard@3", "jaccard@10", "spearman", "kendall"}
    assert set(pairs["dataset"]) == {"toy"}
    summary = pd.read_csv(tmp_path / "sum.tsv", sep="\t")
    assert list(summary.columns) == list(keys.STABILITY_SUMMARY_COLUMNS)
    pd.testing.assert_frame_equal(summary, want.summary, check_exact=False, rtol=1e-9)


@pytest.mark.parametrize(
    ("which", "extra", "message"),
    [
        pytest.param([0], [], "Error: stability: gene_scores: expected at least 2", id="one"),
        pytest.param([0, 0], [], "Error: stability: gene_scores: two inputs hold", id="dup"),
        pytest.param([0, 1], ["--top-k", "0"], "Invalid value for '--top-k'", id="top-k"),
    ],
)
def test_bad_input(inputs, tmp_path, which, extra, message):
    result = CliRunner().invoke(main, _args([inputs[i] for i in which], tmp_path, *extra))
    assert result.exit_code == 2
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_script_runs_as_a_process(inputs, tmp_path, script, run_script):
    assert script("stability").read_text().startswith("#!/usr/bin/env python3\n")
    assert script("stability").stat().st_mode & stat.S_IXUSR
    bad = tmp_path / "bad.h5ad"
    bad.write_text("not hdf5")
    done = run_script("stability", *_args([inputs[0], bad], tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith(f"Error: stability: {bad}: not a readable HDF5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.h5ad"]
    ok = run_script("stability", *_args(inputs, tmp_path))
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "s.tsv").is_file()


def test_summary_folder_is_checked_before_any_work(inputs, tmp_path):
    """--summary in a missing folder: refused before the pairs are written."""
    args = _args(inputs, tmp_path)
    args[args.index("--summary") + 1] = str(tmp_path / "no" / "sum.tsv")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"Error: stability: --summary: {tmp_path / 'no' / 'sum.tsv'}: "
        f"output folder {tmp_path / 'no'} does not exist"
    ]
    assert list(tmp_path.iterdir()) == []


def test_output_and_summary_at_one_path(inputs, tmp_path):
    args = _args(inputs, tmp_path)
    args[args.index("--summary") + 1] = str(tmp_path / "s.tsv")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        f"Error: stability: --summary: must differ from --output, both are {tmp_path / 's.tsv'}"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_failed_summary_write_leaves_no_pairs(inputs, tmp_path, monkeypatch):
    written = []

    def write_table(table, path):
        written.append(path)
        Path(path).write_text("partial")
        if len(written) == 2:
            msg = f"{path}: disk full"
            raise InputError(msg)

    monkeypatch.setattr(io, "write_table", write_table)
    result = CliRunner().invoke(main, _args(inputs, tmp_path))
    assert result.exit_code == 2 and "disk full" in result.output, result.output
    assert len(written) == 2 and list(tmp_path.iterdir()) == []
