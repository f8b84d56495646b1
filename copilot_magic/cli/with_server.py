"""``copilot-magic serve --with-server CMD...``: a runtime that lives as long as a server.

For a JupyterHub single-user server (``Spawner.cmd``) or a container's entry point. In this
order, it:

1. makes the data directory (``COPILOT_HOME``, default ``~/.copilot``) owner-only (0700);
2. starts the Copilot runtime on a free port (``--port`` for a fixed one) and writes
   ``server.json`` and the token file, under the start lock, as ``serve`` does, so the
   server's kernels find it (``CopilotMagics.runtime = shared``, the default). If a runtime
   already serves the data directory, the kernels use that one and none is started;
3. runs CMD as its child, with the same environment, and passes it SIGINT, SIGTERM and
   SIGHUP (JupyterHub's LocalProcessSpawner signals only the process it started: this one).
   On Linux the child also gets SIGTERM if this process is killed (SIGKILL);
4. while CMD runs, starts the runtime again if it ends (a crash, a kill);
5. when CMD ends, stops the runtime (within seconds), removes its files and exits with
   CMD's status (128 + N for a signal N).

The server runs even when the runtime cannot start: that is said in one line, and its
kernels then start a shared runtime themselves (``COPILOT_MAGIC_RUNTIME_IDLE``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from copilot_magic.cli.advice import worded
from copilot_magic.cli.console import Console
from copilot_magic.config import ENV_DATA_DIR, Settings
from copilot_magic.errors import RuntimeUnavailable
from copilot_magic.runtime.choice import resolve_runtime
from copilot_magic.runtime.launcher import START_TIMEOUT, LaunchedRuntime, launch
from copilot_magic.runtime.served import (
    ServerState,
    read_server_state,
    remove_server_files,
    start_lock,
    write_server_files,
)
from copilot_magic.runtime.serving import log_to

CHECK_EVERY = 1.0  # seconds between two looks at the runtime while the server runs
MOST_RESTARTS = 5  # a runtime that keeps ending is left ended: the kernels start their own
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# What the runtime is not given of the server's environment: copilot_magic's settings (each
# kernel gives its provider and key with its own sessions) and JupyterHub's (the server's
# API token among them).
PRIVATE_PREFIXES = ("COPILOT_MAGIC_", "JUPYTERHUB_")


def serve_with_server(
    command: Sequence[str], settings: Settings, port: int, out: Console, log: str | None
) -> int:
    """Run the runtime of ``settings``'s data directory for as long as ``command`` runs;
    ``command``'s exit status."""
    make_private(settings.data_path, out)
    forwarder = _Forwarder()
    for number in FORWARDED:
        signal.signal(number, forwarder)
    runtime = _Runtime(settings, port, out)
    try:
        runtime.keep_serving()
        if forwarder.received is not None:  # stopped while the runtime started
            return 128 + forwarder.received
        try:
            child = subprocess.Popen(_started_as_child(command), env=_server_environment(settings))
        except OSError as error:
            out.error(f"Could not run {command[0]}: {error.strerror or error}.")
            return 126 if isinstance(error, PermissionError) else 127
        forwarder.child = child
        if forwarder.received is not None:  # a signal between Popen and the line above
            forwarder(forwarder.received, None)
        if log:
            log_to(log)  # this process's own lines only: the child keeps its output
        while True:
            try:
                code = child.wait(CHECK_EVERY)
                break
            except subprocess.TimeoutExpired:
                if forwarder.received is None:
                    runtime.keep_serving()
        ended = f"signal {-code}" if code < 0 else f"exit status {code}"
        out.say(f"{command[0]} ended ({ended}): the Copilot runtime stops with it.")
        return code if code >= 0 else 128 - code
    finally:
        runtime.stop()


def make_private(data_path: Path, out: Console) -> None:
    """Make the data directory (and no more) owner-only: 0700. One line if it cannot be."""
    try:
        data_path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if stat.S_IMODE(data_path.stat().st_mode) != 0o700:
            data_path.chmod(0o700)
    except OSError as error:
        out.error(f"The data directory {data_path} could not be made owner-only: {error}.")


def _server_environment(settings: Settings) -> dict[str, str]:
    """This process's environment, with the data directory of ``--data-dir`` if given, so
    that the server's kernels use the data directory this runtime serves."""
    environment = dict(os.environ)
    if settings.data_dir:
        environment[ENV_DATA_DIR] = settings.data_dir
    return environment


