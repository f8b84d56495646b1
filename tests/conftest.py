"""Shared pytest set-up: every test runs with its own HOME, so nothing touches the user's."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["reliability", "secrets_scan"]


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A fresh HOME (the runtime writes ~/.copilot and ~/.cache when not told otherwise)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("IPYTHONDIR", str(home / ".ipython"))
    for name in (
        "COPILOT_HOME",
        "COPILOT_MAGIC_MODEL",
        "COPILOT_MAGIC_PROVIDER_URL",
        "COPILOT_MAGIC_PROVIDER_TYPE",
        "COPILOT_MAGIC_PROVIDER_API_KEY",
        "COPILOT_MAGIC_ABSTAIN_SIGNAL",
    ):
        monkeypatch.delenv(name, raising=False)
    return home
