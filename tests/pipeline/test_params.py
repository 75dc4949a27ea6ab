"""Parameter validation happens in the pipeline, before any task starts."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest

from .conftest import REPO, run_nextflow

pytestmark = pytest.mark.pipeline


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--bogus_param", "1"], "--bogus_param: unknown parameter", id="unknown"),
        pytest.param(["--models", "LR,XGB"], "--models: 'LR,XGB' does not match", id="bad-model"),
        pytest.param(["--epochs", "many"], "--epochs: expected integer", id="wrong-type"),
        pytest.param(["--transform", "sqrt"], "--transform: 'sqrt' is not one of", id="enum"),
        pytest.param(["--test_size", "1.5"], "--test_size: 1.5 must be below 1", id="range"),
        pytest.param(
            ["--input", "/no/such/file.h5ad"],
            "--input: '/no/such/file.h5ad' does not exist",
            id="missing-input",
        ),
        pytest.param(
            ["--baseline", "class_mean"],
            "--baseline class_mean needs --baseline_class",
            id="contradiction",
        ),
        pytest.param(
            ["--simulate", "SIMU9"], "--simulate: 'SIMU9' does not match", id="bad-config"
        ),
        pytest.param(
            ["--baseline", "paper", "--input", str(REPO / "tests/data/formats/h5ad/cells.h5ad")],
            "--baseline paper is the paper's choice per simulation",
            id="paper-baseline-on-real-data",
        ),
        pytest.param(
            ["--baseline", "paper", "--studied_classes", "C0"],
            "--baseline paper sets the baseline class and the studied classes itself",
            id="paper-baseline-with-classes",
        ),
        pytest.param(
            ["--seeds_per_task", "0"], "--seeds_per_task: 0 is below the minimum 1", id="batch-size"
        ),
    ],
)
def test_bad_parameters_are_rejected(tmp_path: Path, nextflow_available, args, message) -> None:
    run = run_nextflow(tmp_path, "-profile", "test,local", *args)
    assert run.returncode != 0
    assert message in run.output, run.output[-2000:]
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())


def test_help_lists_parameters_with_defaults(tmp_path: Path, nextflow_available) -> None:
    run = run_nextflow(tmp_path, "--help")
    assert run.returncode == 0, run.output[-2000:]
    assert "--models" in run.output
    assert "[default: LR,MLP]" in run.output
    assert "--n_steps" in run.output


# --- The pipeline's validator and nextflow_schema.json agree (issue 20) ------------

# One row: a parameter, its text on the command line (DIR: a folder of test
# files), and whether it is valid.
# EXISTS rows name a missing file: the schema cannot say "exists" (only the
# pipeline checks it), so there the schema accepts and the pipeline refuses.
EXISTS = "exists"
AGREEMENT = [
    ("ig_target", "true", True),  # the documented default, a Boolean on the command line
    ("ig_target", "predicted", True),
    ("ig_target", "false", False),
    ("ig_target", "TRUE", True),  # Nextflow reads any case of true as the Boolean
    ("seeds", "5", True),  # an Integer
    ("seeds", "1-3,7", True),
    ("seeds", "1.5", False),  # a Double
    ("seeds", "true", False),
    ("top_k", "10", True),
    ("top_k", "10,100", True),
    ("top_k", "0.5", False),
    ("top_k", "false", False),
    ("dataset_name", "2024", True),
    ("dataset_name", "my-data_1", True),
    ("dataset_name", "a b", False),
    ("dataset_name", "true", False),
    ("studied_classes", "1", True),  # numbered clusters
    ("studied_classes", "C0,C1", True),
    ("studied_classes", "0.5", False),
    ("studied_classes", "false", False),
    ("epochs", "5", True),
    ("epochs", "5.5", False),
    ("epochs", "0", False),
    ("epochs", "true", False),
    ("test_size", "0.5", True),
    ("test_size", "1", False),  # an Integer, a number, at the exclusive maximum
    ("test_size", "0", False),
    ("test_size", "half", False),
    ("learning_rate", "1", True),  # an Integer is a number
    ("learning_rate", "0.01", True),
    ("learning_rate", "true", False),
    ("use_gpu", "true", True),
    ("use_gpu", "false", True),
    ("use_gpu", "yes", False),
    ("use_gpu", "1", False),
    ("transform", "log2_zscore", True),
    ("transform", "sqrt", False),
    ("transform", "1", False),
    ("models", "LR", True),
    ("models", "LR,XGB", False),
    ("models", "true", False),
    ("sim_merge", "3", True),
    ("sim_merge", "last_vs_rest", True),
    ("sim_merge", "1.5", False),
    ("sim_class_proportions", "0.5,0.5", True),
    ("sim_class_proportions", "1", False),  # one class is no classification; an Integer
    ("slurm_account", "12345", True),
    ("slurm_account", "lab-a", True),
    ("slurm_account", "true", False),
    ("label_key", "5", True),
    ("layer", "counts", True),
    ("layer", "false", False),
    # File names with glob characters are names, not patterns.
    ("input", "DIR/a[1].h5ad", True),
    ("input", "DIR/b{2}*?.h5ad", True),
    ("input", "DIR/missing[1].h5ad", EXISTS),
    ("input", "7", False),  # an Integer: a file named 7 is given as ./7
    ("labels", "DIR/l{1}*.csv", True),
    ("labels", "DIR/no*such?.csv", EXISTS),
]


def nextflow_value(text: str) -> object:
    """A command-line value as Nextflow 24.10 parses it (CmdRun.parseParamValue).

    ``true``/``false`` in any case are Booleans; digits, with an optional
    fraction, are an Integer, a Long or a Double; anything else stays text
    (``-5`` too).
    """
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text) if "." in text else int(text)
    return text


def _rounds() -> list[dict[str, tuple[str, object]]]:
    """The table as few launches as possible: round k holds each parameter's k-th row."""
    rounds: list[dict[str, tuple[str, object]]] = []
    seen: dict[str, int] = {}
    for name, text, valid in AGREEMENT:
        k = seen.get(name, 0)
        seen[name] = k + 1
        if k == len(rounds):
            rounds.append({})
        rounds[k][name] = (text, valid)
    return rounds


