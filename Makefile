# copilot_magic: one command for the demo, one for the tests. Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_VERSION := 1.0.102
RUNTIME_DIR := .runtime
RUNTIME_STAMP := $(RUNTIME_DIR)/.installed-$(RUNTIME_VERSION)
VENV_STAMP := $(VENV)/.installed
# JupyterHub's proxy, from npm, for the JupyterHub test (tests/e2e/test_jupyterhub_e2e.py).
HUB_PROXY_VERSION := 5.3.0
HUB_DIR := .hub
HUB_STAMP := $(HUB_DIR)/.installed-configurable-http-proxy-$(HUB_PROXY_VERSION)
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

.PHONY: setup hub browsers demo test lint unit e2e e2e-own e2e-newest-sdk browser bench secrets-scan screenshots tables clean

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

hub: $(HUB_STAMP)

$(HUB_STAMP):
	npm install --prefix $(HUB_DIR) --no-save --no-audit --no-fund --loglevel=error \
		--fetch-timeout=120000 configurable-http-proxy@$(HUB_PROXY_VERSION)
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
	$(BIN)/mypy --strict tests/unit/fake_catalog.py  # the fake implements the panel's Protocol

unit: $(VENV_STAMP)
	$(BIN)/python -m pytest tests/unit

e2e: setup hub
	COPILOT_CLI_PATH="$${COPILOT_CLI_PATH:-$(PINNED_RUNTIME)}" $(BIN)/python -m pytest tests/e2e

# The newest SDK in range. CI pins github-copilot-sdk (.ci/constraints.txt), but a fresh
# `pip install` gets the newest release inside the range that pyproject.toml declares. This
# second environment has that release, with every other package as pinned (unless the new SDK
# needs a newer one: the report line after the versions names any package off its pin), and
# runs NEWEST_SDK_TESTS against the pinned runtime, which stays pinned: newer SDKs name
# runtimes that npm does not have. The subset's Reliability table goes to artifacts/newest-sdk/
# (RELIABILITY_REPORT) so that the full run's artifacts/reliability.md (what `make tables`
# copies) is kept.
NEWEST_SDK_VENV := .venv-newest-sdk
NEWEST_SDK_BIN := $(NEWEST_SDK_VENV)/bin
NEWEST_SDK_STAMP := $(NEWEST_SDK_VENV)/.installed
NEWEST_SDK_CONSTRAINTS := $(NEWEST_SDK_VENV)/constraints-without-sdk.txt
# The subset: what the product asks of the SDK, end to end, in about 5 minutes on 2 cores.
# - test_sdk_adapter.py (seconds): each SDK behaviour the one adapter relies on.
# - test_runtime_e2e.py (~15 s): the connection to the runtime the product starts.
# - test_magics_e2e.py (~160 s): client start, create and resume sessions, send and stream
#   events into a display, abort on interrupt, a runtime killed mid-reply, takeover.
# - test_concurrency_e2e.py (~40 s): several kernels and runtimes on one data directory, and
#   who owns a session.
# - test_faults_e2e.py without its two `slow` tests (~110 s): the SDK's errors and process
#   handling (runtime killed idle or before the first token, kernel restart mid-reply, reply
#   timeout, missing or non-executable runtime, no sign-in). The two slow ones (~65 s: the
#   retries against an unreachable model, a model answering 500) test the pinned runtime's
#   retries more than the SDK.
# - test_kernel_context_e2e.py (~90 s): custom tools (the model calls them; the handler hands
#   the call to the kernel), display_prompt (the history shows what the person wrote).
# Left out for time: test_cli_e2e.py (~230 s; the command reads sessions on disk, and the SDK
# calls it makes, starting a client and turns, are the ones covered above).
NEWEST_SDK_TESTS := tests/unit/test_sdk_adapter.py tests/e2e/test_magics_e2e.py \
	tests/e2e/test_runtime_e2e.py tests/e2e/test_concurrency_e2e.py \
	tests/e2e/test_faults_e2e.py tests/e2e/test_kernel_context_e2e.py -m "not slow"

