"""PREPARE, GRAPH, TRAIN, ATTRIBUTE, EVALUATE, STABILITY and REPORT refuse hostile
input with one line naming the file or field, and leave no output behind."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import torch

from .conftest import Case, check_case
from .test_import import _cells, _declared_stored_sparse, _truncated, _write_layers_only

# --- PREPARE ------------------------------------------------------------------


def _h5ad_input(step: str, make: Callable[[Path], None], *extra: str):
    """``--input in.h5ad`` (made by ``make``) and the step's outputs."""

    def build(case: Case) -> list:
        path = case.inp / "in.h5ad"
        make(path)
        outputs = {
            "prepare": [
                "--output",
                case.out / "p.h5ad",
                "--summary",
                case.out / "p.tsv",
                "--dataset",
                "D",
            ],
            "graph": ["--output", case.out / "g.npz"],
            "stability": ["--output", case.out / "s.tsv", "--summary", case.out / "s.summary.tsv"],
        }[step]
        return ["--input", path, *extra, *outputs]

    return build


def _write(adata: ad.AnnData) -> Callable[[Path], None]:
    return adata.write_h5ad


def _x_with_nan() -> ad.AnnData:
    adata = _cells()
    adata.X[2, 3] = np.nan
    return adata


def _duplicate_obs() -> ad.AnnData:
    adata = _cells()
    adata.obs_names = ["c0", "c1", "c2", "c1", "c4", "c5", "c6", "c7"]
    return adata


PREPARE = [
    pytest.param(
        "prepare",
        _h5ad_input("prepare", _declared_stored_sparse, "--max-memory-gb", "1"),
        [
            "in.h5ad: X is a sparse 100000 × 100000 matrix; reading it (500000000 non-zeros "
            "stored) needs",
            "above the limit of 1.0 GiB",
        ],
        id="prepare-tiny-file-declaring-huge-sparse-non-zeros",
    ),
    pytest.param(
        "prepare",
        _h5ad_input("prepare", lambda p: p.write_bytes(b"")),
        ["in.h5ad: not a readable HDF5/.h5ad file"],
        id="prepare-zero-length-h5ad",
    ),
    pytest.param(
        "prepare",
        _h5ad_input("prepare", _truncated),
        ["in.h5ad: not a readable HDF5/.h5ad file"],
        id="prepare-truncated-h5ad",
    ),
    pytest.param(
        "prepare",
        _h5ad_input("prepare", _write_layers_only),
        ["in.h5ad: has no X; its data is in layers ('counts')"],
        id="prepare-no-x",
    ),
    pytest.param(
        "prepare",
        _h5ad_input("prepare", _write(_x_with_nan())),
        ["in.h5ad: X contains NaN or infinite values"],
        id="prepare-nan-in-x",
    ),
    pytest.param(
        "prepare",
        _h5ad_input("prepare", _write(_duplicate_obs())),
        ["in.h5ad: duplicate obs name 'c1'"],
        id="prepare-duplicate-sample",
    ),
    pytest.param(
        "prepare",
        _h5ad_input("prepare", _write(_cells(obs=pd.DataFrame(index=[f"c{i}" for i in range(8)])))),
        ["in.h5ad: obs['label'] is missing"],
        id="prepare-no-labels",
    ),
    pytest.param(
        "graph",
        _h5ad_input("graph", lambda p: p.write_text("not hdf5")),
        ["in.h5ad: not a readable HDF5/.h5ad file"],
        id="graph-text-as-h5ad",
    ),
    pytest.param(
        "stability",
        _h5ad_input("stability", lambda p: p.write_bytes(b"")),
        ["in.h5ad: not a readable HDF5/.h5ad file"],
        id="stability-zero-length-h5ad",
    ),
]


@pytest.mark.parametrize(("step", "build", "names"), PREPARE)
def test_h5ad_steps_refuse(case: Case, step: str, build, names) -> None:
    check_case(case, step, build, names)


# --- Checkpoints (ATTRIBUTE, EVALUATE) and graphs (TRAIN) --------------------


