"""Starting a Copilot runtime of this process's own, in a process session of its own.

A kernel interrupt is sent to the kernel's whole process group; a runtime in
that group would exit with it. So the runtime is started, with
``start_new_session=True`` (a new process group on Windows), under the small
:mod:`~copilot_magic.runtime.lifeline` process, which stops it when this
process ends however it ends. The runtime runs in its own server mode on
127.0.0.1, on a free port, behind a random token that only its environment
holds; the SDK connects to that address. No shell is involved, so any path
works and nothing in it is executed.
"""

from __future__ import annotations

import contextlib
import os
import queue
import secrets
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import IO

from copilot_magic.errors import RuntimeUnavailable

HOST = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
LIFELINE_LAG = 2.0  # seconds the lifeline may take to follow its runtime out
TOKEN_VARIABLE = "COPILOT_CONNECTION_TOKEN"  # the runtime's own variable


@dataclass
class LaunchedRuntime:
    """A runtime this process started; it lives until :meth:`stop` or until we exit."""

    lifeline: subprocess.Popen[bytes]
    pid: int  # the runtime's own process id
    port: int
    token: str

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def exit_code(self) -> int | None:
        """``None`` while the runtime runs, else how it ended (a signal as a negative number).

        The lifeline ends as the runtime did, a moment after it; a runtime that
        is gone already is waited for here, so the answer never lags behind it.
        """
        code = self.lifeline.poll()
        if code is None and self.pid and not _running(self.pid):
            try:
                code = self.lifeline.wait(LIFELINE_LAG)
            except subprocess.TimeoutExpired:
                return None
        return code

    def stop(self) -> None:
        """Stop the runtime and wait for it (it gets a moment to tidy up)."""
        if self.lifeline.stdin is not None:
            with contextlib.suppress(OSError):
                self.lifeline.stdin.close()
        try:
            self.lifeline.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.lifeline.kill()
            self.lifeline.wait()
        for stream in (self.lifeline.stdout,):
            if stream is not None:
                stream.close()


def _running(pid: int) -> bool:
    """Whether a process with this id exists (the lifeline reaps its runtime at once)."""
    if sys.platform == "win32":  # os.kill there would end the process: trust the lifeline
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, or a platform without signal 0
        return True
    return True


# Windows has no process sessions: a process group of its own keeps Ctrl-C away there.
_NEW_GROUP: int = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)


def _lines(stream: IO[bytes]) -> queue.SimpleQueue[str]:
    """The stream's lines on a queue, read by a daemon thread ("" at the end)."""
    lines: queue.SimpleQueue[str] = queue.SimpleQueue()

    def read() -> None:
        for line in stream:
            lines.put(line.decode(errors="replace").strip())
        lines.put("")

    threading.Thread(target=read, name="copilot-magic-launch", daemon=True).start()
    return lines


def launch(runtime: str, data_dir: str = "", timeout: float = START_TIMEOUT) -> LaunchedRuntime:
    """Start ``runtime`` in server mode; return once it listens.

    Raises :class:`~copilot_magic.errors.RuntimeUnavailable` in one line when it
    cannot start or does not listen within ``timeout`` seconds.
    """
    token = secrets.token_urlsafe(32)
    env = {**os.environ, TOKEN_VARIABLE: token}
    if data_dir:
        env["COPILOT_HOME"] = data_dir
    command = [sys.executable, "-m", "copilot_magic.runtime.lifeline", runtime]
    command += ["--headless", "--no-auto-update", "--log-level", "error", "--port", "0"]
    lifeline = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=sys.platform != "win32",
        creationflags=_NEW_GROUP,
    )
    assert lifeline.stdout is not None
    lines, pid, failure = _lines(lifeline.stdout), 0, ""
    try:
        while not failure:
            word, _, rest = lines.get(timeout=timeout).partition(" ")
            if word == "pid":
                pid = int(rest)
            elif word == "port":
                return LaunchedRuntime(lifeline, pid, int(rest), token)
            else:
                failure = rest.partition(": ")[2] or "it exited at once"
    except queue.Empty:
        failure = f"it did not listen within {timeout:g} s"
    finally:
        if failure or sys.exc_info()[0] is not None:
            LaunchedRuntime(lifeline, pid, 0, token).stop()
    raise RuntimeUnavailable(f"The Copilot runtime failed to start: {failure}")