$(NEWEST_SDK_STAMP): pyproject.toml .ci/constraints.txt .ci/newest_sdk.py
	rm -rf $(NEWEST_SDK_VENV)
	$(PYTHON) -m venv $(NEWEST_SDK_VENV)
	echo '*' > $(NEWEST_SDK_VENV)/.gitignore
	$(NEWEST_SDK_BIN)/python -m pip install --quiet --upgrade pip
	$(NEWEST_SDK_BIN)/python .ci/newest_sdk.py constraints $(NEWEST_SDK_CONSTRAINTS)
	$(NEWEST_SDK_BIN)/python -m pip install --quiet -c $(NEWEST_SDK_CONSTRAINTS) -e ".[test]"
	touch $@

e2e-newest-sdk: $(NEWEST_SDK_STAMP) $(RUNTIME_STAMP)
	$(NEWEST_SDK_BIN)/python -m pip install --quiet --upgrade \
		"$$($(NEWEST_SDK_BIN)/python .ci/newest_sdk.py requirement)"
	@set -e; export COPILOT_CLI_PATH="$${COPILOT_CLI_PATH:-$(PINNED_RUNTIME)}"; \
	versions="$$($(NEWEST_SDK_BIN)/python .ci/newest_sdk.py report "$$COPILOT_CLI_PATH")"; \
	echo "$$versions"; mkdir -p artifacts/newest-sdk; \
	status=0; RELIABILITY_REPORT=artifacts/newest-sdk/reliability.md \
		$(NEWEST_SDK_BIN)/python -m pytest $(NEWEST_SDK_TESTS) || status=$$?; \
	echo "$$versions" > artifacts/newest-sdk/versions.txt; \
	echo "$$versions"; exit $$status

# The end-to-end suite again with a runtime per kernel (CopilotMagics.runtime = own, as
# before the shared runtime became the default): every test holds in both modes. Its
# Reliability table goes to artifacts/own-runtime/, beside the full run's.
e2e-own: setup
	COPILOT_CLI_PATH="$${COPILOT_CLI_PATH:-$(PINNED_RUNTIME)}" COPILOT_MAGIC_TEST_RUNTIME=own \
		RELIABILITY_REPORT=artifacts/own-runtime/reliability.md $(BIN)/python -m pytest tests/e2e

browser: setup browsers
	COPILOT_CLI_PATH="$${COPILOT_CLI_PATH:-$(PINNED_RUNTIME)}" $(BIN)/python -m pytest tests/browser

test: setup hub browsers lint
	COPILOT_CLI_PATH="$${COPILOT_CLI_PATH:-$(PINNED_RUNTIME)}" $(BIN)/python -m pytest

# The secrets scan, after the test runs: every file of the basetemps the pytest runs since
# artifacts/secrets-scan/ was cleared recorded there, and of artifacts/, holds none of the run's
# fake tokens and keys nor a connection token of the runtimes the tests served
# (tests/secrets_scan.py). .ci/run clears the records first and scans after its test stages.
secrets-scan: $(VENV_STAMP)
	$(BIN)/python tests/secrets_scan.py

# The benchmark against the raw SDK; QUICK=1 for the short version CI runs.
bench: setup
	COPILOT_CLI_PATH="$${COPILOT_CLI_PATH:-$(PINNED_RUNTIME)}" $(BIN)/python tests/benchmarks/run.py $(if $(QUICK),--quick)

# The README's screenshots, taken again from the browser tests of what a person sees (JupyterLab,
# light and dark) and copied into docs/images/.
README_SHOTS := reply-lab-light reply-lab-dark panel-lab-light panel-lab-dark failure-lab-light
screenshots: setup browsers
	COPILOT_CLI_PATH="$${COPILOT_CLI_PATH:-$(PINNED_RUNTIME)}" $(BIN)/python -m pytest \
		tests/browser/test_look_browser.py -k "lab and (reads_well or abstentions or refused)"
	for shot in $(README_SHOTS); do \
		cp artifacts/screenshots/readme-$$shot.png docs/images/$$shot.png; done

# Copy the tables of the last test run and benchmark (artifacts/) into docs/reliability.md
# and docs/performance.md, which the README links to.
tables: $(VENV_STAMP)
	$(BIN)/python tests/readme_tables.py docs

clean:
	rm -rf $(VENV) $(NEWEST_SDK_VENV) $(RUNTIME_DIR) $(HUB_DIR) artifacts .pytest_cache .mypy_cache .ruff_cache
