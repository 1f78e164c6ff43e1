# kakoi: every command a person or CI runs. Each sets up what it needs (the
# virtualenv in .venv, from the hashed lock files) on a fresh machine with only
# python3 (>= 3.12, found by scripts/find-python) and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help
STACK ?= prod
# found on first use only (scripts/find-python may try several pyenv shims, which is slow): a command whose
# virtualenv exists (make check, make diff, ...) starts at once
PYTHON_BIN = $(eval PYTHON_BIN := $(shell scripts/find-python))$(PYTHON_BIN)
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := $(shell sed -n 's/^uv==\([^ ]*\).*/\1/p' requirements-dev.txt)
export PYTHONDONTWRITEBYTECODE :=
export PULUMI_SKIP_UPDATE_CHECK := true

.PHONY: help venv system-packages render preview test lint typecheck bench lock clean docs architecture audit

help: ## list the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

$(VENV)/.installed: requirements-dev.txt
	@test -n "$(PYTHON_BIN)" || { echo "no Python >= 3.12 found" >&2; exit 1; }
	@echo "== creating $(VENV) with $(PYTHON_BIN)"
	@test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"
	@$(VENV)/bin/uv pip sync -q --python $(PY) --compile-bytecode requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed ## create or update the virtualenv

render: venv ## offline render of STACK into build/STACK.stack.json (pulumi stack export format)
	@$(PY) -m tools.render --stack $(STACK) --out build/$(STACK).stack.json

preview: venv ## offline render of STACK, a tree of what would be created, the policy check and a controls report (exit 1 on a mandatory violation)
	@$(PY) -m tools.preview --stack $(STACK)

system-packages: ## install (as root on Debian) or name the Debian packages the tests need (scripts/system-packages.txt)
	@scripts/ensure-system-packages

test: venv system-packages ## the whole test suite (infra, policies, app)
	@$(PY) -m pytest

lint: venv ## ruff (lint and format check) and bandit on the app (CMD-1, SQL-2)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/bandit -q -r app -x app/tests

typecheck: venv ## pyright
	@$(VENV)/bin/pyright

bench: venv ## benchmarks: render per stack, the offline policy check, and the check against checkov on the same resources (checkov in its own venv under build/)
	@$(PY) -m bench.render
	@$(PY) -m bench.check
	@$(PY) -m bench.checkov

lock: venv ## recompile the hashed lock files from the .in files (needs network to PyPI)
	@$(PY) -m uv pip compile requirements-dev.in --python-version 3.12 --generate-hashes -q -o requirements-dev.txt
	@for f in requirements.in policies/requirements.in app/requirements.in; do \
	  $(PY) -m uv pip compile $$f -c requirements-dev.txt --python-version 3.12 --generate-hashes -q -o $${f%.in}.txt; done

clean: ## remove build output (keeps the virtualenv)
	rm -rf build

-include mk/*.mk

docs: venv ## regenerate the README config reference from Pulumi.yaml and the architecture diagram (make architecture)
	@$(PY) -m tools.config_doc --write
	@$(PY) -m tools.architecture --write

architecture: venv ## regenerate the diagram and tier table in docs/architecture.md (and docs/architecture.svg) from the offline render of prod and tiers/
	@$(PY) -m tools.architecture --write

audit: venv ## known-vulnerability audit of every lock file (pip-audit; needs the PyPI JSON API) (BOF-2)
	@for f in requirements.txt policies/requirements.txt app/requirements.txt requirements-dev.txt; do \
	  echo "== pip-audit $$f"; $(VENV)/bin/pip-audit --strict --disable-pip --require-hashes -r $$f || exit 1; done
