"""The devices models run on, and seeded use of torch's global generators."""

from __future__ import annotations

import contextlib
import typing
from collections.abc import Iterator

import numpy as np
import torch

from .._defaults import Device
from ..errors import InputError


def resolve_device(device: Device | str | torch.device) -> torch.device:
    """The torch device for ``auto``, ``cpu``, ``cuda`` or ``cuda:<i>``.

    ``auto`` picks CUDA when it is available. Asking for CUDA where there is
    none raises :class:`InputError`: there is no silent fallback to the CPU.
    """
    if isinstance(device, torch.device):
        device = str(device)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        msg = (
            f"device {device!r}: CUDA is not available (torch {torch.__version__}, "
            f"built for CUDA {torch.version.cuda}, {torch.cuda.device_count()} devices visible)"
        )
        raise InputError(msg)
    if device != "cpu" and not device.startswith("cuda"):
        msg = f"device: expected one of {list(typing.get_args(Device))}, found {device!r}"
        raise InputError(msg)
    return torch.device(device)


def describe_device(device: torch.device) -> str:
    """A human-readable name: ``cpu`` or the GPU model and CUDA version."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        return f"{device} ({name}, CUDA {torch.version.cuda})"
    return "cpu"


@contextlib.contextmanager
def seeded_global_rngs(seed: int, device: torch.device) -> Iterator[None]:
    """Seed numpy's and torch's global generators for a block, restoring them on exit.

    For code that can only draw from the global generators (``nn.Dropout``
    in training, captum's GradientShap): its draws are reproducible, and no
    state leaks to or from the caller. On CUDA, ``device``'s generator is
    seeded and restored too.
    """
    state = np.random.get_state()
    devices = []
    if device.type == "cuda":
        devices = [device.index if device.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=devices):
        torch.random.default_generator.manual_seed(seed)
        if device.type == "cuda":
            with torch.cuda.device(device):
                torch.cuda.manual_seed(seed)
        np.random.seed(seed % 2**32)  # numpy's legacy seed is 32-bit
        try:
            yield
        finally:
            np.random.set_state(state)
