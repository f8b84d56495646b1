# copilot_magic: one command for the demo, one for the tests. Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_VERSION := 1.0.102
RUNTIME_DIR := .runtime
RUNTIME_STAMP := $(RUNTIME_DIR)/.installed-$(RUNTIME_VERSION)
VENV_STAMP := $(VENV)/.installed
# The pinned runtime from npm, unless COPILOT_CLI_PATH names another one.
PINNED_RUNTIME = $(abspath $(firstword $(wildcard $(RUNTIME_DIR)/node_modules/@github/copilot-*/copilot)))
export COPILOT_SKIP_CLI_DOWNLOAD := 1
# npm trusts only its own CA list; behind a TLS-inspecting proxy it needs the system's.
SYSTEM_CA := /etc/ssl/certs/ca-certificates.crt
ifeq ($(NODE_EXTRA_CA_CERTS),)
ifneq ($(wildcard $(SYSTEM_CA)),)
export NODE_EXTRA_CA_CERTS := $(SYSTEM_CA)
endif
endif

# Debian packages for the browser tests: Chromium (driven by Playwright; never
# `playwright install`) and fonts that draw the panel's emoji.
BROWSER_PACKAGES := chromium fonts-dejavu-core fonts-noto-color-emoji
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: setup browsers demo test lint unit e2e browser bench tables clean

setup: $(VENV_STAMP) $(RUNTIME_STAMP)

$(VENV_STAMP): pyproject.toml .ci/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c .ci/constraints.txt -e ".[test]"
	touch $@

$(RUNTIME_STAMP):
	npm install --prefix $(RUNTIME_DIR) --no-save --no-audit --no-fund --loglevel=error \
		--fetch-timeout=120000 @github/copilot@$(RUNTIME_VERSION)
	touch $@

browsers:
	@dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1 || { \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
			$(BROWSER_PACKAGES) >/dev/null; }

demo: setup
	COPILOT_CLI_PATH="$${COPILOT_CLI_PATH:-$(PINNED_RUNTIME)}" $(BIN)/python notebooks/run_demo.py

lint: $(VENV_STAMP)
	$(BIN)/ruff check copilot_magic tests notebooks
	$(BIN)/ruff format --check copilot_magic tests notebooks
	$(BIN)/mypy

unit: $(VENV_STAMP)
	$(BIN)/python -m pytest tests/unit

e2e: setup
	COPILOT_CLI_PATH="$${COPILOT_CLI_PATH:-$(PINNED_RUNTIME)}" $(BIN)/python -m pytest tests/e2e

browser: setup browsers
	COPILOT_CLI_PATH="$${COPILOT_CLI_PATH:-$(PINNED_RUNTIME)}" $(BIN)/python -m pytest tests/browser

test: setup browsers lint
	COPILOT_CLI_PATH="$${COPILOT_CLI_PATH:-$(PINNED_RUNTIME)}" $(BIN)/python -m pytest

# The benchmark against the raw SDK; QUICK=1 for the short version CI runs.
bench: setup
	COPILOT_CLI_PATH="$${COPILOT_CLI_PATH:-$(PINNED_RUNTIME)}" $(BIN)/python tests/benchmarks/run.py $(if $(QUICK),--quick)

# Copy the tables of the last test run and benchmark (artifacts/) into the README.
tables: $(VENV_STAMP)
	$(BIN)/python tests/readme_tables.py README.md

clean:
	rm -rf $(VENV) $(RUNTIME_DIR) artifacts .pytest_cache .mypy_cache .ruff_cache
