"""genexai.report._render: the HTML report (valid, self-contained, deterministic) and its files."""

from __future__ import annotations

from html.parser import HTMLParser

import pandas as pd
import pytest

from genexai import keys
from genexai.report import (
    collect_results,
    multiqc_tables,
    render_report,
    summary_tables,
    write_report,
)
from tests.helpers.report import TABLES

SECTIONS = (
    "overview",
    "accuracy",
    "prediction-gaps",
    "feature-agreement",
    "curves",
    "top-genes",
    "stability",
    "completeness",
    "parameters-and-versions",
)
#: Sections that show at least one figure when their data are present.
FIGURE_SECTIONS = (
    "overview",
    "accuracy",
    "prediction-gaps",
    "feature-agreement",
    "curves",
    "stability",
    "completeness",
)
PARAMS = {"outdir": "results", "seeds": [0, 1], "ig": {"n_steps": 3000, "baseline": "zero"}}
VERSIONS = (
    '"GENEXAI:TRAIN":\n    python: 3.11.2\n    torch: 2.5.1\n'
    '"GENEXAI:REPORT":\n    genexai: 0.1.0\n'
)
#: A run record as workflows/genexai.nf writes it; the command line holds HTML
#: and shell characters, which the report must show as text.
RUN_INFO = {
    "command_line": "nextflow run . -profile test,local --baseline_class '<C1> & \"x\"'",
    "run_name": "sleepy_magritte",
    "version": "0.1.0",
    "revision": None,
    "commit": "0123456789abcdef0123456789abcdef01234567",
    "nextflow_version": "24.10.8",
}


@pytest.fixture(scope="module")
def html(results) -> str:
    return render_report(results, params=PARAMS, versions=VERSIONS, run_info=RUN_INFO)


# --- an HTML checker ------------------------------------------------------


class _Checker(HTMLParser):
    """Balanced tags, ids, and every URL-bearing attribute."""

    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.urls: list[tuple[str, str]] = []
        self.images: list[tuple[str | None, str]] = []  # (enclosing section id, src)
        self.sections: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        for name in ("src", "href", "action", "data", "poster"):
            if name in attrs:
                self.urls.append((tag, attrs[name] or ""))
        if tag == "section":
            self.sections.append(attrs.get("id", ""))
        if tag == "img":
            self.images.append((self.sections[-1] if self.sections else None, attrs.get("src", "")))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()
        if tag == "section":
            self.sections.pop()


def check_html(text: str) -> _Checker:
    checker = _Checker()
    checker.feed(text)
    checker.close()
    assert text.lstrip().startswith("<!DOCTYPE html>")
    assert not checker.errors, checker.errors[:5]
    assert not checker.stack, f"unclosed tags: {checker.stack}"
    assert len(checker.ids) == len(set(checker.ids)), "duplicate ids"
    return checker


def assert_self_contained(text: str, checker: _Checker) -> None:
    """Only in-page links and embedded PNGs; nothing that could load from elsewhere."""
    assert "http://" not in text and "https://" not in text
    for tag, url in checker.urls:
        assert url.startswith(("#", "data:image/png;base64,")), (tag, url[:80])
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert "url(" not in text


def test_checker_catches_bad_html():
    with pytest.raises(AssertionError):
        check_html("<!DOCTYPE html><html><body><div><p>x</div></body></html>")
    for bad in ('<img src="//cdn.example/x.png">', '<a href="file:///etc/passwd">x</a>'):
        page = f"<!DOCTYPE html><p>{bad}</p>"
        with pytest.raises(AssertionError):
            assert_self_contained(page, check_html(page))


# --- the HTML report --------------------------------------------------------


def test_report_is_valid_and_self_contained(html):
    checker = check_html(html)
    assert_self_contained(html, checker)
    assert set(SECTIONS) <= set(checker.ids)
    with_images = {section for section, src in checker.images}
    assert set(FIGURE_SECTIONS) <= with_images
    for _, src in checker.images:
        assert src.startswith("data:image/png;base64,") and len(src) > 1000
    assert "not computed in this run" not in html


