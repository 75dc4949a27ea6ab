"""bin/evaluate.py: real checkpoint, graph and IG attributions in; four tables and the gene
scores out; errors."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from genexai import io, keys
from genexai.attribute import attribute
from genexai.cli.evaluate import main
from genexai.errors import InputError
from genexai.evaluate import evaluate
from genexai.graph import graph_from_adata, load_graph, save_graph
from genexai.models import build_model, load_model, save_checkpoint

N_GENES, CLASSES = 30, ["C0", "C1", "C2"]
FAST = [
    "--gap",
    "3",
    "--n-random",
    "2",
    "--curve-random",
    "2",
    "--openxai-samples",
    "2",
    "--openxai-k",
    "5",
    "--top-n",
    "4",
    "--precision-k",
    "5,10",
]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A simulated-like prepared file, its graph, an LR checkpoint and its IG attributions."""
    folder = tmp_path_factory.mktemp("evaluate")
    rng = np.random.default_rng(0)
    genes = [f"G{g:03d}" for g in range(N_GENES)]
    n = 36
    label = np.arange(n) % 3
    obs = pd.DataFrame(
        {
            keys.LABEL: pd.Categorical.from_codes(label, categories=CLASSES),
            keys.SUBCLASS: pd.Categorical.from_codes(label, categories=["S0", "S1", "S2"]),
            keys.SPLIT: pd.Categorical(np.where(np.arange(n) < 12, keys.TRAIN, keys.TEST)),
        },
        index=[f"sample{i:05d}" for i in range(n)],
    )
    informative = np.zeros((N_GENES, 3), dtype=bool)
    for c in range(3):
        informative[10 * c : 10 * c + 4, c] = True
    x = rng.normal(size=(n, N_GENES)) + 2 * informative[:, label].T
    prepared = ad.AnnData(X=x.astype(np.float32), obs=obs, var=pd.DataFrame(index=genes))
    prepared.varm[keys.INFORMATIVE] = pd.DataFrame(
        informative, index=genes, columns=["S0", "S1", "S2"]
    )
    paths = {name: folder / name for name in ("prepared.h5ad", "graph.npz", "model.pt", "a.h5ad")}
    io.write_h5ad(prepared, paths["prepared.h5ad"])
    graph = graph_from_adata(prepared, threshold=0.2, where="prepared")
    save_graph(paths["graph.npz"], graph.adj, genes=graph.genes, threshold=graph.threshold)
    model = build_model("LR", n_genes=N_GENES, n_classes=3, seed=0)
    with torch.no_grad():  # weigh only the informative genes
        model.linear.weight.copy_(0.5 * torch.from_numpy(informative.T.astype(np.float32)))
    save_checkpoint(paths["model.pt"], model, meta={"genes": genes, "classes": CLASSES, "seed": 4})
    test = prepared[prepared.obs[keys.SPLIT] == keys.TEST]
    explained = attribute(test, load_model(paths["model.pt"]), n_steps=64, tolerance=None)
    io.write_h5ad(explained, paths["a.h5ad"])
    return paths


def _args(files, out: Path, *extra):
    return [
        "--attributions",
        str(files["a.h5ad"]),
        "--model",
        str(files["model.pt"]),
        "--input",
        str(files["prepared.h5ad"]),
        "--dataset",
        "toy",
        "--output",
        str(out / "m.tsv"),
        "--curves",
        str(out / "c.tsv"),
        "--top-genes",
        str(out / "t.tsv"),
        "--completeness",
        str(out / "k.tsv"),
        "--gene-scores",
        str(out / "g.h5ad"),
        *FAST,
        *extra,
    ]


OUTPUTS = ["c.tsv", "g.h5ad", "k.tsv", "m.tsv", "t.tsv"]


def test_writes_every_output(files, tmp_path):
    result = CliRunner().invoke(
        main, _args(files, tmp_path, "--graph", str(files["graph.npz"]), "--seed", "3")
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == OUTPUTS
    metrics = pd.read_csv(tmp_path / "m.tsv", sep="\t")
    want = evaluate(
        io.read_h5ad(files["prepared.h5ad"]),
        load_model(files["model.pt"]),
        io.read_h5ad(files["a.h5ad"]),
        dataset="toy",
        graph=load_graph(files["graph.npz"]),
        gap=3,
        n_random=2,
        curve_random=2,
        openxai_samples=2,
        openxai_k=5,
        top_n=4,
        precision_k=(5, 10),
        seed=3,
    )
    pd.testing.assert_frame_equal(metrics, want.metrics, check_exact=False, rtol=1e-9)
    assert metrics[["model", "seed", "method"]].drop_duplicates().values.tolist() == [
        ["LR", 4, "integrated_gradients"]
    ]
    assert "fa_diffused" not in set(metrics["metric"]) and "local_diffused" in set(
        metrics["variant"]
    )
    curves = pd.read_csv(tmp_path / "c.tsv", sep="\t")
    assert list(curves.columns) == list(keys.CURVE_COLUMNS)
    top = pd.read_csv(tmp_path / "t.tsv", sep="\t")
    assert list(top.columns) == [*keys.TOP_GENES_COLUMNS, keys.INFORMATIVE]
    # The model weighs only the informative genes, so they lead every class's list.
    assert top[keys.INFORMATIVE].all()
    completeness = pd.read_csv(tmp_path / "k.tsv", sep="\t", float_precision="round_trip")
    assert list(completeness.columns) == list(keys.COMPLETENESS_COLUMNS)
    assert completeness[["dataset", "model", "seed"]].drop_duplicates().values.tolist() == [
        ["toy", "LR", 4]
    ]
    explained = io.read_h5ad(files["a.h5ad"])
    assert list(completeness["example"]) == list(explained.obs_names)
    # the text holds every digit: read back exactly
    np.testing.assert_array_equal(completeness["delta"], explained.obs[keys.DELTA])
    scores = io.read_h5ad(tmp_path / "g.h5ad")
    np.testing.assert_array_equal(scores.X, want.gene_scores.X)
    assert scores.uns[keys.UNS][keys.EVALUATE][keys.MODEL] == "LR"
    assert list(scores.obs_names) == CLASSES


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(["--gap", "31"], "gap: expected at most", id="gap"),
        pytest.param(["--input", "@a.h5ad"], r"obs\['target_prob'\] differs", id="input"),
        pytest.param(
            ["--attributions", "@prepared.h5ad"], "attributions: obs\\['correct'\\]", id="att"
        ),
        pytest.param(
            ["--model", "@graph.npz"], "graph.npz: not a safe genexai checkpoint", id="model"
        ),
    ],
)
def test_bad_input(files, tmp_path, extra, message):
    extra = [str(files[e[1:]]) if e.startswith("@") else e for e in extra]
    result = CliRunner().invoke(main, _args(files, tmp_path, *extra))
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: evaluate: ")
    assert re.search(message, lines[0]), lines[0]
    assert list(tmp_path.iterdir()) == []