def _schema_refusals(values: dict[str, object]) -> set[str]:
    schema = json.loads((REPO / "nextflow_schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    return {error.path[0] for error in validator.iter_errors(values) if error.path}


def test_schema_is_valid_json_schema_and_its_defaults_are_valid() -> None:
    schema = json.loads((REPO / "nextflow_schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    defaults = {
        name: spec["default"]
        for group in schema["$defs"].values()
        for name, spec in group["properties"].items()
        if "default" in spec
    }
    assert _schema_refusals(defaults) == set()


def test_validator_and_schema_agree(tmp_path: Path, nextflow_available) -> None:
    data = tmp_path / "data"
    data.mkdir()
    cells = REPO / "tests/data/formats/h5ad/cells.h5ad"
    for name in ("a[1].h5ad", "b{2}*?.h5ad"):
        shutil.copyfile(cells, data / name)
    (data / "l{1}*.csv").write_text("sample,label\n")
    disagreements = []
    for k, round_ in enumerate(_rounds()):
        texts = {name: text.replace("DIR", str(data)) for name, (text, _) in round_.items()}
        # The unknown parameter makes validation fail even when every value is
        # valid, so no task starts and every problem is listed at once.
        args = [word for name, text in texts.items() for word in (f"--{name}", text)]
        run = run_nextflow(tmp_path / f"round{k}", "-profile", "test,local", *args,
                           "--zz_agreement_sentinel", "x")
        assert "--zz_agreement_sentinel: unknown parameter" in run.output, run.output[-3000:]
        assert "Exception" not in run.output, run.output[-3000:]
        lines = re.findall(r"^\s+--(\w+): (.*)$", run.output, flags=re.M)
        pipeline = {name for name, _ in lines}
        schema = _schema_refusals({name: nextflow_value(t) for name, t in texts.items()})
        for name, (text, valid) in round_.items():
            says_pipeline = name not in pipeline
            says_schema = name not in schema
            expected = (False, True) if valid == EXISTS else (valid, valid)
            if (says_pipeline, says_schema) != expected:
                why = [msg for n, msg in lines if n == name]
                disagreements.append(
                    f"--{name} {text}: pipeline {'accepts' if says_pipeline else 'refuses'} "
                    f"{why}, schema {'accepts' if says_schema else 'refuses'}, expected {valid}"
                )
    assert not disagreements, "\n".join(disagreements)


def test_refusals_name_the_parameter_and_the_type(tmp_path: Path, nextflow_available) -> None:
    run = run_nextflow(tmp_path, "-profile", "test,local", "--seeds", "true", "--input", "7",
                       "--ig_target", "false")
    assert run.returncode != 0
    assert "--seeds: expected string or integer, got 'true' (boolean)" in run.output, run.output
    assert "--input: expected string, got '7' (integer) (a file named like a number: give ./7)" \
        in run.output, run.output
    assert "--ig_target: 'false' is not one of true, predicted, logit" in run.output, run.output
