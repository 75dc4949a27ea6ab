"""The four classifiers of the paper, their checkpoints, metadata and devices.

Architectures (Bontonou et al. 2023, method.md §3), for ``G`` genes, ``C``
classes and ``H`` hidden units:

* ``LR``: Dropout(0.2) → Linear(G, C).
* ``MLP``: Dropout(0) → Linear(G, H) → BatchNorm1d(H) → ReLU → Linear(H, C).
* ``DiffuseLR``: x → xÂ → Dropout(0.2) → Linear(G, C).
* ``DiffuseMLP``: x → xÂ → the MLP above.

Â is the symmetric, GCN-normalised gene graph of :mod:`genexai.graph`. The
diffusion is a frozen sparse product: it has no parameters and no
randomness, so training may apply it once to the whole training set
(:meth:`GeneModel.features`) and fit the rest (:meth:`GeneModel.body`).
Weights use PyTorch's default initialisation, drawn from ``seed``.

Every model exposes the first-linear-layer contract of
``docs/architecture.md``: in eval mode,
``model(x) == model.head(x @ model.input_weight().T + model.input_bias())``.

Checkpoints (``.pt``) hold only tensors and a JSON string, and are read with
``torch.load(..., weights_only=True)``: loading one never runs code.

Layout: :mod:`._networks` (the architectures), :mod:`._checkpoint` (save,
load, provenance), :mod:`._meta` (genes and classes of a loaded model),
:mod:`._linear` (the first-linear-layer contract), :mod:`._device` (devices
and seeded global generators), :mod:`._uniform` (torch's CPU uniform stream,
drawn faster for dropout).
"""

from __future__ import annotations

from ._checkpoint import (
    CHECKPOINT_FORMAT,
    file_sha256,
    load_model,
    preprocessing_reference,
    save_checkpoint,
)
from ._device import (
    Device,
    describe_device,
    resolve_device,
    seeded_global_rngs,
)
from ._linear import (
    FirstLayer,
    first_layer,
    has_linear_input,
)
from ._meta import (
    ModelMeta,
    align_to_model,
    model_meta,
)
from ._networks import (
    ARCHS,
    DEFAULT_DROPOUT,
    DEFAULT_HIDDEN,
    Arch,
    Diffusion,
    Dropout,
    GeneModel,
    build_model,
    cpu_dropout_draws,
    derived_seed,
)

__all__ = [
    "ARCHS",
    "Arch",
    "CHECKPOINT_FORMAT",
    "DEFAULT_DROPOUT",
    "DEFAULT_HIDDEN",
    "Device",
    "Diffusion",
    "Dropout",
    "FirstLayer",
    "GeneModel",
    "ModelMeta",
    "align_to_model",
    "build_model",
    "cpu_dropout_draws",
    "derived_seed",
    "describe_device",
    "file_sha256",
    "first_layer",
    "has_linear_input",
    "load_model",
    "model_meta",
    "preprocessing_reference",
    "resolve_device",
    "save_checkpoint",
    "seeded_global_rngs",
]