def test_bad_precision_k_is_a_usage_error(files, tmp_path):
    result = CliRunner().invoke(main, _args(files, tmp_path, "--precision-k", "10,x"))
    assert result.exit_code == 2 and "--precision-k" in result.output
    assert list(tmp_path.iterdir()) == []


def test_script_runs_as_a_process(files, tmp_path, script, run_script):
    assert script("evaluate").read_text().startswith("#!/usr/bin/env python3\n")
    assert script("evaluate").stat().st_mode & stat.S_IXUSR
    bad = [*_args(files, tmp_path), "--attributions", str(files["prepared.h5ad"])]
    done = run_script("evaluate", *bad)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("Error: evaluate: attributions: obs['correct'] is missing")
    assert list(tmp_path.iterdir()) == []
    ok = run_script("evaluate", *_args(files, tmp_path))
    assert ok.returncode == 0, ok.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == OUTPUTS


def _one_line_error(result, *, start: str) -> str:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return lines[0]


def test_outputs_are_checked_before_any_work(files, tmp_path):
    """A --top-genes in a missing folder: refused at once, not after the metrics are written."""
    args = _args(files, tmp_path, "--top-genes", str(tmp_path / "no" / "t.tsv"))
    line = _one_line_error(CliRunner().invoke(main, args), start="Error: evaluate: --top-genes: ")
    assert f"output folder {tmp_path / 'no'} does not exist" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("same", ["m.tsv", "./sub/../m.tsv", "link.tsv"])
def test_two_outputs_at_one_path(files, tmp_path, same):
    """--output m.tsv --curves m.tsv: refused, whichever way the path is spelt."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.tsv").symlink_to(tmp_path / "m.tsv")
    args = _args(files, tmp_path, "--curves", str(tmp_path / same))
    line = _one_line_error(CliRunner().invoke(main, args), start="Error: evaluate: --curves: ")
    assert "must differ from --output" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.tsv", "sub"]


def test_curves_to_a_fifo_is_refused_and_kept(files, tmp_path):
    fifo = tmp_path / "curves.fifo"
    os.mkfifo(fifo)
    args = _args(files, tmp_path, "--curves", str(fifo))
    line = _one_line_error(CliRunner().invoke(main, args), start="Error: evaluate: --curves: ")
    assert f"{fifo} is not a regular file" in line
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["curves.fifo"]


def test_a_failed_write_leaves_no_output(files, tmp_path, monkeypatch):
    """The last output fails: the four written before it are not left behind."""

    def fail(adata, path, **kwargs):
        Path(path).write_text("half")
        msg = f"{path}: disk full"
        raise InputError(msg)

    monkeypatch.setattr(io, "write_h5ad", fail)
    monkeypatch.setenv("GENEXAI_PROGRESS", "0")  # no progress lines before the error line
    result = CliRunner().invoke(main, _args(files, tmp_path))
    _one_line_error(result, start="Error: evaluate: ")
    assert "disk full" in result.output
    assert list(tmp_path.iterdir()) == []


def test_global_scope_attributions_and_biomarker_k(files, tmp_path):
    """LR coefficients (global scope): no local rows, empty completeness, class curves at k."""
    prepared = io.read_h5ad(files["prepared.h5ad"])
    test = prepared[prepared.obs[keys.SPLIT] == keys.TEST]
    explained = attribute(test, load_model(files["model.pt"]), method="coefficients")
    path = tmp_path / "inputs" / "coefficients.h5ad"
    path.parent.mkdir()
    io.write_h5ad(explained, path)
    out = tmp_path / "out"
    out.mkdir()
    args = _args({**files, "a.h5ad": path}, out, "--biomarker-k", "5")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    metrics = pd.read_csv(out / "m.tsv", sep="\t")
    assert not metrics["variant"].str.startswith("local").any()
    assert set(metrics["method"]) == {"coefficients"}
    assert pd.read_csv(out / "k.tsv", sep="\t").empty
    curves = pd.read_csv(out / "c.tsv", sep="\t")
    random = curves[curves["curve"].str.startswith("class_random_removed:")]
    assert sorted(random["curve"]) == [f"class_random_removed:{c}" for c in CLASSES]
    assert set(random["n_genes"]) == {N_GENES - 5}
    keep = curves[curves["curve"] == "class_keep_best:C0"]
    # the model reads only the 4 informative genes of each class: its top 4 suffice
    assert keep.set_index("n_genes")["value"][5] == 100
