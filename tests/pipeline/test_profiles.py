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
    assert "process.containerOptions" in text
    assert "process.'withLabel:process_gpu'.ext.use_gpu" in text


@pytest.mark.parametrize("profile", ["docker,gpu", "slurm", "slurm,gpu", "awsbatch", "google"])
def test_profiles_keep_the_gpu_label_resources(profile: str, nextflow_available) -> None:
    # A withLabel:process_gpu block in a profile replaces base.config's: TRAIN
    # and ATTRIBUTE then ran with 1 CPU, default memory and no GPU.
    text = _config(profile, "-flat")
    for key in ("cpus", "memory", "time", "ext.use_gpu", "accelerator"):
        assert f"process.'withLabel:process_gpu'.{key}" in text, (profile, key)


def test_slurm_profile_queue_size(nextflow_available) -> None:
    text = _config("slurm", "-flat")
    assert "executor.name = 'slurm'" in text
    assert "executor.queueSize = 50" in text
