"""bin/report.py: options, outputs, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from genexai.cli.report import main

HEADER = "dataset\tmodel\tseed\tmethod\tmetric\tvariant\tvalue\n"


@pytest.fixture
def collected(tmp_path: Path) -> Path:
    folder = tmp_path / "collected"
    folder.mkdir()
    for seed in (0, 1):
        (folder / f"D.mlp.{seed}.train.json").write_text(
            json.dumps(
                {
                    "dataset": "D",
                    "model": "mlp",
                    "seed": seed,
                    "train_accuracy": 99.0,
                    "balanced_accuracy": 90.0 + seed,
                }
            )
        )
        (folder / f"D.mlp.{seed}.metrics.tsv").write_text(
            HEADER
            + f"D\tmlp\t{seed}\tig\tPGI\tlocal\t{30 + seed}\nD\tmlp\t{seed}\tig\tPGU\tlocal\t5\n"
        )
    return folder


def test_writes_tables_and_report(collected, tmp_path):
    (tmp_path / "params.json").write_text('{"seeds": [0, 1], "outdir": "results"}')
    (tmp_path / "versions.yml").write_text('"REPORT":\n    genexai: 0.1.0\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "--results-dir",
            str(collected),
            "--params",
            str(tmp_path / "params.json"),
            "--versions",
            str(tmp_path / "versions.yml"),
            "--outdir",
            str(out),
            "--top-genes",
            "5",
        ],
    )
    assert result.exit_code == 0, result.output
    assert {p.name for p in (out / "summary").iterdir()} >= {
        "metrics.tsv",
        "accuracy.tsv",
        "prediction_gaps.tsv",
        "feature_agreement.tsv",
        "curves.tsv",
        "stability.tsv",
    }
    html = (out / "report" / "report.html").read_text()
    assert "90.50 ± 0.50" in html and "genexai" in html and "seeds" in html
    accuracy = (out / "summary" / "accuracy.tsv").read_text().splitlines()
    assert accuracy[1].startswith("D\tmlp\tnone\t2\t90.50 ± 0.50\t90.5\t0.5")


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        pytest.param(
            "metrics", "D.mlp.0.metrics.tsv: column 'value', row 1: expected a number", id="metrics"
        ),
        pytest.param("params", "params.json: not a readable JSON file", id="params"),
        pytest.param(
            "train", "D.mlp.0.train.json: field 'dataset' must be a non-empty string", id="train"
        ),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(collected, tmp_path, bad, match):
    params = tmp_path / "params.json"
    params.write_text("{}" if bad != "params" else "{oops")
    if bad == "metrics":
        (collected / "D.mlp.0.metrics.tsv").write_text(HEADER + "D\tmlp\t0\tig\tPGI\tlocal\tlots\n")
    if bad == "train":  # written by bin/train.py without --dataset
        path = collected / "D.mlp.0.train.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), "dataset": None}))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["--results-dir", str(collected), "--params", str(params), "--outdir", str(out)]
    )
    assert result.exit_code == 2
    assert result.output.startswith("Error: report: ") and match in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists() or not any(out.rglob("*"))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        pytest.param('{"run_name": 3}', "field 'run_name' must be a string or null", id="number"),
        pytest.param("[]", "expected a JSON object of run record, found list", id="list"),
    ],
)
def test_a_bad_run_record_is_one_line_and_writes_nothing(collected, tmp_path, text, match):
    (tmp_path / "run_info.json").write_text(text)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["--results-dir", str(collected), "--run-info", str(tmp_path / "run_info.json"),
         "--outdir", str(out)],
    )
    assert result.exit_code == 2
    assert result.output.startswith("Error: report: ") and match in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists() or not any(out.rglob("*"))


def test_run_record_and_multiqc_tables_are_written(collected, tmp_path):
    run = {"command_line": "nextflow run . -profile test", "run_name": "tiny_turing",
           "version": "0.1.0", "revision": "main", "commit": None, "nextflow_version": "24.10.8"}
    (tmp_path / "run_info.json").write_text(json.dumps(run))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["--results-dir", str(collected), "--run-info", str(tmp_path / "run_info.json"),
         "--outdir", str(out)],
    )
    assert result.exit_code == 0, result.output
    html = (out / "report" / "report.html").read_text()
    assert "<code>nextflow run . -profile test</code>" in html and "tiny_turing" in html
    assert "version 0.1.0 · revision main</td>" in html and "24.10.8" in html
    assert {p.name for p in (out / "summary").glob("*_mqc.tsv")} == {
        "genexai_accuracy_mqc.tsv",
        "genexai_prediction_gaps_mqc.tsv",
    }


def test_script_runs_as_an_executable(collected, tmp_path, script, run_script):
    assert os.access(script("report"), os.X_OK)
    assert script("report").read_text().startswith("#!/usr/bin/env python3\n")
    (collected / "D.mlp.1.train.json").write_text("[]")
    out = tmp_path / "out"
    done = run_script("report", "--results-dir", collected, "--outdir", out)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"Error: report: {collected / 'D.mlp.1.train.json'}: expected a JSON object, found list"
    ]
    assert not out.exists() or not any(out.rglob("*"))
