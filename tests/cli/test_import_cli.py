"""bin/import_data.py: every format through the CLI, options, one-line errors (exit 2)."""

from __future__ import annotations

import os
import re

import anndata as ad
import numpy as np
import pytest
from click.testing import CliRunner

from genexai import io, keys
from genexai.cli.import_data import main
from genexai.import_data import import_data
from tests.helpers import formats as fx

#: (format, extra CLI options, the same options for import_data)
CASES = [
    pytest.param("pancan_gdc", [], {}, id="pancan_gdc"),
    pytest.param("pancan_xena", [], {}, id="pancan_xena"),
    pytest.param("xena_htseq", [], {}, id="xena_htseq"),
    pytest.param("star_counts", [], {}, id="star_counts"),
    pytest.param("table", [], {}, id="table"),
    pytest.param("h5ad", ["--label-key", "cell_type"], {"label_key": "cell_type"}, id="h5ad"),
    pytest.param(
        "h5ad",
        ["--label-key", "cell_type", "--layer", "counts"],
        {"label_key": "cell_type", "layer": "counts"},
        id="h5ad_layer",
    ),
    pytest.param(
        "h5ad",
        ["--label-key", "cell_type", "--use-raw"],
        {"label_key": "cell_type", "use_raw": True},
        id="h5ad_raw",
    ),
    pytest.param(
        "star_counts", ["--layer", "tpm_unstranded"], {"layer": "tpm_unstranded"}, id="star_tpm"
    ),
    pytest.param(
        "xena_htseq",
        ["--keep-label", "Primary Tumor", "--keep-label", "Metastatic", "--no-filter-genes"],
        {"keep_labels": ["Primary Tumor", "Metastatic"], "filter_genes": False},
        id="label_and_gene_filters",
    ),
    pytest.param(
        "pancan_xena", ["--drop-label", "LAML"], {"drop_labels": ["LAML"]}, id="drop_label"
    ),
]


@pytest.mark.parametrize(("fmt", "options", "kwargs"), CASES)
def test_imports_every_format(format_files, tmp_path, fmt, options, kwargs):
    data, labels = format_files[fmt]
    out = tmp_path / "imported.h5ad"
    args = ["--input", str(data), "--format", fmt, "--output", str(out), *options]
    if labels is not None:
        args += ["--labels", str(labels)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    got = io.read_h5ad(out)
    expected = import_data(data, format=fmt, labels=labels, **kwargs)
    # A sparse source (the counts layer) stays sparse.
    np.testing.assert_array_equal(
        io.dense_rows(got.X, dtype=None), io.dense_rows(expected.X, dtype=None)
    )
    assert got.obs_names.equals(expected.obs_names) and got.var_names.equals(expected.var_names)
    assert got.obs[keys.LABEL].equals(expected.obs[keys.LABEL])
    assert got.uns[keys.UNS][keys.IMPORT]["format"] == fmt
    assert [p.name for p in tmp_path.iterdir()] == ["imported.h5ad"]


def test_transpose(format_files, tmp_path):
    matrix, labels = format_files["table"]
    out = tmp_path / "t.h5ad"
    transposed = matrix.parent / "expression_genes_by_samples.tsv.gz"
    args = ["--input", transposed, "--format", "table", "--labels", labels, "--transpose"]
    result = CliRunner().invoke(main, [*map(str, args), "--output", str(out)])
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(
        ad.read_h5ad(out).X, import_data(matrix, format="table", labels=labels).X
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--format", "table", "--labels", "nope.tsv"],
            r"nope\.tsv: no such file \(labels table\)",
        ),
        (["--format", "table"], r"^Error: import: labels: format table needs a labels"),
        (["--format", "h5ad"], r"expression\.csv: not a readable HDF5/\.h5ad file"),
        (
            ["--format", "table", "--layer", "x", "--labels", "y"],
            r"^Error: import: layer: applies to format h5ad or star_counts, not table$",
        ),
    ],
    ids=["missing_labels", "labels_required", "csv_as_h5ad", "layer_misused"],
)
def test_errors_in_process(format_files, tmp_path, args, message, monkeypatch):
    monkeypatch.setenv("GENEXAI_PROGRESS", "0")  # no progress lines before the error line
    matrix, _ = format_files["table"]
    out = tmp_path / "out.h5ad"
    result = CliRunner().invoke(main, ["--input", str(matrix), *args, "--output", str(out)])
    assert result.exit_code == 2
    assert result.output.startswith("Error: import: ")
    assert re.search(message, result.output)
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_script_is_an_executable_with_a_shebang(script):
    assert os.access(script("import_data"), os.X_OK)
    assert script("import_data").read_text().splitlines()[0] == "#!/usr/bin/env python3"


def test_subprocess_imports_the_committed_fixture(tmp_path, run_script):
    """What the pipeline runs: committed files staged under fixed names."""
    folder = fx.COMMITTED / "pancan_gdc"
    (tmp_path / "input.data").symlink_to(folder / fx.GDC_MATRIX)
    (tmp_path / "labels.data").symlink_to(folder / fx.GDC_CLINICAL)
    args = ["--input", "input.data", "--format", "pancan_gdc", "--labels", "labels.data"]
    done = run_script("import_data", *args, "--output", "x.imported.h5ad", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    adata = io.read_h5ad(tmp_path / "x.imported.h5ad")
    assert adata.shape == (19, 11) and adata.X.dtype == np.float32


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, r"^Error: import: input\.data: no such file \(expression matrix\)$"),
        (
            "id\tg1\tg2\nA\t1\tx\nB\t2\t3\n",
            r"^Error: import: input\.data: non-numeric value 'x' at row 'A', column 'g2'; "
            r"expected numbers$",
        ),
        (
            "id\tg1\tg1\nA\t1\t2\nB\t2\t3\n",
            r"^Error: import: input\.data: duplicate gene id 'g1'$",
        ),
    ],
    ids=["missing", "non_numeric", "duplicate_gene"],
)
def test_subprocess_bad_input(tmp_path, content, message, run_script):
    if content is not None:
        (tmp_path / "input.data").write_text(content)
    (tmp_path / "labels.data").write_text("id\tlabel\nA\tx\nB\ty\n")
    args = ["--input", "input.data", "--format", "table", "--labels", "labels.data"]
    quiet = {"GENEXAI_PROGRESS": "0"}  # no progress lines before the error line
    done = run_script("import_data", *args, "--output", "out.h5ad", cwd=tmp_path, env=quiet)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert re.match(message, done.stderr.strip()), done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["labels.data"] + (["input.data"] if content is not None else [])
    )
