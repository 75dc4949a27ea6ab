"""Every profile (and the combinations users run) resolves to a valid config."""

from __future__ import annotations

import subprocess

import pytest

from .conftest import NEXTFLOW, REPO

pytestmark = pytest.mark.pipeline

PROFILES = [
    "local", "conda", "docker", "podman", "singularity", "apptainer", "gpu", "slurm",
    "awsbatch", "google", "k8s", "test", "paper", "debug",
    "test,local", "test,docker", "docker,gpu", "singularity,gpu", "apptainer,gpu",
    "slurm,singularity", "slurm,singularity,gpu", "paper,local", "awsbatch,docker,gpu",
]


def _config(profile: str, *extra: str) -> str:
    proc = subprocess.run(
        [str(NEXTFLOW), "config", "-profile", profile, *extra, str(REPO)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.parametrize("profile", PROFILES)
def test_profile_resolves(profile: str, nextflow_available) -> None:
    assert "process" in _config(profile)


def test_gpu_profile_options(nextflow_available) -> None:
    text = _config("docker,gpu", "-flat")
    assert "CUDA_VISIBLE_DEVICES,NVIDIA_VISIBLE_DEVICES" in text
    assert "process.'withLabel:process_gpu'.containerOptions" in text


def test_slurm_profile_queue_size(nextflow_available) -> None:
    text = _config("slurm", "-flat")
    assert "executor.name = 'slurm'" in text
    assert "executor.queueSize = 50" in text
