"""Shared pytest set-up: every test runs with its own HOME and none of the person's settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir
from runtime_support import PACKAGE_CACHE

from copilot_magic.config import environment_variables

# Test runs write under pytest's temporary folders or artifacts/, never loose in the checkout.
set_hypothesis_home_dir(str(Path(__file__).resolve().parents[1] / "artifacts" / "hypothesis"))

pytest_plugins = ["reliability", "secrets_scan"]
# Runtimes the tests start in this process unpack their package once, not once per test home.
os.environ.update(PACKAGE_CACHE)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The costliest tests first: those marked slow, then the browser's, the end-to-end ones,
    the unit tests last. pytest-xdist's workers then end together: a worker that runs out
    takes the other's last tests, the shortest, instead of waiting out a long one."""

    def cost(item: pytest.Item) -> int:
        if item.get_closest_marker("slow") is not None:
            return 0
        return {"browser": 1, "e2e": 2}.get(Path(item.path).parent.name, 3)

    items.sort(key=cost)


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A fresh HOME (the runtime writes ~/.copilot and ~/.cache when not told otherwise)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("IPYTHONDIR", str(home / ".ipython"))
    # Every variable a setting reads, from the one declaration: a person's own
    # settings (COPILOT_MAGIC_NOTEBOOK, a provider...) never change what a test sees.
    # The session-scoped fixtures that find the runtime read COPILOT_CLI_PATH first.
    for name in environment_variables():
        monkeypatch.delenv(name, raising=False)
    return home
