"""Unit-test fixtures: a fresh IPython shell for each test that asks for one, and a session
store on the fake SDK client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_sdk import FakeBridge
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from copilot_magic.config import Settings
from copilot_magic.sessions.store import SessionStore


@pytest.fixture
def ip() -> Iterator[InteractiveShell]:
    """A fresh IPython shell without history, registered as the singleton, then cleared."""
    InteractiveShell.clear_instance()
    config = Config()
    config.HistoryAccessor.enabled = False
    shell = InteractiveShell.instance(config=config)
    yield shell
    if getattr(shell, "_copilot_magics", None) is not None:
        shell.run_line_magic("unload_ext", "copilot_magic")
    InteractiveShell.clear_instance()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SessionStore]:
    """A session store in ``tmp_path`` whose runtime is the fake SDK client (fake_sdk)."""
    settings = Settings(model="echo", provider_url="http://127.0.0.1:9/v1", data_dir=str(tmp_path))
    made = SessionStore(settings, bridge=FakeBridge(lambda: settings))
    yield made
    made.close()
