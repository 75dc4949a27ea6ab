"""Containers, conda environment and lock file agree; Dockerfiles lint clean."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DOCKERFILES = sorted((REPO / "containers").glob("*/Dockerfile"))
GPU_ONLY = re.compile(r"^(nvidia-|cuda-|triton==)")


def _lock() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def test_both_images_exist() -> None:
    assert {p.parent.name for p in DOCKERFILES} == {"cpu", "cuda"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dockerfile_lints_clean(dockerfile: Path) -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    proc = subprocess.run([str(hadolint), str(dockerfile)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dockerfile_pins_base_and_installs_lock(dockerfile: Path) -> None:
    text = dockerfile.read_text()
    for base in re.findall(r"^FROM (\S+)", text, flags=re.M):
        assert re.search(r"@sha256:[0-9a-f]{64}$", base), base
    assert "requirements.lock" in text
    assert "pip install --no-deps ." in text
    for var in ("MPLCONFIGDIR=/tmp", "NUMBA_CACHE_DIR=/tmp", "TORCH_HOME=/tmp"):
        assert var in text


def test_cpu_image_drops_only_gpu_wheels() -> None:
    """The CPU image installs the lock minus CUDA-only wheels, and the same torch."""
    text = (REPO / "containers" / "cpu" / "Dockerfile").read_text()
    assert "grep -vE '^(nvidia-|cuda-|triton==)' requirements.lock" in text
    dropped = [n for n in _lock() if GPU_ONLY.match(n + "==")]
    kept = [n for n in _lock() if not GPU_ONLY.match(n + "==")]
    assert all(n.startswith(("nvidia-", "cuda-", "triton")) for n in dropped)
    for needed in ("torch", "captum", "anndata", "scikit-learn"):
        assert needed in kept


def test_conda_environment_matches_lock() -> None:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    lock = _lock()
    for line in pip:
        name, version = line.split("==")
        assert lock[name.lower()] == version, name
    assert {"torch", "captum", "anndata"} <= {line.split("==")[0] for line in pip}


def test_every_module_names_a_container() -> None:
    for module in (REPO / "modules" / "local").glob("*/main.nf"):
        text = module.read_text()
        assert re.search(r"^\s+container ", text, flags=re.M), module
        assert re.search(r"^\s+label '", text, flags=re.M), module
        assert "task.ext.args" in text and "versions.yml" in text and "stub:" in text, module
    for gpu_step in ("train", "attribute"):
        assert "label 'process_gpu'" in (REPO / "modules/local" / gpu_step / "main.nf").read_text()
