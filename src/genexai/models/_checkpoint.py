"""Checkpoints (``.pt``): tensors and a JSON string, never code.

They are read with ``torch.load(..., weights_only=True)``: loading one never
runs code. The metadata records what the model was trained after
(:func:`preprocessing_reference`) and files are identified by their sha256
(:func:`file_sha256`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anndata as ad
import numpy as np
import scipy.sparse
import torch

from .. import io, keys
from ..errors import InputError
from ..io._compression import check_input
from ._device import Device, resolve_device
from ._networks import DEFAULT_HIDDEN, GeneModel, build_model

logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "genexai-checkpoint/1"


def save_checkpoint(path: str | os.PathLike, model: GeneModel, *, meta: Mapping) -> None:
    """Write ``model`` and its metadata to a ``.pt`` file, atomically.

    The file is a ``torch.save`` of a dict holding the format tag, the state
    dict (CPU tensors; a diffused model's Â as three plain tensors) and a
    JSON string of ``{"arch", "hparams", **meta}``.

    Parameters
    ----------
    meta
        JSON-serialisable; must hold ``genes`` (``n_genes`` names, in input
        order) and ``classes`` (``n_classes`` names, in logit order), and
        should hold ``seed`` and ``preprocessing``.
    """
    for field, size in (("genes", model.n_genes), ("classes", model.n_classes)):
        found = len(meta.get(field, ()))
        if found != size:
            msg = f"checkpoint meta[{field!r}]: expected {size} names, found {found}"
            raise InputError(msg)
    header = {**meta, "arch": model.arch, "hparams": model.hparams}
    payload = {
        "format": CHECKPOINT_FORMAT,
        "meta": json.dumps(header),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    with io.atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_model(
    path: str | os.PathLike, *, device: Device | str | torch.device = "cpu"
) -> GeneModel:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Only tensors and plain containers are unpickled
    (``torch.load(weights_only=True)``); a file holding anything else, such
    as a crafted pickle, is refused with :class:`InputError` without running
    its code.

    Returns
    -------
    The model in eval mode on ``device``: float32 ``(n, n_genes)`` →
    logits ``(n, n_classes)``. ``model.genexai`` is the metadata dict
    (``arch``, ``hparams``, ``genes``, ``classes``, ``seed``, ``preprocessing``,
    ``training``, ...).
    """
    device = resolve_device(device)
    payload = _load_payload(path)
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        msg = f"{path}: expected a {CHECKPOINT_FORMAT} checkpoint, found {found!r}"
        raise InputError(msg)
    try:
        meta = json.loads(payload["meta"])
        state = payload["state_dict"]
        arch, hparams = meta["arch"], meta["hparams"]
        graph = None
        if arch.startswith("Diffuse"):
            n = hparams["n_genes"]
            graph = scipy.sparse.csr_matrix(
                (
                    state["diffusion.values"].numpy(),
                    state["diffusion.col"].numpy(),
                    state["diffusion.crow"].numpy(),
                ),
                shape=(n, n),
            )
        model = build_model(
            arch,
            n_genes=hparams["n_genes"],
            n_classes=hparams["n_classes"],
            graph=graph,
            hidden=hparams["hidden"] or DEFAULT_HIDDEN,
            dropout=hparams["dropout"],
            seed=meta.get("seed", 0),
        )
        model.load_state_dict(state, strict=True)
    except InputError as exc:
        msg = f"{path}: {exc}"
        raise InputError(msg) from None
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        detail = " ".join(str(exc).split())
        msg = f"{path}: inconsistent genexai checkpoint ({exc.__class__.__name__}: {detail})"
        raise InputError(msg) from None
    model.genexai = meta
    return model.to(device).eval()


def _load_payload(path: str | os.PathLike) -> Any:
    """``torch.load(path, weights_only=True)``, every failure one line in our words.

    torch's own messages carry pages of advice (and, for unsafe files, how
    to load them anyway), so none of its text is passed on.
    """
    if not os.path.lexists(path):
        msg = f"{path}: no such checkpoint file"
        raise InputError(msg)
    check_input(Path(path), what="checkpoint")
    with open(path, "rb") as f:
        head = f.read(4)
    is_zip = head.startswith(b"PK\x03\x04")
    if not head:
        why = "an empty file"
    elif not is_zip and not head.startswith(b"\x80"):
        why = "not a torch file: neither a zip archive nor a pickle"
    else:
        try:
            with warnings.catch_warnings():
                # Its advice about pickle protocols: the file is refused or read, in our words.
                warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.")
                return torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:
            why = (
                "it holds objects other than tensors and plain containers, "
                "refused without loading them"
            )
        except Exception:  # torch raises many types for damaged files
            why = f"a truncated or corrupt {'zip archive' if is_zip else 'pickle'}"
    msg = f"{path}: not a safe genexai checkpoint ({why})"
    raise InputError(msg)


def _jsonable(value: Any) -> Any:
    """``value`` as JSON types; arrays become their shape, dtype and sha256."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray | scipy.sparse.spmatrix | scipy.sparse.sparray):
        array = value.toarray() if scipy.sparse.issparse(value) else value
        data = np.ascontiguousarray(array)
        raw = repr(data.tolist()).encode() if data.dtype.kind == "O" else data.tobytes()
        digest = hashlib.sha256(raw)
        return {"shape": list(data.shape), "dtype": str(data.dtype), "sha256": digest.hexdigest()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def preprocessing_reference(adata: ad.AnnData) -> dict[str, Any]:
    """What identifies the preprocessing a model was trained after.

    Returns
    -------
    ``prepare``: ``uns['genexai']['prepare']`` as JSON (arrays replaced by
    their shape, dtype and sha256), or ``None`` if absent; ``sha256``: a
    digest of those parameters and of ``var['genexai_mean']`` and
    ``var['genexai_std']`` (the fitted statistics), or ``None`` if the data
    carry no preprocessing record.
    """
    params = adata.uns.get(keys.UNS, {}).get(keys.PREPARE)
    stats = [key for key in (keys.MEAN, keys.STD) if key in adata.var]
    if params is None and not stats:
        logger.warning(
            "the input has no uns[%r][%r]: no preprocessing reference", keys.UNS, keys.PREPARE
        )
        return {"prepare": None, "sha256": None}
    params = _jsonable(params)
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode())
    for key in stats:
        digest.update(key.encode())
        digest.update(np.ascontiguousarray(adata.var[key].to_numpy(np.float64)).tobytes())
    return {"prepare": params, "sha256": digest.hexdigest()}


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
