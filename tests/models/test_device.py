"""genexai.models: device choice, with no silent fallback to the CPU."""

from __future__ import annotations

import pytest
import torch

from genexai.errors import InputError
from genexai.models import resolve_device


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    with pytest.raises(InputError, match="^device: "):
        resolve_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_gpu_is_an_error_not_a_fallback():
    with pytest.raises(InputError, match="device 'cuda': CUDA is not available"):
        resolve_device("cuda")