class _Code:
    """Unpickling this creates a file: the proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _checkpoint(make: Callable[[Case, Path], None]):
    def build(case: Case) -> list:
        path = case.inp / "model.pt"
        make(case, path)
        v = case.valid
        return [
            "--input",
            v.prepared,
            "--model",
            path,
            "--device",
            "cpu",
            "--output",
            case.out / "a.h5ad",
        ]

    return build


def _truncated_checkpoint(case: Case, path: Path) -> None:
    data = case.valid.model.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _pickle_with_code(case: Case, path: Path) -> None:
    path.write_bytes(
        pickle.dumps({"format": "genexai-checkpoint/1", "meta": _Code(case.inp / "PWNED")})
    )


def _torch_save_with_code(case: Case, path: Path) -> None:
    torch.save({"format": "genexai-checkpoint/1", "meta": _Code(case.inp / "PWNED")}, path)


CHECKPOINTS = [
    pytest.param(
        _checkpoint(lambda c, p: p.write_text("a text file\n")),
        ["model.pt: not a safe genexai checkpoint (not a torch file: neither a zip archive nor"],
        id="checkpoint-text-file",
    ),
    pytest.param(
        _checkpoint(_truncated_checkpoint),
        ["model.pt: not a safe genexai checkpoint (a truncated or corrupt zip archive)"],
        id="checkpoint-truncated",
    ),
    pytest.param(
        _checkpoint(lambda c, p: p.write_bytes(b"")),
        ["model.pt: not a safe genexai checkpoint (an empty file)"],
        id="checkpoint-empty",
    ),
    pytest.param(
        _checkpoint(_pickle_with_code),
        ["model.pt: not a safe genexai checkpoint (it holds objects other than tensors"],
        id="checkpoint-pickle-running-code",
    ),
    pytest.param(
        _checkpoint(_torch_save_with_code),
        ["model.pt: not a safe genexai checkpoint (it holds objects other than tensors"],
        id="checkpoint-torch-save-running-code",
    ),
    pytest.param(
        _checkpoint(
            lambda c, p: torch.save(
                {"format": "genexai-checkpoint/1", "meta": "{", "state_dict": {}}, p
            )
        ),
        ["model.pt: inconsistent genexai checkpoint (JSONDecodeError"],
        id="checkpoint-bad-metadata",
    ),
]


@pytest.mark.parametrize(("build", "names"), CHECKPOINTS)
def test_attribute_refuses_checkpoints(case: Case, build, names) -> None:
    check_case(case, "attribute", build, names)
    assert not (case.inp / "PWNED").exists(), "loading the checkpoint ran code"


def test_evaluate_refuses_a_text_checkpoint(case: Case) -> None:
    def build(c: Case) -> list:
        model = c.write("model.pt", "not a checkpoint\n")
        v, out = c.valid, c.out
        outputs = [
            "--output",
            out / "m.tsv",
            "--curves",
            out / "c.tsv",
            "--top-genes",
            out / "t.tsv",
        ]
        outputs += ["--gene-scores", out / "s.h5ad", "--completeness", out / "k.tsv"]
        return [
            "--attributions",
            v.attributions,
            "--model",
            model,
            "--input",
            v.prepared,
            "--dataset",
            "D",
            *outputs,
        ]

    check_case(
        case, "evaluate", build, ["model.pt: not a safe genexai checkpoint (not a torch file"]
    )


def _graph(edit: Callable[[dict], dict] | None = None, *, text: str | None = None):
    """TRAIN DiffuseLR with a graph .npz made from the valid one by ``edit``."""

    def build(case: Case) -> list:
        path = case.inp / "graph.npz"
        if text is not None:
            path.write_text(text)
        else:
            with np.load(case.valid.graph, allow_pickle=False) as npz:
                fields = {k: npz[k] for k in npz.files}
            np.savez(path, **edit(fields))
        v, out = case.valid, case.out
        train = ["--input", v.prepared, "--model", "DiffuseLR", "--graph", path, "--epochs", "1"]
        return [*train, "--device", "cpu", "--output", out / "m.pt", "--metrics", out / "m.json"]

    return build


def _grow_shape(fields: dict) -> dict:
    n = int(fields["shape"][0])
    return {**fields, "shape": np.array([n + 1, n + 1])}


def _cut_indptr(fields: dict) -> dict:
    return {**fields, "indptr": fields["indptr"][:-2]}


def _rename_genes(fields: dict) -> dict:
    return {**fields, "genes": np.array([f"x{g}" for g in fields["genes"]])}


GRAPHS = [
    pytest.param(
        _graph(text="not a graph\n"), ["graph.npz: not a readable .npz graph"], id="graph-text-file"
    ),
    pytest.param(_graph(_grow_shape), ["graph.npz: "], id="graph-shape-larger-than-its-genes"),
    pytest.param(
        _graph(_cut_indptr), ["graph.npz: inconsistent sparse graph"], id="graph-indptr-too-short"
    ),
    pytest.param(
        _graph(_rename_genes),
        ["prepared.h5ad vs graph: graph genes do not match the data"],
        id="graph-other-genes",
    ),
    pytest.param(
        _graph(lambda f: {k: v for k, v in f.items() if k != "genes"}),
        ["graph.npz: ", "genes"],
        id="graph-without-genes",
    ),
]


@pytest.mark.parametrize(("build", "names"), GRAPHS)
def test_train_refuses_graphs(case: Case, build, names) -> None:
    check_case(case, "train", build, names)


def test_attribute_refuses_an_unknown_baseline_class(case: Case) -> None:
    def build(c: Case) -> list:
        v = c.valid
        explain = ["--input", v.prepared, "--model", v.model, "--baseline", "class_mean"]
        return [
            *explain,
            "--baseline-class",
            "nope",
            "--device",
            "cpu",
            "--output",
            c.out / "a.h5ad",
        ]

    check_case(case, "attribute", build, ["baseline_class: expected one of the classes", "'nope'"])


# --- REPORT ---------------------------------------------------------------------


def _report(make: Callable[[Case], list] | None = None):
    """REPORT on a copy of the valid results; ``make`` adds files and arguments."""

    def build(case: Case) -> list:
        results = case.inp / "results"
        results.mkdir()
        for path in case.valid.results.iterdir():
            (results / path.name).write_bytes(path.read_bytes())
        extra = make(case) if make is not None else []
        return ["--results-dir", results, *extra, "--outdir", case.out]

    return build


def _blocking_file(name: str) -> Callable[[Case], list]:
    def make(case: Case) -> list:
        (case.out / name).write_text("in the way\n")
        return []

    return make


def _results_file(name: str, content: str | bytes) -> Callable[[Case], list]:
    def make(case: Case) -> list:
        path = case.inp / "results" / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return []

    return make


def _params(content: bytes) -> Callable[[Case], list]:
    def make(case: Case) -> list:
        return ["--params", case.write("params.json", content)]

    return make


METRICS_HEADER = "dataset\tmodel\tseed\tmethod\tmetric\tvariant\tvalue\n"

REPORTS = [
    pytest.param(
        _report(_blocking_file("report")),
        ["out/report: exists and is not a folder; cannot write the report under"],
        id="report-outdir-report-is-a-file",
    ),
    pytest.param(
        _report(_blocking_file("summary")),
        ["out/summary: exists and is not a folder"],
        id="report-outdir-summary-is-a-file",
    ),
    pytest.param(
        _report(_params(b'{"seeds": "1", "name": "caf\xe9"}')),
        ["params.json: not UTF-8 text (byte 0xe9 at offset 27)"],
        id="report-params-not-utf8",
    ),
    pytest.param(
        _report(_params(b'{"seeds": 1,')),
        ["params.json: not a readable JSON file (invalid JSON at line 1)"],
        id="report-params-not-json",
    ),
    pytest.param(
        _report(_results_file("D.LR.0.metrics.tsv", METRICS_HEADER + "D\tLR\t0\tnone\tpgi\n")),
        ["D.LR.0.metrics.tsv: line 2 has 5 fields, the header has 7"],
        id="report-table-row-too-short",
    ),
    pytest.param(
        _report(_results_file("D.MLP.0.train.json", b'{"dataset": "D\xff"}')),
        ["D.MLP.0.train.json: not UTF-8 text (byte 0xff"],
        id="report-train-json-not-utf8",
    ),
    pytest.param(
        _report(_results_file("D.MLP.0.train.json", '{"dataset": "D", "model": 3}')),
        ["D.MLP.0.train.json: field 'model' must be a non-empty string, found 3"],
        id="report-train-json-wrong-field",
    ),
]


@pytest.mark.parametrize(("build", "names"), REPORTS)
def test_report_refuses(case: Case, build, names) -> None:
    check_case(case, "report", build, names)
