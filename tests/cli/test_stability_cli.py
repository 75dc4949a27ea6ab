"""bin/stability.py: several attributions files in, pairwise (and summary) tables out; errors."""

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
from genexai.metrics.stability import run_scores, stability

SCRIPT = Path(__file__).resolve().parents[2] / "bin" / "stability.py"


@pytest.fixture(scope="module")
def main():
    spec = importlib.util.spec_from_file_location("bin_stability", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[Path]:
    """Attributions files of LR seeds 0 and 1 and MLP seed 0 (random values)."""
    folder = tmp_path_factory.mktemp("stability")
    paths = []
    for i, (model, seed) in enumerate([("LR", 0), ("LR", 1), ("MLP", 0)]):
        rng = np.random.default_rng(i)
        adata = ad.AnnData(
            X=rng.standard_normal((16, 25)).astype(np.float32),
            obs=pd.DataFrame(
                {
                    keys.LABEL: pd.Categorical.from_codes(np.arange(16) % 2, categories=["A", "B"]),
                    keys.CORRECT: np.arange(16) % 5 > 0,
                },
                index=[f"s{j}" for j in range(16)],
            ),
            var=pd.DataFrame(index=[f"G{g}" for g in range(25)]),
        )
        adata.uns[keys.UNS] = {keys.ATTRIBUTE: {keys.ARCH: model, keys.SEED: seed}}
        paths.append(folder / f"toy.{model}.{seed}.attributions.h5ad")
        io.write_h5ad(adata, paths[-1])
    return paths


def _args(inputs, out: Path, *extra):
    return [arg for p in inputs for arg in ("--input", str(p))] + [
        "--dataset",
        "toy",
        "--output",
        str(out / "s.tsv"),
        *extra,
    ]


def test_writes_pairs_and_summary(main, inputs, tmp_path):
    result = CliRunner().invoke(
        main, _args(inputs, tmp_path, "--top-k", "3,10", "--summary", str(tmp_path / "sum.tsv"))
    )
    assert result.exit_code == 0, result.output
    pairs = pd.read_csv(tmp_path / "s.tsv", sep="\t")
    want, want_summary = stability(
        [run_scores(io.read_h5ad(p), where=str(p)) for p in inputs], dataset="toy", top_k=(3, 10)
    )
    pd.testing.assert_frame_equal(pairs, want, check_exact=False, rtol=1e-9)
    assert set(pairs["metric"]) == {"jaccard@3", "jaccard@10", "spearman", "kendall"}
    summary = pd.read_csv(tmp_path / "sum.tsv", sep="\t")
    assert list(summary.columns) == list(keys.STABILITY_SUMMARY_COLUMNS)
    pd.testing.assert_frame_equal(summary, want_summary, check_exact=False, rtol=1e-9)


@pytest.mark.parametrize(
    ("which", "extra", "message"),
    [
        pytest.param([0], [], "Error: stability: --input: expected at least 2", id="one"),
        pytest.param([0, 0], [], "Error: stability: --input: two files hold", id="dup"),
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