class _Forwarder:
    """The signal handler: the child gets the signal this process got."""

    def __init__(self) -> None:
        self.child: subprocess.Popen[bytes] | None = None
        self.received: int | None = None

    def __call__(self, number: int, _frame: FrameType | None) -> None:
        self.received = number
        if self.child is not None:
            with contextlib.suppress(OSError):
                self.child.send_signal(number)


class _Runtime:
    """The runtime this process runs for the data directory, started again if it ends."""

    def __init__(self, settings: Settings, port: int, out: Console) -> None:
        self.settings = settings
        self.port = port
        self.out = out
        self.launched: LaunchedRuntime | None = None
        self.state: ServerState | None = None
        self.restarts = 0
        self.given_up = False
        self.told_of: ServerState | None = None  # another process's runtime, once said

    def keep_serving(self) -> None:
        """Start the runtime unless it runs, or another process's runtime serves."""
        if self.given_up:
            return
        if self.launched is not None:
            code = self.launched.exit_code()
            if code is None:
                return
            self._forget()
            self.restarts += 1
            if self.restarts > MOST_RESTARTS:
                self.out.error(
                    f"The Copilot runtime ended (exit status {code}) {MOST_RESTARTS + 1} "
                    "times: it is not started again; kernels start a shared runtime when "
                    "they need one."
                )
                self.given_up = True
                return
            self.out.say(f"The Copilot runtime ended (exit status {code}): starting it again.")
        data_path = self.settings.data_path
        serving = read_server_state(data_path)
        if serving is not None and serving.running():
            self._tell_of(serving)
            return
        try:
            with start_lock(data_path):
                serving = read_server_state(data_path)
                if serving is not None and serving.running():
                    self._tell_of(serving)
                    return
                self._start(data_path)
        except (RuntimeUnavailable, OSError) as error:
            self.out.error(
                f"{worded(error).rstrip('.')}. The server runs without a Copilot runtime of "
                "its own: its kernels start a shared runtime when they need one."
            )
            self.given_up = True

    def _start(self, data_path: Path) -> None:
        binary = resolve_runtime(self.settings)
        environment = {k: v for k, v in os.environ.items() if not k.startswith(PRIVATE_PREFIXES)}
        launched = launch(binary, str(data_path), START_TIMEOUT, self.port, environment)
        state = ServerState.of(launched.address, launched.pid, os.path.realpath(binary))
        try:
            token_file = write_server_files(data_path, state, launched.token)
        except BaseException:
            launched.stop()
            raise
        self.launched, self.state = launched, state
        self.out.say(
            f"Serving the Copilot runtime of {data_path} at {launched.address} while the "
            "server runs."
        )
        self.out.say(f"Kernels: COPILOT_MAGIC_RUNTIME={launched.address} (token in {token_file}).")

    def _tell_of(self, serving: ServerState) -> None:
        if serving != self.told_of:
            self.told_of = serving
            self.out.say(
                f"A Copilot runtime already serves {self.settings.data_path} at "
                f"{serving.address} (pid {serving.pid}): the server's kernels use it."
            )

    def _forget(self) -> None:
        if self.state is not None:
            remove_server_files(self.settings.data_path, self.state)
        self.launched = self.state = None

    def stop(self) -> None:
        """Stop the runtime (if this process runs one) and remove its files."""
        if self.launched is not None:
            self.launched.stop()
        self._forget()


# On Linux the server's command starts through this: the process asks for SIGTERM when its
# parent (this command) ends, however it ends, then becomes the server (same pid). A
# preexec_fn would do the same in the forked child, which is unsafe beside the threads
# that read the runtime's lifeline.
_ENDS_WITH_ITS_PARENT = """\
import ctypes, os, signal, sys
ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    sys.exit(128 + signal.SIGTERM)  # the parent ended before the line above
try:
    os.execvp(sys.argv[2], sys.argv[2:])
except OSError as error:
    print(f"copilot-magic: error: Could not run {sys.argv[2]}: {error.strerror}.", file=sys.stderr)
    sys.exit(126 if isinstance(error, PermissionError) else 127)
"""


def _started_as_child(command: Sequence[str]) -> list[str]:
    """``command``, started so that it ends when this process does (on Linux)."""
    if not sys.platform.startswith("linux"):
        return list(command)
    return [sys.executable, "-I", "-c", _ENDS_WITH_ITS_PARENT, str(os.getpid()), *command]
