"""genexai.models: checkpoints (safe to load, atomic to write) and file digests."""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from genexai.errors import InputError
from genexai.models import ARCHS, GeneModel, file_sha256, load_model, save_checkpoint
from tests.helpers.models import N_CLASSES


@pytest.mark.parametrize("arch", ARCHS)
def test_checkpoint_round_trip(arch, tmp_path, model_inputs, gene_model, checkpoint_meta):
    model = gene_model(arch).eval()
    if arch.endswith("MLP"):
        model.head[0].running_mean.uniform_(-1, 1)
    path = tmp_path / "model.pt"
    save_checkpoint(path, model, meta=checkpoint_meta)
    loaded = load_model(path)
    assert not loaded.training and isinstance(loaded, GeneModel)
    assert loaded.genexai == {**checkpoint_meta, "arch": arch, "hparams": model.hparams}
    for name, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value), name
    x = model_inputs()
    with torch.no_grad():
        out = loaded(x)
    assert out.shape == (7, N_CLASSES) and out.dtype == torch.float32
    torch.testing.assert_close(out, model(x), rtol=0, atol=0)
    # Only tensors and plain containers: readable by the restricted unpickler.
    assert isinstance(torch.load(path, weights_only=True), dict)


def test_checkpoint_meta_must_match_model(tmp_path, gene_model, checkpoint_meta):
    with pytest.raises(InputError, match=r"meta\['genes'\]: expected 24 names, found 2"):
        save_checkpoint(
            tmp_path / "m.pt", gene_model("LR"), meta={**checkpoint_meta, "genes": ["a", "b"]}
        )
    assert list(tmp_path.iterdir()) == []


class _Payload:
    """Unpickling this creates ``marker``: what a malicious checkpoint does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_malicious_checkpoint_is_refused_without_running_code(writer, tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    payload = {"format": "genexai-checkpoint/1", "meta": _Payload(marker)}
    if writer == "pickle":
        path.write_bytes(pickle.dumps(payload, protocol=2))
    else:
        torch.save(payload, path)
    with pytest.raises(InputError, match="not a safe genexai checkpoint"):
        load_model(path)
    assert not marker.exists()
    # The file is really malicious: an unrestricted load runs its code.
    if writer == "pickle":
        pickle.loads(path.read_bytes())
    else:
        torch.load(path, weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize(
    ("content", "match"),
    [
        pytest.param(b"not a checkpoint", "not a safe genexai checkpoint", id="garbage"),
        pytest.param({"format": "other/1"}, "expected a genexai-checkpoint/1", id="format"),
        pytest.param([1, 2], "found 'list'", id="not-a-dict"),
        pytest.param(
            {"format": "genexai-checkpoint/1", "meta": "{}", "state_dict": {}},
            "inconsistent genexai checkpoint",
            id="no-arch",
        ),
    ],
)
def test_load_model_errors(content, match, tmp_path):
    path = tmp_path / "bad.pt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    with pytest.raises(InputError, match=match):
        load_model(path)


def test_load_model_rejects_inconsistent_state(tmp_path, gene_model, checkpoint_meta):
    path = tmp_path / "m.pt"
    save_checkpoint(path, gene_model("MLP"), meta=checkpoint_meta)
    payload = torch.load(path, weights_only=True)
    del payload["state_dict"]["linear.bias"]
    torch.save(payload, path)
    with pytest.raises(InputError, match="inconsistent genexai checkpoint.*linear.bias"):
        load_model(path)


def test_load_model_unknown_arch_and_missing_file(tmp_path, gene_model, checkpoint_meta):
    with pytest.raises(InputError, match="no such checkpoint"):
        load_model(tmp_path / "absent.pt")
    path = tmp_path / "m.pt"
    save_checkpoint(path, gene_model("LR"), meta=checkpoint_meta)
    payload = torch.load(path, weights_only=True)
    payload["meta"] = payload["meta"].replace('"arch": "LR"', '"arch": "GNN"')
    torch.save(payload, path)
    with pytest.raises(InputError, match=f"{path}: arch: expected one of"):
        load_model(path)


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch, gene_model, checkpoint_meta):
    def fail(*args, **kwargs):
        msg = "disk full"
        raise OSError(msg)

    monkeypatch.setattr(torch, "save", fail)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path / "m.pt", gene_model("LR"), meta=checkpoint_meta)
    assert os.listdir(tmp_path) == []


def test_file_sha256(tmp_path):
    data = np.random.default_rng(0).bytes(3 << 20)
    (tmp_path / "m.pt").write_bytes(data)
    assert file_sha256(tmp_path / "m.pt") == hashlib.sha256(data).hexdigest()
