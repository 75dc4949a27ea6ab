"""What a loaded model says about itself: its genes, classes and metadata."""

from __future__ import annotations

from typing import NamedTuple

import anndata as ad
from torch import nn

from .. import io, keys
from ..errors import InputError


class ModelMeta(NamedTuple):
    """The metadata :func:`~genexai.models.load_model` attaches as ``model.genexai``."""

    genes: list[str]  #: input genes, in the model's input order
    classes: list[str]  #: class names, in logit order
    meta: dict  #: the whole metadata dict (``arch``, ``seed``, ``hparams``, ...)


def model_meta(model: nn.Module) -> ModelMeta:
    """The genes, classes and metadata of a model from a genexai checkpoint.

    Raises :class:`InputError` when ``model.genexai`` is missing or lacks
    ``genes`` or ``classes``.
    """
    meta = getattr(model, "genexai", None)
    if not isinstance(meta, dict) or "genes" not in meta or "classes" not in meta:
        msg = (
            "model: expected genexai metadata with 'genes' and 'classes' (a load_model checkpoint)"
        )
        raise InputError(msg)
    return ModelMeta([str(g) for g in meta["genes"]], [str(c) for c in meta["classes"]], meta)


def align_to_model(adata: ad.AnnData, model: nn.Module, *, where: str) -> ad.AnnData:
    """``adata`` with its genes in the model's order; its classes checked.

    Parameters
    ----------
    adata
        AnnData ``(n_obs, n_genes)``; genes are matched by name.
    model
        A model from :func:`load_model` (uses ``model.genexai['genes']`` and
        ``['classes']``).
    where
        Names the data in error messages (usually its file).

    Raises :class:`InputError` when the genes differ from the model's, or
    when ``obs['label']`` exists and its categories differ from the model's
    classes.
    """
    genes, classes, _ = model_meta(model)
    aligned = io.align_genes(adata, genes, where=where)
    if keys.LABEL in adata.obs:
        found = io.class_names(adata, where=where)
        if found != classes:
            msg = (
                f"{where}: obs[{keys.LABEL!r}] classes {found} do not match the "
                f"model's classes {classes}"
            )
            raise InputError(msg)
    return aligned
