"""nf-core tools' lints pass on the repository, offline (issue 20).

``scripts/nf-core-lint.sh`` (``make lint-nfcore``) runs ``nf-core pipelines
lint``, the part of its ``nextflow_config`` check that ``.nf-core.yml`` cannot
switch on alone, and ``nf-core pipelines schema lint``; ``.nf-core.yml`` says
which checks are off and why. nf-core tools comes from requirements-dev.lock
(``make setup-dev``), which ``make test`` builds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import REPO

pytestmark = pytest.mark.pipeline

NF_CORE = REPO / ".venv-dev" / "bin" / "nf-core"
# Checks that must have run: a lint that stops early reports fewer.
CORE_CHECKS = {"files_exist", "schema_lint", "schema_params", "system_exit", "merge_markers",
               "pipeline_todos", "base_config", "modules_config", "modules_structure",
               "local_component_structure", "template_strings", "nfcore_yml"}
# Any HTTP(S) request goes to a closed port and fails at once: a check that
# needs the network shows up as a failure, never as a pass that depends on it.
OFFLINE = {name: "http://127.0.0.1:9" for name in
           ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")}


@pytest.fixture(scope="module")
def lint(tmp_path_factory, nextflow_available) -> tuple[subprocess.CompletedProcess, Path]:
    assert NF_CORE.is_file(), "no nf-core tools in .venv-dev: run `make setup-dev`"
    out = tmp_path_factory.mktemp("nf-core-lint")
    env = {**os.environ, **OFFLINE, "no_proxy": "", "NO_PROXY": ""}
    proc = subprocess.run([str(REPO / "scripts" / "nf-core-lint.sh"), str(out)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    return proc, out


def test_pipelines_lint_passes(lint) -> None:
    proc, out = lint
    report = out / "pipelines_lint.json"
    tail = proc.stdout[-3000:] + proc.stderr[-3000:]
    assert report.is_file(), f"the lint did not run to the end:\n{tail}"
    result = json.loads(report.read_text())
    assert result["nf_core_tools_version"] == "4.2.1"
    failed = [f"{name}: {message}" for name, message in result["tests_failed"]]
    assert result["num_tests_failed"] == 0, "\n".join(failed)
    ran = {name for key in ("tests_pass", "tests_warned", "tests_ignored")
           for name, _ in result[key]}
    assert CORE_CHECKS <= ran, f"checks that did not run: {sorted(CORE_CHECKS - ran)}"


def test_nextflow_config_check_passes(lint) -> None:
    proc, out = lint
    result = json.loads((out / "nextflow_config.json").read_text())
    assert result["failed"] == [], "\n".join(result["failed"])
    # The schema's defaults are compared with nextflow.config's, parameter by parameter.
    compared = "Config default value correct: params.ig_target"
    assert any(p.startswith(compared) for p in result["passed"])


def test_schema_lint_passes(lint) -> None:
    proc, out = lint
    text = (out / "schema_lint.txt").read_text()
    assert "Pipeline schema looks valid" in text, text[-3000:]
    assert "[✗]" not in text, text[-3000:]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def _channels(block: str) -> list[str]:
    """The channel lines of a process's input: or output: block (comments dropped)."""
    lines = [re.sub(r"\s*//.*$", "", line).strip() for line in block.splitlines()]
    return [line for line in lines if line]


MODULES = sorted(p.parent.name for p in (REPO / "modules" / "local").glob("*/main.nf"))


@pytest.mark.parametrize("step", MODULES)
def test_module_meta_yml_matches_main_nf(step: str) -> None:
    """nf-core's module lint needs a clone of nf-core/modules; these are its meta.yml checks."""
    module = REPO / "modules" / "local" / step
    text = (module / "main.nf").read_text()
    meta = yaml.safe_load((module / "meta.yml").read_text())
    process = re.search(r"^process (\w+)", text, flags=re.M).group(1)
    assert meta["name"] == process.lower()
    for field in ("description", "keywords", "tools", "authors", "maintainers"):
        assert meta[field], field
    inputs = _channels(re.search(r"^\s+input:\n(.*?)^\s+output:", text, flags=re.M | re.S).group(1))
    outputs = _channels(re.search(r"^\s+output:\n(.*?)^\s+when:", text, flags=re.M | re.S).group(1))
    assert len(meta["input"]) == len(inputs), (meta["input"], inputs)
    for documented, channel in zip(meta["input"], inputs, strict=True):
        names = [next(iter(element)) for element in documented]
        declared = re.findall(r"(?:val|path)\((\w+)", channel)
        assert names == declared, (names, channel)
    emits = [re.search(r"emit: (\w+)", line).group(1) for line in outputs]
    assert list(meta["output"]) == emits
    for emit, line in zip(meta["output"], outputs, strict=True):
        names = [next(iter(element)) for element in meta["output"][emit][0]]
        declared = re.findall(r"val\((\w+)\)|path\(?\s*\"([^\"]+)\"", line)
        assert names == [v or p for v, p in declared], (emit, names, line)
