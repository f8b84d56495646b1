"""Running the ``copilot-magic`` command, and checking what it leaves.

A run is a subprocess without a terminal (stdin is /dev/null), as a person runs it
(``run_cli``), or ``cli.main`` in the test process with the same environment
(``run_here``), with a recognisable fake provider key in its environment.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import psutil

from copilot_magic.runtime.launcher import descendants
from copilot_magic.runtime.served import read_server_state

FAKE_KEY = "sk-fake-cli-key-MUST-NOT-SHOW-4711"


@dataclass(frozen=True)
class Ran:
    status: int
    out: str
    err: str

    @property
    def error_line(self) -> str:
        """The one line of an error; fails if there are several."""
        lines = self.err.splitlines()
        assert len(lines) == 1, self.err
        assert lines[0].startswith("copilot-magic: error: "), self.err
        return lines[0]


def stray_runtimes(runtime_path: str, data_dir: Path) -> list[int]:
    """Runtimes on ``data_dir`` that are neither this test process's own (those of its stores)
    nor the shared runtime of ``data_dir`` (which outlives the commands and kernels using it)."""
    ours = {child.pid for child in psutil.Process().children(recursive=True)}
    shared = read_server_state(data_dir)
    if shared is not None and shared.running():
        ours |= {shared.pid, *descendants(shared.pid)}
    stray = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            if (process.info["cmdline"] or [""])[0] != runtime_path or process.pid in ours:
                continue
            if process.environ().get("COPILOT_HOME") == str(data_dir):
                stray.append(process.pid)
    return stray


def runtimes_here(runtime_path: str) -> set[int]:
    """The runtimes this test process has started (its stores', or a command's in it)."""
    found = set()
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if (child.cmdline() or [""])[0] == runtime_path:
                found.add(child.pid)
    return found


def shared_runtime_family(data_dir: Path) -> set[int]:
    """The shared runtime of ``data_dir`` and its children, if it runs."""
    shared = read_server_state(data_dir)
    if shared is None or not shared.running():
        return set()
    return {shared.pid, *descendants(shared.pid)}
