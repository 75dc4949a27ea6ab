"""genexai.report._multiqc: the summary tables as MultiQC custom content, read by MultiQC itself."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from genexai import keys
from genexai.report import collect_results, multiqc_tables, summary_tables
from genexai.report._multiqc import SECTIONS

REPO = Path(__file__).resolve().parents[2]
MULTIQC = Path(sys.executable).parent / "multiqc"


def _parse(text: str) -> tuple[dict, pd.DataFrame]:
    """A custom-content file as MultiQC reads it: the ``#`` YAML header, then the TSV."""
    lines = text.splitlines(keepends=True)
    header = [line[1:] for line in lines if line.startswith("#")]
    body = "".join(line for line in lines if not line.startswith("#"))
    assert all(line.startswith("# ") for line in lines[: len(header)]), "header lines come first"
    return yaml.safe_load("".join(header)), pd.read_csv(
        io.StringIO(body), sep="\t", float_precision="round_trip"
    )


@pytest.fixture(scope="module")
def tables(results):
    return summary_tables(results)


@pytest.fixture(scope="module")
def files(tables) -> dict[str, str]:
    return multiqc_tables(tables)


def test_one_file_per_section_with_a_parsable_header(files):
    assert list(files) == [f"genexai_{s.table}_mqc.tsv" for s in SECTIONS]
    for name, text in files.items():
        header, body = _parse(text)
        table = name.removesuffix("_mqc.tsv").removeprefix("genexai_")
        section = next(s for s in SECTIONS if s.table == table)
        assert header["id"] == f"genexai_{table}"
        assert header["section_name"] == section.name
        assert header["description"] == section.description
        assert header["plot_type"] == "table"
        assert header["pconfig"]["col1_header"] == body.columns[0]
        assert set(header["headers"]) <= set(body.columns[1:])
        assert body.iloc[:, 0].is_unique, name  # MultiQC keys rows by the first column
        assert len(body) > 0


@pytest.mark.parametrize("table", ["accuracy", "prediction_gaps", "feature_agreement"])
def test_paper_tables_keep_the_numbers(files, tables, table):
    _, body = _parse(files[f"genexai_{table}_mqc.tsv"])
    paper = tables[table]
    numeric = [c for c in paper.columns if c.endswith((" mean", " std"))]
    assert list(body.columns) == ["run", "n_seeds", *numeric]
    runs = [
        " · ".join(v for v in (d, m, x) if v not in ("", "none"))
        for d, m, x in paper[["dataset", "model", "method"]].itertuples(index=False)
    ]
    assert body["run"].tolist() == runs
    np.testing.assert_array_equal(body["n_seeds"], paper["n_seeds"])
    # Written with every digit: MultiQC gets the values of summary/<table>.tsv.
    np.testing.assert_array_equal(body[numeric].to_numpy(float), paper[numeric].to_numpy(float))


def test_stability_is_one_row_per_model_pair_without_per_class_variants(tables):
    rows = [
        ("D", "ig", "LR", "LR", "spearman", "overall", 45, 0.8, 0.05),
        ("D", "ig", "LR", "LR", "spearman", "class:C0", 45, 0.7, 0.04),
        ("D", "ig", "LR", "LR", "jaccard@10", "class_mean", 45, 0.3, 0.1),
        ("D", "ig", "LR", "MLP", "spearman", "overall", 100, 0.6, 0.07),
        ("D", "ig", "LR", "MLP", "jaccard@10", "class_mean", 100, 0.2, 0.1),
        ("E", "ig", "MLP", "MLP", "spearman", "overall", 1, 0.9, 0.0),
    ]
    stability = pd.DataFrame(rows, columns=list(keys.STABILITY_SUMMARY_COLUMNS))
    files = multiqc_tables({**tables, "stability": stability})
    _, body = _parse(files["genexai_stability_mqc.tsv"])
    expected = pd.DataFrame(
        {
            "run": ["D · ig · LR vs LR", "D · ig · LR vs MLP", "E · ig · MLP vs MLP"],
            "n_pairs": [45, 100, 1],
            "spearman overall mean": [0.8, 0.6, 0.9],
            "jaccard@10 class_mean mean": [0.3, 0.2, np.nan],  # E has none: an empty cell
        }
    )
    pd.testing.assert_frame_equal(body, expected)


def test_number_formats(files):
    header, _ = _parse(files["genexai_completeness_mqc.tsv"])
    assert header["headers"]["n_examples"] == {"format": "{:,.0f}"}
    assert header["headers"]["median"] == {"format": "{:,.3g}"}  # deltas are ~1e-7
    header, _ = _parse(files["genexai_datasets_mqc.tsv"])
    assert "simulated" not in header["headers"]  # a boolean keeps MultiQC's text display


def test_empty_tables_are_left_out(tmp_path):
    (tmp_path / "D.m.0.train.json").write_text(
        '{"dataset": "D", "model": "m", "seed": 0, "train_accuracy": 99.5, "balanced_accuracy": 91}'
    )
    files = multiqc_tables(summary_tables(collect_results(tmp_path)))
    assert list(files) == ["genexai_accuracy_mqc.tsv"]
    _, body = _parse(files["genexai_accuracy_mqc.tsv"])
    assert body.to_dict("records") == [
        {
            "run": "D · m",
            "n_seeds": 1,
            "balanced_accuracy mean": 91.0,
            "balanced_accuracy std": 0.0,
            "train_accuracy mean": 99.5,
            "train_accuracy std": 0.0,
        }
    ]


def test_multiqc_reads_every_section_in_the_configured_order(files, tmp_path):
    """The real MultiQC with assets/multiqc_config.yml, as the MULTIQC step runs it."""
    tables_dir = tmp_path / "tables"
    tables_dir.mkdir()
    for name, text in files.items():
        (tables_dir / name).write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [str(MULTIQC), "--force", "--config", str(REPO / "assets" / "multiqc_config.yml"),
         "--filename", "multiqc_report.html", "-o", str(tmp_path / "out"), str(tables_dir)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    html = (tmp_path / "out" / "multiqc_report.html").read_text(encoding="utf-8")
    positions = [html.index(f'id="genexai_{s.table}"') for s in SECTIONS]
    assert positions == sorted(positions)
    data = json.loads((tmp_path / "out" / "multiqc_data" / "multiqc_data.json").read_text())
    for section in SECTIONS:
        _, body = _parse(files[f"genexai_{section.table}_mqc.tsv"])
        table = (tmp_path / "out" / "multiqc_data" / f"multiqc_genexai_{section.table}_table.txt")
        parsed = pd.read_csv(table, sep="\t")
        assert sorted(parsed.iloc[:, 0]) == sorted(body.iloc[:, 0]), section.table  # names whole
    assert data["config_title"] == "genexai"
