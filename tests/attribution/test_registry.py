"""genexai.attribution._registry: one class per method name, each with its own options."""

from __future__ import annotations

import inspect
from typing import get_args

import pytest

from genexai.attribution import METHODS, Method

# --- each method takes its own options -----------------------------------------

OWN_OPTIONS = {
    "integrated_gradients": {"n_steps", "max_steps", "tolerance", "internal_batch_size"},
    "saliency": set(),
    "input_x_gradient": set(),
    "deeplift": set(),
    "gradient_shap": {"n_samples", "seed"},
    "random": {"seed"},
    "coefficients": set(),
}
ALL_OPTIONS = {
    "n_steps": 5,
    "max_steps": 10,
    "tolerance": 1.0,
    "internal_batch_size": 8,
    "n_samples": 3,
    "seed": 1,
}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_each_method_takes_only_its_own_options(method, attribution_model):
    cls = METHODS[method]
    params = set(inspect.signature(cls).parameters) - {"model", "output"}
    assert params == OWN_OPTIONS[method]
    model = attribution_model("lr")
    cls(model, output="logit", **{k: ALL_OPTIONS[k] for k in OWN_OPTIONS[method]})
    for option in set(ALL_OPTIONS) - OWN_OPTIONS[method]:
        with pytest.raises(TypeError, match=option):
            cls(model, **{option: ALL_OPTIONS[option]})


def test_registry_matches_the_method_literal():
    assert set(METHODS) == set(get_args(Method))
    assert all(cls.name == name for name, cls in METHODS.items())
