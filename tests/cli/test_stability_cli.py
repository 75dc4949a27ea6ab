"""bin/stability.py: several gene-score files in, pairwise and summary tables out; errors."""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from genexai import io, keys
from genexai.stability import stability

SCRIPT = Path(__file__).resolve().parents[2] / "bin" / "stability.py"


@pytest.fixture(scope="module")
def main():
    spec = importlib.util.spec_from_file_location("bin_stability", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


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
            keys.EVALUATE: {keys.DATASET: "toy", keys.MODEL: model, keys.SEED: seed}
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


def test_writes_pairs_and_summary(main, inputs, tmp_path):
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
def test_bad_input(main, inputs, tmp_path, which, extra, message):
    result = CliRunner().invoke(main, _args([inputs[i] for i in which], tmp_path, *extra))
    assert result.exit_code == 2
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_script_runs_as_a_process(inputs, tmp_path):
    assert SCRIPT.read_text().startswith("#!/usr/bin/env python3\n")
    assert SCRIPT.stat().st_mode & stat.S_IXUSR
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    bad = tmp_path / "bad.h5ad"
    bad.write_text("not hdf5")
    done = subprocess.run(
        [str(SCRIPT), *_args([inputs[0], bad], tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith(f"Error: stability: {bad}: not a readable HDF5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.h5ad"]
    ok = subprocess.run(
        [str(SCRIPT), *_args(inputs, tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "s.tsv").is_file()
