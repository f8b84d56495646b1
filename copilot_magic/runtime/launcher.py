"""Starting a Copilot runtime of this process's own, in a process session of its own.

A kernel interrupt is sent to the kernel's whole process group; a runtime in
that group would exit with it. So the runtime is started, with
``start_new_session=True`` (a new process group on Windows), under the small
:mod:`~copilot_magic.runtime.lifeline` process, which stops it when this
process ends, at any moment, however it ends. The runtime runs in its own
server mode on 127.0.0.1, on a free port, behind a random token that only its
environment holds; the SDK connects to that address. No shell is involved, so
any path works and nothing in it is executed. The lifeline and the runtime run
with an owner-only umask, so everything the runtime writes in the data
directory (its database, its write-ahead log, session folders, logs) is born
unreadable to other users.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import IO

from copilot_magic.errors import RuntimeUnavailable
from copilot_magic.owner_only import OWNER_ONLY_UMASK
from copilot_magic.runtime import lifeline

HOST = "127.0.0.1"
TOKEN_BYTES = 32  # a token is secrets.token_urlsafe(TOKEN_BYTES): 43 characters
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
LIFELINE_LAG = 2.0  # seconds the lifeline may take to report its runtime's end
TOKEN_VARIABLE = "COPILOT_CONNECTION_TOKEN"  # the runtime's own variable
# Windows has no process sessions: a process group of its own keeps Ctrl-C away there.
_NEW_GROUP: int = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)


class _Report:
    """What the lifeline says on its standard output, read by a daemon thread."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.pid = 0
        self.port = 0
        self.failure = ""
        self.exit: int | None = None
        self.started = threading.Event()  # a port, or a failure, or the end of the output
        self._reader = threading.Thread(
            target=self._read, args=(stream,), name="copilot-magic-lifeline", daemon=True
        )
        self._reader.start()

    def _read(self, stream: IO[bytes]) -> None:
        for raw in stream:
            word, _, rest = raw.decode(errors="replace").strip().partition(" ")
            with contextlib.suppress(ValueError):
                if word == "pid":
                    self.pid = int(rest)
                elif word == "port":
                    self.port = int(rest)
                    self.started.set()
                elif word == "failed":
                    self.failure = rest.partition(": ")[2] or "it exited at once"
                    self.started.set()
                elif word == "exit":
                    self.exit = int(rest)
        self.failure = self.failure or ("" if self.port else "it exited at once")
        self.started.set()
        stream.close()

    def finished(self, timeout: float) -> None:
        """Wait (at most ``timeout``) until everything the lifeline said has been read."""
        self._reader.join(timeout)


@dataclass
class LaunchedRuntime:
    """A runtime this process started; it lives until :meth:`stop` or until we exit."""

    lifeline: subprocess.Popen[bytes]
    report: _Report
    token: str = field(repr=False)  # never shown: whoever has it can drive the runtime

    @property
    def pid(self) -> int:
        """The runtime's own process id."""
        return self.report.pid

    @property
    def address(self) -> str:
        return f"{HOST}:{self.report.port}"

    def exit_code(self) -> int | None:
        """``None`` while the runtime runs, else how it ended (a signal as a negative number).

        The lifeline reports the end a moment after it; a runtime whose process
        is gone already is waited for here, so the answer never says "running"
        for a runtime that is not.
        """
        if self.report.exit is not None:
            return self.report.exit
        if self.lifeline.poll() is None and (not self.pid or _running(self.pid)):
            return None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.lifeline.wait(LIFELINE_LAG)
        self.report.finished(LIFELINE_LAG)
        if self.report.exit is not None:
            return self.report.exit
        code = self.lifeline.poll()
        return code if code is not None and code != 0 else 1  # ended, how is unknown

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait until the runtime ends (at most ``timeout`` seconds); how it ended (see
        :meth:`exit_code`), or ``None`` when it still runs after ``timeout``."""
        try:
            self.lifeline.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        code = self.exit_code()
        return 1 if code is None else code

    def stop(self) -> None:
        """Stop the runtime and wait for it (it gets a moment to tidy up)."""
        if self.lifeline.stdin is not None:
            with contextlib.suppress(OSError):
                self.lifeline.stdin.close()
        try:
            self.lifeline.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _kill_group(self.lifeline, self.pid)
        self.report.finished(LIFELINE_LAG)


def sound_token(text: str) -> bool:
    """Whether ``text`` is a token as :func:`launch` makes them (not one cut short or garbled)."""
    return _TOKEN.fullmatch(text) is not None


def _running(pid: int) -> bool:
    """Whether a process with this id exists (the lifeline reaps its runtime at once)."""
    if sys.platform == "win32":  # os.kill there would end the process: trust the lifeline
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True


def descendants(pid: int) -> list[int]:
    """The processes ``pid`` started, and theirs (none when it is gone)."""
    import psutil

    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def _kill_group(process: subprocess.Popen[bytes], runtime_pid: int = 0) -> None:
    """Kill the lifeline and, on POSIX, its process group and the runtime's (the lifeline
    gives the runtime a group of its own, so that what the runtime starts ends with it)."""
    if sys.platform != "win32":
        for group in (process.pid, runtime_pid):
            if group:
                with contextlib.suppress(OSError):
                    os.killpg(group, signal.SIGKILL)
    process.kill()
    process.wait()


def launch(
    runtime: str,
    data_dir: str = "",
    timeout: float = START_TIMEOUT,
    port: int = 0,
    environment: dict[str, str] | None = None,
) -> LaunchedRuntime:
    """Start ``runtime`` in server mode on ``port`` (0: a free one); return once it listens.
    It gets ``environment`` (default: this process's) and its token.

    Raises :class:`~copilot_magic.errors.RuntimeUnavailable` in one line when it
    cannot start or does not listen within ``timeout`` seconds. Interrupted
    (``KeyboardInterrupt``), it stops what it started and lets the interrupt go on.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    env = {**(os.environ if environment is None else environment), TOKEN_VARIABLE: token}
    if data_dir:
        env["COPILOT_HOME"] = data_dir
    command = [sys.executable, "-I", lifeline.__file__, runtime]
    command += ["--headless", "--no-auto-update", "--log-level", "error", "--port", str(port)]
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=sys.platform != "win32",
        creationflags=_NEW_GROUP,
        umask=OWNER_ONLY_UMASK,  # in the child only (POSIX; ignored on Windows)
    )
    assert process.stdout is not None
    launched = LaunchedRuntime(process, _Report(process.stdout), token)
    try:
        started = launched.report.started.wait(timeout)
    except BaseException:
        launched.stop()
        raise
    failure = launched.report.failure if started else f"it did not listen within {timeout:g} s"
    if failure:
        launched.stop()
        raise RuntimeUnavailable(f"The Copilot runtime failed to start: {failure}")
    return launched
