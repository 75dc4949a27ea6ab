"""bin/simulate.py: options, output file, errors (CliRunner and a real process)."""

from __future__ import annotations

import stat

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from genexai import io, keys
from genexai.cli.simulate import main
from genexai.simulate import get_config, simulate


def test_writes_the_simulation(tmp_path):
    out = tmp_path / "sim.h5ad"
    args = ["--config", "test", "--n-samples", "24", "--seed", "4", "--output", str(out)]
    overrides = ["--n-over", "5", "--class-proportions", "0.25,0.25,0.25,0.25"]
    result = CliRunner().invoke(main, [*args, *overrides, "--merge", "last_vs_rest"])
    assert result.exit_code == 0, result.output
    written = io.read_h5ad(out)
    config = get_config(
        "test", n_over=5, class_proportions=(0.25,) * 4, merge="last_vs_rest", n_samples=24
    )
    expected = simulate(config, seed=4)
    np.testing.assert_array_equal(written.X, expected.X)
    pd.testing.assert_frame_equal(written.obs, expected.obs)
    pd.testing.assert_frame_equal(written.varm[keys.INFORMATIVE], expected.varm[keys.INFORMATIVE])
    uns, want = (a.uns[keys.UNS][keys.SIMULATE] for a in (written, expected))
    assert uns.keys() == want.keys()
    assert (uns[keys.PATHWAY_GENES] != want[keys.PATHWAY_GENES]).nnz == 0
    np.testing.assert_array_equal(uns[keys.ALPHA], want[keys.ALPHA])
    assert uns["n_over"] == 5 and uns["seed"] == 4
    assert list(written.obs[keys.LABEL].cat.categories) == ["C0", "C1"]
    assert [p.name for p in tmp_path.iterdir()] == ["sim.h5ad"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--config", "SIMU9"], "name: expected a configuration", id="config"),
        pytest.param(["--config", "test", "--n-samples", "0"], "n_samples: ", id="samples"),
        pytest.param(["--config", "test", "--n-genes", "-5"], "n_genes: ", id="genes"),
        pytest.param(["--config", "SIMU1", "--n-over", "46"], "n_over: ", id="over"),
        pytest.param(["--config", "test", "--n-pathways", "100"], "n_genes: ", id="block"),
        pytest.param(["--config", "test", "--class-proportions", "1,x"], "class_prop", id="p"),
        pytest.param(["--config", "SimuB", "--merge", "0,1"], "merge: ", id="merge"),
        pytest.param(["--config", "test", "--min-prop", "0.5"], "min_prop: ", id="min-prop"),
    ],
)
def test_bad_input(tmp_path, args, message):
    out = tmp_path / "sim.h5ad"
    result = CliRunner().invoke(main, [*args, "--output", str(out)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: simulate: {message}")
    assert list(tmp_path.iterdir()) == []


def test_unknown_layout_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(
        main, ["--config", "test", "--layout", "grid", "--output", str(tmp_path / "x.h5ad")]
    )
    assert result.exit_code == 2 and "--layout" in result.output
    assert list(tmp_path.iterdir()) == []


def test_script_runs_as_an_executable(tmp_path, script, run_script):
    assert script("simulate").read_text().startswith("#!/usr/bin/env python3\n")
    assert script("simulate").stat().st_mode & stat.S_IXUSR
    sizes = "--n-genes 200 --n-pathways 20 --n-over 2 --n-samples 12".split()
    args = ["--config", "SimuB", *sizes, "--seed", "1", "--threads", "2", "--output", "ok.h5ad"]
    done = run_script("simulate", *args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # stderr is a pipe: the progress as plain lines, the last at 100 %.
    assert done.stderr.splitlines()[-1].startswith(
        "simulate ok.h5ad: 100% (12/12 samples), "
    ), done.stderr
    adata = io.read_h5ad(tmp_path / "ok.h5ad")
    assert adata.obs[keys.LABEL].value_counts(sort=False).tolist() == [9, 3]
    np.testing.assert_allclose(adata.X.sum(1), 1e6, rtol=1e-5)

    args = ["--config", "test", "--n-over", "60", "--output", "bad.h5ad"]
    failed = run_script("simulate", *args, cwd=tmp_path)
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines() == [
        "Error: simulate: n_over: expected n_over * n_classes <= n_pathways (200), "
        "found 60 * 4 = 240"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.h5ad"]
