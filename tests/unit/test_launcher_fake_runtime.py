"""The launcher and its lifeline with fake runtimes: small scripts that act like one.

A fake runtime prints its pid to a file, then (if told to) the line the real
runtime prints when it listens, then waits; some fail or never listen. Each
test ends with no fake runtime left running.
"""

from __future__ import annotations

import os
import signal
import stat
import sys
from pathlib import Path

import psutil
import pytest

from copilot_magic.errors import RuntimeUnavailable
from copilot_magic.runtime.launcher import launch

LISTENS = 'print("CLI server listening on port 4321", flush=True)'


def _fake_runtime(folder: Path, body: str) -> tuple[str, Path]:
    """An executable fake runtime running ``body``; returns it and its pid file."""
    pid_file = folder / "fake-runtime.pid"
    script = folder / "fake-runtime"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, sys, time\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        f"{body}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script), pid_file


def _gone(pid: int) -> bool:
    try:
        psutil.Process(pid).wait(10)
    except psutil.NoSuchProcess:
        return True
    except psutil.TimeoutExpired:
        return False
    return True


def test_a_runtime_that_listens_is_reported_with_its_pid_and_port(tmp_path: Path) -> None:
    runtime, pid_file = _fake_runtime(tmp_path, f"{LISTENS}\ntime.sleep(60)")
    launched = launch(runtime, str(tmp_path))
    try:
        assert launched.address == "127.0.0.1:4321"
        assert launched.pid == int(pid_file.read_text())
        assert launched.exit_code() is None
        assert "token" not in repr(launched)  # the connection token never shows
        assert launched.token not in repr(launched)
    finally:
        launched.stop()
    assert _gone(launched.pid)
    assert launched.exit_code() is not None


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL, signal.SIGSEGV])
def test_a_runtime_that_dies_of_any_signal_is_seen_as_ended(
    tmp_path: Path, how: signal.Signals
) -> None:
    """Bug found in review: only SIGKILL was reported; after SIGTERM "running" for ever."""
    runtime, _ = _fake_runtime(tmp_path, f"{LISTENS}\ntime.sleep(60)")
    launched = launch(runtime, str(tmp_path))
    os.kill(launched.pid, how)
    launched.lifeline.wait(10)
    assert launched.exit_code() == -how


def test_a_runtime_that_never_listens_is_stopped_when_the_start_times_out(
    tmp_path: Path,
) -> None:
    runtime, pid_file = _fake_runtime(tmp_path, "time.sleep(60)")
    with pytest.raises(RuntimeUnavailable, match="did not listen within 1 s"):
        launch(runtime, str(tmp_path), timeout=1)
    assert _gone(int(pid_file.read_text())), "the runtime outlived a failed start"


def test_a_runtime_that_fails_at_once_says_why_in_one_line(tmp_path: Path) -> None:
    runtime, _ = _fake_runtime(tmp_path, "print('licence check failed', file=sys.stderr)\nexit(3)")
    with pytest.raises(RuntimeUnavailable) as failed:
        launch(runtime, str(tmp_path))
    assert str(failed.value) == "The Copilot runtime failed to start: licence check failed"


def test_a_runtime_that_fails_with_a_stack_names_the_error_not_a_frame(tmp_path: Path) -> None:
    node_failure = (
        "Error: ENOSPC: no space left on device, write\n"
        "    at async writeFile (node:internal/fs/promises:1207:3)\n"
        "    at async xf (sea-loader.js:13:78) {\n"
        "  errno: -28,\n"
        "  code: 'ENOSPC'\n"
        "}"
    )
    runtime, _ = _fake_runtime(tmp_path, f"print({node_failure!r}, file=sys.stderr)\nexit(1)")
    with pytest.raises(RuntimeUnavailable) as failed:
        launch(runtime, str(tmp_path))
    assert str(failed.value) == (
        "The Copilot runtime failed to start: Error: ENOSPC: no space left on device, write"
    )


def test_the_lifeline_ignores_the_starters_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``signal.py`` beside the notebook must not replace the standard library's."""
    (tmp_path / "signal.py").write_text("raise SystemExit('the wrong signal module')\n")
    monkeypatch.chdir(tmp_path)
    runtime, _ = _fake_runtime(tmp_path, f"{LISTENS}\ntime.sleep(60)")
    launched = launch(runtime, str(tmp_path))
    launched.stop()


def test_a_runtime_started_through_a_loader_is_stopped_with_the_child_it_runs(
    tmp_path: Path,
) -> None:
    """npm's ``copilot`` is a loader that runs the real runtime as its child: both must end
    when the kernel does (bug: the child ran on, and its lifeline waited for it for ever)."""
    child_pid = tmp_path / "child.pid"
    child_code = "import os, time; print(os.getpid(), flush=True); time.sleep(60)"
    body = (
        "import subprocess\n"
        f"child = subprocess.Popen([sys.executable, '-c', {child_code!r}],"
        " stdout=subprocess.PIPE)\n"
        f"open({str(child_pid)!r}, 'w').write(child.stdout.readline().decode())\n"
        f"{LISTENS}\n"
        "child.wait()"
    )
    runtime, _ = _fake_runtime(tmp_path, body)
    launched = launch(runtime, str(tmp_path))
    child = int(child_pid.read_text())
    assert psutil.pid_exists(child)
    assert launched.lifeline.stdin is not None
    launched.lifeline.stdin.close()  # the kernel is gone: nobody calls stop()
    try:
        assert _gone(launched.pid)
        assert _gone(child), "the loader's child outlived its starter"
    finally:
        launched.stop()


def test_the_runtime_runs_with_an_owner_only_umask_whatever_the_kernels(tmp_path: Path) -> None:
    """Its database, write-ahead log and session folders are born unreadable to others."""
    told = tmp_path / "umask"
    body = f"open({str(told)!r}, 'w').write(oct(os.umask(0)))\n{LISTENS}\ntime.sleep(60)"
    runtime, _ = _fake_runtime(tmp_path, body)
    before = os.umask(0o022)
    try:
        launched = launch(runtime, str(tmp_path))
    finally:
        os.umask(before)
    try:
        assert told.read_text() == "0o77"
    finally:
        launched.stop()
