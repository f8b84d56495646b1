# copilot_magic: one command for the demo, one for the tests. Each sets up what it needs.
PYTHON ?= python3
# Independent set-up steps (the environment, the runtime, the proxy, the browser, the
# frontend's packages) run at once. (`make clean` on its own, then: not with other targets.)
MAKEFLAGS += --jobs=4
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_VERSION := 1.0.102
RUNTIME_DIR := .runtime
RUNTIME_STAMP := $(RUNTIME_DIR)/.installed-$(RUNTIME_VERSION)
VENV_STAMP := $(VENV)/.installed
# The environments are filled by uv (from PyPI, or UV_INDEX_URL): the same pinned packages as
# pip installs, in less time; pip itself installs only uv. Like pip, uv compiles the bytecode
# at install time (--compile-bytecode): where PYTHONDONTWRITEBYTECODE is set, as on CI's
# machines, every kernel would otherwise compile the SDK again (the tests took 25% longer).
UV_VERSION := 0.13.9
# The tests run in this many pytest-xdist worker processes; most of a test's time is spent
# waiting for kernels and runtimes, so workers overlap well even on 2 cores. A worker that
# runs out of tests takes some from the other (worksteal: test times range from milliseconds
# to half a minute). Each worker that runs browser tests starts its own JupyterLab and Chromium.
TEST_WORKERS ?= 2
PYTEST = -m pytest -n $(TEST_WORKERS) --dist worksteal
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

.PHONY: setup bytecode hub browsers demo test lint unit e2e e2e-newest-sdk browser bench secrets-scan screenshots tables clean

setup: $(VENV_STAMP) $(RUNTIME_STAMP) bytecode

# copilot_magic's own bytecode, compiled ahead (where it is out of date): with
# PYTHONDONTWRITEBYTECODE set, as on CI's machines, Python writes none, and each kernel, runtime
# server and command would compile the package again (about 0.1 s of CPU each).
bytecode: $(VENV_STAMP)
	@PYTHONDONTWRITEBYTECODE= $(BIN)/python -m compileall -q copilot_magic

# The frontend extension (frontend/: TypeScript, built with npm and @jupyter/builder) is built by
# the package's build hook (hatch-jupyter-builder) into copilot_magic/labextension/, and
# installed with the package into the environment's share/jupyter/labextensions/, as a wheel
# installs it: JupyterLab and Notebook 7 load that build, never a development link.
# Its npm packages are installed first, as package-lock.json pins them (npm ci), beside the other
# set-up steps: make runs those at once (MAKEFLAGS, at the top), so the downloads overlap.
FRONTEND_SOURCES := $(wildcard frontend/src/*.ts frontend/style/*) frontend/package.json \
	frontend/package-lock.json frontend/tsconfig.json
FRONTEND_MODULES := frontend/node_modules/.package-lock.json

$(FRONTEND_MODULES): frontend/package.json frontend/package-lock.json
	npm ci --prefix frontend --no-audit --no-fund --loglevel=error --fetch-timeout=120000

$(VENV_STAMP): pyproject.toml .ci/constraints.txt $(FRONTEND_SOURCES) $(FRONTEND_MODULES)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	rm -rf copilot_magic/labextension  # built again from frontend/ by the build hook
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -c .ci/constraints.txt \
		--reinstall-package copilot-magic -e ".[test]"
	touch $@

# The runtime unpacks its package (about 235 MB) on first start; once here, into the folder
# the tests share (tests/runtime_support.py PACKAGE_CACHE), not by parallel tests at once.
$(RUNTIME_STAMP):
	npm install --prefix $(RUNTIME_DIR) --no-save --no-audit --no-fund --loglevel=error \
		--fetch-timeout=120000 @github/copilot@$(RUNTIME_VERSION)
	COPILOT_PKG_CACHE_HOME=$(abspath $(RUNTIME_DIR))/package-cache \
		"$$(ls -d $(RUNTIME_DIR)/node_modules/@github/copilot-*/copilot | head -1)" --version
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
	COPILOT_CLI_PATH="$${COPILOT_CLI_PATH:-$(PINNED_RUNTIME)}" $(BIN)/python $(PYTEST) tests/e2e

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
# The subset: what the product asks of the SDK, each once: the adapter's contract tests
# (tests/unit/test_sdk_adapter.py: each SDK behaviour the one adapter relies on) and the
# end-to-end smoke set marked `sdk_smoke`: a client starts, sessions are created, resumed and
# taken over, a reply streams and is aborted on interrupt, a runtime killed mid-reply, the
# model calls kernel tools (one asking the person), the session controls' RPCs (fork, rewind,
# rename, compact, usage, models), and the SDK's errors for a missing runtime and no sign-in.
NEWEST_SDK_TESTS := tests/unit/test_sdk_adapter.py tests/e2e -m sdk_smoke
# It takes the frontend extension that `make setup` built (HATCH_JUPYTER_BUILDER_SKIP_NPM): its
# build's `npm install` would touch frontend/package-lock.json, and the next make would set up
# .venv again.

