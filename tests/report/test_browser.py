"""The report in a real browser: headless Chromium renders it, every figure shows.

tests/report/browser_page.py opens the pages with playwright (in .venv-dev,
requirements-dev.lock) driving the system's Chromium (/usr/bin/chromium,
Debian's; ``make setup-dev`` installs both). Without them the test is skipped,
except in CI (``CI=true``), where it fails: there a missing browser is a
broken setup, not a choice.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from genexai.report import collect_results, write_report

from .test_render import PARAMS, RUN_INFO, SECTIONS, VERSIONS

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DEV_PYTHON = REPO / ".venv-dev" / "bin" / "python"
CHROMIUM = Path("/usr/bin/chromium")
SCRIPT = Path(__file__).with_name("browser_page.py")
# Any HTTP(S) request goes to a closed port and fails at once: the page and
# the browser must work offline (as in tests/pipeline/test_nfcore_lint.py).
OFFLINE = {
    name: "http://127.0.0.1:9"
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy")
}


def _missing() -> str | None:
    """Why the browser cannot run here, or None."""
    if not CHROMIUM.is_file():
        return f"no {CHROMIUM}"
    if not DEV_PYTHON.is_file():
        return f"no {DEV_PYTHON}"
    probe = subprocess.run(
        [str(DEV_PYTHON), "-c", "import playwright.sync_api"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if probe.returncode:
        return f"no playwright in {DEV_PYTHON}: {probe.stderr.strip().splitlines()[-1:]}"
    return None


@pytest.fixture(scope="module")
def browse():
    """``browse(*pages) -> [dict per page]`` (tests/report/browser_page.py's JSON)."""
    missing = _missing()
    if missing:
        reason = f"headless browser missing ({missing}); run `make setup-dev` as root"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: in CI it must be there")
        pytest.skip(reason)

    def run(*pages: Path) -> list[dict]:
        env = {**os.environ, **OFFLINE, "no_proxy": "", "NO_PROXY": ""}
        proc = subprocess.run(
            [str(DEV_PYTHON), str(SCRIPT), str(CHROMIUM), *map(str, pages)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout)

    return run


def _png(draw) -> str:
    fig = Figure(figsize=(2, 1), dpi=50)
    FigureCanvasAgg(fig)
    draw(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def test_the_checks_can_fail(tmp_path, browse):
    """A blank figure, a broken one, a console error and an exception are all reported."""
    blank = _png(lambda fig: None)
    drawn = _png(lambda fig: fig.subplots().plot([0, 1], [1, 0]))
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>bad</title></head><body>"
        '<section id="s"><h2>S</h2>'
        f'<img alt="blank" src="{blank}"><img alt="drawn" src="{drawn}">'
        '<img alt="broken" src="data:image/png;base64,AAAA">'
        "</section><script>console.error('boom'); undefinedFunction();</script>"
        "</body></html>",
        encoding="utf-8",
    )
    (result,) = browse(page)
    assert result["title"] == "bad" and result["sections"] == [["s", "S"]]
    figures = {f["alt"]: f for f in result["figures"]}
    assert figures["blank"]["colors"] == 1 and figures["blank"]["width"] == 100
    assert figures["drawn"]["colors"] > 1
    assert figures["broken"]["width"] == 0
    assert any("boom" in e for e in result["errors"])
    assert any("undefinedFunction" in e for e in result["errors"])


def test_the_report_renders_in_a_browser(tmp_path, browse, synthetic_results):
    folder = synthetic_results(tmp_path / "results")
    write_report(
        collect_results(folder), tmp_path / "out", params=PARAMS, versions=VERSIONS,
        run_info=RUN_INFO,
    )  # fmt: skip
    html = tmp_path / "out" / "report" / "report.html"
    (result,) = browse(html)
    assert result["errors"] == []
    assert result["title"] == "genexai report"
    sections = dict(result["sections"])
    assert set(SECTIONS) <= set(sections)
    assert all(sections[s].strip() for s in SECTIONS), sections
    figures = result["figures"]
    assert len(figures) == html.read_text(encoding="utf-8").count("<img ") > 5
    for figure in figures:
        assert figure["width"] > 0 and figure["height"] > 0, figure
        assert figure["shown_width"] > 0 and figure["shown_height"] > 0, figure
        assert figure["colors"] > 1, f"blank figure: {figure['alt']}"
