"""Unit-test fixtures: a fresh IPython shell for each test that asks for one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config


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
