"""``import genexai as gx``: every step function, loaded on first use."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import genexai as gx


@pytest.mark.parametrize("step", sorted(gx.STEPS))
def test_each_step_is_its_module_and_calls_its_function(step: str) -> None:
    module = importlib.import_module(f"genexai.{step}")
    function = getattr(module, gx.STEPS[step])
    assert getattr(gx, step) is module
    assert callable(gx.__dict__[step])
    assert inspect.signature(getattr(gx, step)) == inspect.signature(function)
    assert step in dir(gx)


def test_import_is_light_and_steps_load_on_use() -> None:
    code = (
        "import sys, genexai as gx\n"
        "assert 'torch' not in sys.modules and 'anndata' not in sys.modules\n"
        "gx.prepare\n"
        "assert 'anndata' in sys.modules\n"
        "import genexai.simulate as m\n"
        "assert m is gx.simulate and m.CONFIGS\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        gx.nope  # noqa: B018


def test_a_small_run_through_the_api() -> None:
    sim = gx.simulate("test", n_samples=60, seed=0)
    prepared = gx.prepare(sim, seed=1)
    model = gx.train(prepared, arch="LR", seed=1, device="cpu").model
    attributions = gx.attribute(prepared, model, n_steps=50)
    result = gx.evaluate(prepared, model, attributions, dataset="test", gap=20, n_random=1)
    assert set(result.metrics["metric"]) >= {"pgi", "pgu", "fa"}
