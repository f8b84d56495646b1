"""Every output a test run sees, kept as files, so that it can be searched afterwards.

The secrets scan (``tests/secrets_scan.py``, after the test runs) reads these
files, so an output that only ever lived in a test's memory (a kernel's iopub
messages, the stdout of a command the test ran) is scanned as well. The
``secrets_scan`` plugin starts a run directory when each pytest process starts
and names the current test; the test helpers record into it:

- ``Kernel.collect`` (``tests/e2e/kernels.py``) calls :func:`record_iopub` for
  every iopub message: ``<test>/kernel-<kernel id>.jsonl``, one message a line
  (its type, parent message id and content: streams, displays and their
  updates, errors with tracebacks, and the executed code).
- A test that runs a command calls :func:`record_command`:
  ``<test>/commands.jsonl``, one command a line (argv, exit status, stdout,
  stderr).
- The plugin writes what pytest captured of each test (the stdout and stderr
  of the test process and of the kernels and runtimes it started, and logging)
  to ``<test>/pytest-captured.txt``.

The run directory is ``artifacts/outputs/run-<UTC time>-<pid>/``; the newest
:data:`KEEP_RUNS` runs are kept, and those of processes still running (the
workers of one pytest-xdist run) and of runs the secrets scan has yet to read.
Without a run (the plugin not loaded), every function here does nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUTPUTS = REPO / "artifacts" / "outputs"
KEEP_RUNS = 5
OUTSIDE_TESTS = "_session"  # output recorded while no test runs (session fixtures)

_lock = threading.Lock()
_run_dir: Path | None = None
_current = OUTSIDE_TESTS


def start_run(root: Path = OUTPUTS, keep: set[Path] | frozenset[Path] = frozenset()) -> Path:
    """Create this run's directory under ``root`` and drop all but the newest runs.

    The directories in ``keep`` (runs the secrets scan has yet to read) stay, and so do
    those of processes still running.
    """
    global _run_dir  # noqa: PLW0603 - one run per process
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    run_dir = root / f"run-{stamp}-{os.getpid()}"
    run_dir.mkdir(parents=True, exist_ok=True)
    older = sorted(
        (
            p
            for p in root.glob("run-*")
            if p.is_dir() and p != run_dir and p not in keep and not _running(p)
        ),
        key=lambda p: p.stat().st_mtime,
    )
    for stale in older[: max(0, len(older) - (KEEP_RUNS - 1))]:
        shutil.rmtree(stale, ignore_errors=True)
    _run_dir = run_dir
    return run_dir


def _running(run: Path) -> bool:
    """Whether the process that started ``run`` (``run-<time>-<pid>``) still runs."""
    pid = run.name.rsplit("-", 1)[-1]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process
    return True


def run_dir() -> Path | None:
    """This run's directory, or ``None`` when no run was started."""
    return _run_dir


def set_current_test(nodeid: str | None) -> None:
    """Name the test whose outputs are recorded from now on (``None``: between tests)."""
    global _current  # noqa: PLW0603 - the test pytest runs now
    _current = nodeid or OUTSIDE_TESTS


def _folder(nodeid: str) -> Path | None:
    if _run_dir is None:
        return None
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[:180] or OUTSIDE_TESTS
    folder = _run_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _append(file_name: str, text: str, nodeid: str | None = None) -> None:
    with _lock:
        folder = _folder(nodeid or _current)
        if folder is None:
            return
        with (folder / file_name).open("a", encoding="utf-8", errors="surrogateescape") as out:
            out.write(text)


def record_iopub(kernel_id: str, message: Mapping[str, Any]) -> None:
    """Keep one iopub message of a test kernel (called by ``Kernel.collect``)."""
    parent = message.get("parent_header") or {}
    line = {
        "msg_type": message.get("msg_type"),
        "parent_msg_id": parent.get("msg_id"),
        "content": message.get("content"),
    }
    _append(f"kernel-{kernel_id}.jsonl", json.dumps(line, default=str, ensure_ascii=False) + "\n")


def record_command(argv: Sequence[str], status: int | None, stdout: str, stderr: str) -> None:
    """Keep a command a test ran: its arguments, exit status and both outputs."""
    line = {"argv": list(argv), "status": status, "stdout": stdout, "stderr": stderr}
    _append("commands.jsonl", json.dumps(line, ensure_ascii=False) + "\n")


def record_captured(nodeid: str, when: str, sections: Sequence[tuple[str, str]]) -> None:
    """Keep what pytest captured during one phase of a test (setup, call or teardown).

    A report carries the sections of the earlier phases too; only this phase's are kept.
    """
    text = "".join(
        f"===== {title}\n{body}\n" for title, body in sections if body and title.endswith(when)
    )
    if text:
        _append("pytest-captured.txt", text, nodeid)
