"""Helpers shared by the end-to-end and browser tests: the runtime, and whole turns."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from copilot_magic.config import Settings
from copilot_magic.sessions.store import SessionStore

REPO = Path(__file__).resolve().parents[1]
# The runtime unpacks its package (about 235 MB) under ~/.cache/copilot/pkg when it first
# starts. Every test has a HOME of its own, so each test home would unpack it again: a whole
# run left hundreds of copies and filled the CI machine's disk. One folder per checkout holds
# it instead, as one person's ~/.cache serves all their kernels.
PACKAGE_CACHE = {"COPILOT_PKG_CACHE_HOME": str(REPO / ".runtime" / "package-cache")}
# The runtime mode of the end-to-end and browser tests: shared (the default, as people get it)
# or own (a runtime per kernel). The end-to-end tests whose proof depends on the mode (marked
# `both_runtimes`) run in each, as two parameters of one run (tests/e2e/conftest.py sets the
# mode for the test's time). A shared runtime that a test started stops this many seconds after
# the test's last kernel ends.
MODES = ("shared", "own")
TEST_RUNTIME_IDLE = 3.0
_mode = ["shared"]


def current_runtime_mode() -> str:
    """The runtime mode of the test running now."""
    return _mode[0]


@contextmanager
def in_runtime_mode(mode: str) -> Iterator[None]:
    """Run the kernels, commands and stores of a test in runtime ``mode``."""
    if mode not in MODES:
        raise ValueError(f"no runtime mode {mode!r}")
    before, _mode[0] = _mode[0], mode
    try:
        yield
    finally:
        _mode[0] = before


def runtime_mode_env() -> dict[str, str]:
    """The variables that put a kernel or command in the test's runtime mode."""
    return {
        "COPILOT_MAGIC_RUNTIME": current_runtime_mode(),
        "COPILOT_MAGIC_RUNTIME_IDLE": f"{TEST_RUNTIME_IDLE:g}",
    }


def find_runtime() -> str:
    """The Copilot runtime: ``COPILOT_CLI_PATH``, else the one ``make`` installs. Never skips."""
    path = os.environ.get("COPILOT_CLI_PATH", "")
    if not path:
        found = sorted(REPO.glob(".runtime/node_modules/@github/copilot-*/copilot"))
        path = str(found[0]) if found else ""
    if not path or not os.access(path, os.X_OK):
        pytest.fail(
            "No Copilot runtime: run `make test` (it installs the pinned runtime from npm) "
            "or set COPILOT_CLI_PATH.",
            pytrace=False,
        )
    return path


def kernel_environment(
    *, home: Path, data_dir: Path, runtime: str, provider_url: str, provider_key: str
) -> dict[str, str]:
    """This process's environment, without Copilot or GitHub settings, for a kernel that
    uses ``runtime`` on ``data_dir`` with the echo model at ``provider_url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COPILOT_", "GH_", "GITHUB_"))}
    env.update(
        HOME=str(home),
        COPILOT_HOME=str(data_dir),
        COPILOT_CLI_PATH=runtime,
        COPILOT_SKIP_CLI_DOWNLOAD="1",
        COPILOT_MAGIC_PROVIDER_URL=provider_url,
        COPILOT_MAGIC_PROVIDER_API_KEY=provider_key,
        COPILOT_MAGIC_MODEL="echo",
        PYTHONUNBUFFERED="1",
        **PACKAGE_CACHE,
        **runtime_mode_env(),
    )
    return env


def settings_for_tests(**values: Any) -> Settings:
    """Settings for a store in the test process, in the tests' runtime mode."""
    return Settings(runtime=current_runtime_mode(), runtime_idle=TEST_RUNTIME_IDLE, **values)


def converse(store: SessionStore, session_id: str, *prompts: str) -> list[str]:
    """Open (or create) a session and complete one turn per prompt; returns the replies."""
    store.open(session_id)
    return [store.converse(session_id, prompt) for prompt in prompts]


def backdate_sessions(data_dir: Path, days: float = 2) -> None:
    """Make every stored session look last used ``days`` ago, as the runtime reads it (the
    times of its files): no clean-up deletes a session used in the last hour."""
    then = time.time() - days * 86400
    for folder in (data_dir / "session-state").iterdir():
        for path in [*folder.rglob("*"), folder]:
            os.utime(path, (then, then), follow_symlinks=False)