$(NEWEST_SDK_STAMP): pyproject.toml .ci/constraints.txt .ci/newest_sdk.py $(VENV_STAMP)
	rm -rf $(NEWEST_SDK_VENV)
	$(PYTHON) -m venv $(NEWEST_SDK_VENV)
	echo '*' > $(NEWEST_SDK_VENV)/.gitignore
	$(NEWEST_SDK_BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(NEWEST_SDK_BIN)/python .ci/newest_sdk.py constraints $(NEWEST_SDK_CONSTRAINTS)
	HATCH_JUPYTER_BUILDER_SKIP_NPM=1 $(NEWEST_SDK_BIN)/uv pip install --quiet --compile-bytecode \
		--python $(NEWEST_SDK_BIN)/python -c $(NEWEST_SDK_CONSTRAINTS) -e ".[test]"
	touch $@

e2e-newest-sdk: $(NEWEST_SDK_STAMP) $(RUNTIME_STAMP) bytecode
	HATCH_JUPYTER_BUILDER_SKIP_NPM=1 $(NEWEST_SDK_BIN)/uv pip install --quiet --compile-bytecode --python $(NEWEST_SDK_BIN)/python \
		--upgrade-package github-copilot-sdk \
		"$$($(NEWEST_SDK_BIN)/python .ci/newest_sdk.py requirement)"
	@set -e; export COPILOT_CLI_PATH="$${COPILOT_CLI_PATH:-$(PINNED_RUNTIME)}"; \
	versions="$$($(NEWEST_SDK_BIN)/python .ci/newest_sdk.py report "$$COPILOT_CLI_PATH")"; \
	echo "$$versions"; mkdir -p artifacts/newest-sdk; \
	status=0; RELIABILITY_REPORT=artifacts/newest-sdk/reliability.md \
		$(NEWEST_SDK_BIN)/python $(PYTEST) $(NEWEST_SDK_TESTS) || status=$$?; \
	echo "$$versions" > artifacts/newest-sdk/versions.txt; \
	echo "$$versions"; exit $$status

browser: setup browsers
	COPILOT_CLI_PATH="$${COPILOT_CLI_PATH:-$(PINNED_RUNTIME)}" $(BIN)/python -m pytest tests/browser

test: setup hub browsers lint
	COPILOT_CLI_PATH="$${COPILOT_CLI_PATH:-$(PINNED_RUNTIME)}" $(BIN)/python $(PYTEST)

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
README_SHOTS := reply-lab-light reply-lab-dark panel-lab-light panel-lab-dark failure-lab-light \
	prompt-lab-light prompt-lab-dark ask-copilot-lab-light asked-copilot-lab-light \
	review-lab-light review-lab-dark review-hidden-lab-light review-delete-lab-light \
	review-run-lab-light rewind-lab-light rewound-lab-light review-edit-lab-light applied-lab-light
screenshots: setup browsers
	COPILOT_CLI_PATH="$${COPILOT_CLI_PATH:-$(PINNED_RUNTIME)}" $(BIN)/python -m pytest \
		tests/browser/test_look_browser.py tests/browser/test_notebook_extension_browser.py \
		-k "lab and (reads_well or abstentions or refused or prompts_read or edit_is_reviewed)"
	for shot in $(README_SHOTS); do \
		cp artifacts/screenshots/readme-$$shot.png docs/images/$$shot.png; done

# Copy the tables of the last test run and benchmark (artifacts/) into docs/reliability.md
# and docs/performance.md, which the README links to.
tables: $(VENV_STAMP)
	$(BIN)/python tests/readme_tables.py docs

clean:
	rm -rf $(VENV) $(NEWEST_SDK_VENV) $(RUNTIME_DIR) $(HUB_DIR) artifacts .pytest_cache .mypy_cache .ruff_cache \
		copilot_magic/labextension frontend/node_modules frontend/lib
