"""Valid input that looks odd is accepted, read exactly (issue 21, "valid input refused").

Quoted fields holding the separator, R's fully quoted CSV, a byte-order
mark, Windows line ends, blank lines, a spreadsheet's empty trailing rows,
and an AnnData whose data is only in a layer.
"""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from .conftest import LABELS, MATRIX, Case, run_step


def _import(
    case: Case, matrix: str | bytes, labels: str | bytes = LABELS, *extra: str
) -> ad.AnnData:
    m = case.write("m.csv", matrix)
    lab = case.write("l.csv", labels)
    out = case.out / "x.h5ad"
    done = run_step(
        "import",
        "--input",
        m,
        "--format",
        "table",
        "--labels",
        lab,
        *extra,
        "--output",
        out,
        cwd=case.inp,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return ad.read_h5ad(out)


def _expected() -> pd.DataFrame:
    return pd.read_csv(pd.io.common.StringIO(MATRIX), index_col=0).astype(np.float32)


def _r_style(text: str) -> str:
    """What R's write.csv writes: every name quoted, an empty quoted corner cell."""
    lines = text.splitlines()
    header = ",".join(['""', *(f'"{g}"' for g in lines[0].split(",")[1:])])
    rows = [f'"{line.split(",", 1)[0]}",{line.split(",", 1)[1]}' for line in lines[1:]]
    return "\n".join([header, *rows]) + "\n"


def _tsv_with_a_quoted_tab() -> str:
    """The matrix as TSV with one more gene first, named "g<tab>0", all zeros."""
    lines = MATRIX.replace(",", "\t").splitlines()
    header = lines[0].replace("id\t", 'id\t"g\t0"\t', 1)
    rows = [line.replace("\t", "\t0\t", 1) for line in lines[1:]]
    return "\n".join([header, *rows]) + "\n"


CASES = [
    pytest.param(
        MATRIX.replace("S03,", '"S,03",'),
        LABELS.replace("S03,", '"S,03",'),
        "S,03",
        id="quoted-id-holding-the-separator",
    ),
    pytest.param(
        MATRIX.replace("S03,", '"S ""3"", left",'),
        LABELS.replace("S03,", '"S ""3"", left",'),
        'S "3", left',
        id="quoted-id-with-doubled-quotes",
    ),
    pytest.param(
        MATRIX.replace("S03,", '"S\n03",'),
        LABELS.replace("S03,", '"S\n03",'),
        "S\n03",
        id="quoted-id-holding-a-line-break",
    ),
    pytest.param(
        MATRIX.replace("S03,", 'S03"x,').replace(",", "\t"),
        LABELS.replace("S03,", 'S03"x,').replace(",", "\t"),
        'S03"x',
        id="tsv-quote-inside-an-unquoted-field",
    ),
    pytest.param(_r_style(MATRIX), _r_style(LABELS), "S03", id="r-write-csv"),
    pytest.param(
        "\ufeff" + MATRIX.replace("\n", "\r\n"),
        "\ufeff" + LABELS.replace("\n", "\r\n"),
        "S03",
        id="bom-crlf",
    ),
    pytest.param(
        MATRIX.replace("\nS05", "\n\n  \nS05"), LABELS + ",\n,\n", "S03", id="blank-and-empty-rows"
    ),
    pytest.param(_tsv_with_a_quoted_tab(), LABELS, "S03", id="tsv-gene-name-holding-a-tab"),
]


@pytest.mark.parametrize(("matrix", "labels", "sample"), CASES)
def test_odd_but_valid_tables_are_read_exactly(
    case: Case, matrix: str, labels: str, sample: str
) -> None:
    adata = _import(case, matrix, labels)
    expected = _expected()
    assert sample in adata.obs_names
    names = [sample if n == "S03" else n for n in expected.index]
    if "g\t0" in adata.var_names:
        assert list(adata.var_names) == ["g\t0", *expected.columns]
        np.testing.assert_array_equal(adata.X[:, 0], 0)
        x = adata.X[:, 1:]
    else:
        assert list(adata.var_names) == list(expected.columns)
        x = adata.X
    assert list(adata.obs_names) == names
    np.testing.assert_array_equal(x, expected.to_numpy())
    assert list(adata.obs["label"].astype(str)) == ["ab"[i % 2] for i in range(12)]


def test_layer_read_when_x_is_absent(case: Case) -> None:
    """An AnnData with X=None and the data in a layer, imported with --layer."""
    rng = np.random.default_rng(0)
    counts = rng.poisson(4, (8, 5)).astype(np.float32)
    adata = ad.AnnData(
        obs=pd.DataFrame(
            {"label": pd.Categorical(list("abababab"))}, index=[f"c{i}" for i in range(8)]
        ),
        var=pd.DataFrame(index=[f"g{j}" for j in range(5)]),
        layers={"counts": counts},
    )
    assert adata.X is None
    path = case.inp / "layers.h5ad"
    adata.write_h5ad(path)
    out = case.out / "x.h5ad"
    done = run_step(
        "import",
        "--input",
        path,
        "--format",
        "h5ad",
        "--layer",
        "counts",
        "--output",
        out,
        cwd=case.inp,
    )
    assert done.returncode == 0, done.stderr
    imported = ad.read_h5ad(out)
    np.testing.assert_array_equal(imported.X, counts)
    assert imported.uns["genexai"]["import"]["layer"] == "counts"
