# genexai: `make run` and `make test` are all a newcomer needs (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
NEXTFLOW := scripts/nextflow
PROFILE ?= local
OUTDIR ?= results
PYTEST_ARGS ?=

.PHONY: setup run paper test test-fast bench lint clean help

help:
	@echo "make setup   create .venv (pinned) and the Nextflow engine (.nf/)"
	@echo "make run     setup, then run the pipeline on a small simulation into $(OUTDIR)/"
	@echo "make test    setup, then the whole test suite (incl. real Nextflow runs)"
	@echo "make paper   setup, then the paper's simulated study (-profile paper, ~1 h) into results-paper/"
	@echo "make bench   setup, then the benchmarks in bench/ (minutes)"

setup: $(VENV)/.installed .nf/engine

# Re-installs only when the lock file or the package metadata change.
$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

.nf/engine: scripts/install-nextflow.sh scripts/nextflow-pom.xml
	scripts/install-nextflow.sh

run: setup
	$(NEXTFLOW) run . -profile $(PROFILE) --outdir $(OUTDIR)

# The paper's simulated study (issue 11; docs/results.md): 200 model runs.
paper: setup
	$(NEXTFLOW) run . -profile paper,$(PROFILE) --outdir results-paper

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -m "not pipeline and not slow and not slurm" $(PYTEST_ARGS)

bench: setup
	for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lint: setup
	$(PY) -m ruff check src bin tests bench

clean:
	rm -rf work .nextflow .nextflow.log* $(OUTDIR) results-paper