def test_report_content(html):
    assert "★" in html  # informative genes of SIMU1 are marked
    assert "The true informative genes are not known for this dataset." in html  # BRCA
    assert "PGI local" in html and "FA local" in html and "balanced accuracy" in html
    assert "ig.n_steps" in html and "3000" in html  # flattened params
    assert "torch" in html and "2.5.1" in html  # versions table
    assert "top100_jaccard" in html
    # the figure of each curve kind lands in its own section
    pg = html[html.index('id="prediction-gaps"') : html.index('id="feature-agreement"')]
    assert "Prediction-gap curves for SIMU1" in pg


def test_report_is_deterministic(results, html):
    assert render_report(results, params=PARAMS, versions=VERSIONS, run_info=RUN_INFO) == html


def test_report_shows_the_run(html):
    """Command line (escaped, as text), run name, revision and Nextflow version."""
    start = html.index('id="run"')
    run = html[start : html.index("<h3>", start)]
    assert (
        "<code>nextflow run . -profile test,local --baseline_class "
        "&#39;&lt;C1&gt; &amp; &#34;x&#34;&#39;</code>" in run
    )
    assert "<th scope=\"row\">Run name</th><td>sleepy_magritte</td>" in run
    assert "version 0.1.0 · commit 0123456789abcdef0123456789abcdef01234567" in run
    assert "<th scope=\"row\">Nextflow version</th><td>24.10.8</td>" in run


def test_report_without_a_run_record_says_so(results):
    html = render_report(results, params=PARAMS, versions=VERSIONS)
    assert "The run record was not computed in this run." in html
    assert "Run name" not in html


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        pytest.param("", "The version record was not computed in this run.", id="empty"),
        pytest.param("just: [text", "just: [text", id="raw"),
    ],
)
def test_every_section_renders_without_data(tmp_path, versions, expected):
    (tmp_path / "D.m.0.train.json").write_text(
        '{"dataset": "D", "model": "m", "seed": 0, "train_accuracy": 99.5, "balanced_accuracy": 91}'
    )
    html = render_report(collect_results(tmp_path), params={}, versions=versions)
    checker = check_html(html)
    assert_self_contained(html, checker)
    assert set(SECTIONS) <= set(checker.ids)
    absent = {s for s in SECTIONS if "not computed in this run" in _section(html, s)}
    assert absent == set(SECTIONS) - {"accuracy"}
    assert expected in html
    assert "99.50 ± 0.00" in html


def _section(html: str, section: str) -> str:
    start = html.index(f'<section id="{section}">')
    return html[start : html.index("</section>", start)]


def test_write_report_writes_every_file(results, tmp_path):
    written = write_report(results, tmp_path / "out", params=PARAMS, versions=VERSIONS)
    expected = {tmp_path / "out" / "summary" / f"{t}.tsv" for t in TABLES}
    mqc = multiqc_tables(summary_tables(results))
    assert len(mqc) == 6  # every MultiQC section has rows in the synthetic results
    expected |= {tmp_path / "out" / "summary" / name for name in mqc}
    expected.add(tmp_path / "out" / "report" / "report.html")
    assert set(written) == expected
    assert all(p.stat().st_size > 0 for p in expected)
    assert not list((tmp_path / "out").rglob(".*.tmp"))
    accuracy = pd.read_csv(tmp_path / "out" / "summary" / "accuracy.tsv", sep="\t")
    assert {"balanced_accuracy", "balanced_accuracy mean", "balanced_accuracy std"} <= set(
        accuracy.columns
    )
    metrics = pd.read_csv(
        tmp_path / "out" / "summary" / "metrics.tsv", sep="\t", keep_default_na=False
    )
    assert list(metrics.columns) == list(keys.METRIC_COLUMNS)
    assert len(metrics) == len(results.metrics)



def test_a_capped_run_says_its_figures_rest_on_a_sample(results, html):
    capped = render_report(
        results,
        params={**PARAMS, "max_explained_per_class": 50},
        versions=VERSIONS,
        run_info=RUN_INFO,
    )
    assert "each run explained at most 50" in capped
    assert "rest on the\nexamples column" in capped
    assert "each run explained at most" not in html
