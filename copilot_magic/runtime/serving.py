"""The serve loop: one Copilot runtime for every kernel of a data directory, until stopped.

``copilot-magic serve`` (:mod:`~copilot_magic.cli.serve`) wraps :func:`serve_runtime`, and a
kernel that starts the shared runtime (:mod:`~copilot_magic.runtime.shared`) runs this
module itself, ``python -m copilot_magic.runtime.serving [--port PORT] [--idle SECONDS]
[--log FILE]``, without the command line's session store and bridge, which serving needs
not. Its lines are the command's: results on stdout, an error as one
``copilot-magic: error: ...`` line, every secret masked.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, Protocol

from copilot_magic.config import Settings
from copilot_magic.errors import (
    EXIT_FAILED,
    EXIT_OK,
    RuntimeUnavailable,
    exit_status,
    one_line,
)
from copilot_magic.runtime.choice import resolve_runtime
from copilot_magic.runtime.launcher import START_TIMEOUT, LaunchedRuntime, launch
from copilot_magic.runtime.served import (
    ServerState,
    attached_kernels,
    read_server_state,
    remove_server_files,
    start_lock,
    write_server_files,
)
from copilot_magic.runtime.shared import SERVE_ERROR
from copilot_magic.values import mask_secrets

CHECK_EVERY = 1.0  # seconds between two counts of the attached kernels


class ServerRunning(RuntimeUnavailable):
    """A runtime already serves this data directory."""


class Speaker(Protocol):
    """Where the serve loop says what it does (the command's console, or :class:`Plain`)."""

    def say(self, text: str) -> None: ...

    def error(self, message: object) -> None: ...


class Plain:
    """Results on stdout, errors as one ``copilot-magic: error:`` line on stderr, masked."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self.secrets = list(secrets)

    def say(self, text: str) -> None:
        print(mask_secrets(text, self.secrets), flush=True)

    def error(self, message: object) -> None:
        line = mask_secrets(one_line(message), self.secrets)
        print(f"{SERVE_ERROR}{line}", file=sys.stderr, flush=True)


def _interrupted(*_: object) -> NoReturn:
    raise KeyboardInterrupt


def serve_runtime(
    settings: Settings, port: int, idle: float | None, log: str | None, out: Speaker
) -> int:
    """Serve the runtime of ``settings``'s data directory on ``port`` (0: a free one) until
    stopped (Ctrl-C, SIGTERM), the runtime ends, or (``idle``) no kernel was attached for
    that many seconds; ``log`` takes what it says after start-up. The exit status."""
    signal.signal(signal.SIGTERM, _interrupted)
    data_path = settings.data_path
    serving = read_server_state(data_path)
    if serving is not None and serving.serves_here():  # not a stale file's, nor another user's
        raise ServerRunning(
            f"A Copilot runtime already serves {data_path} at {serving.address} "
            f"(pid {serving.pid}): its kernels use it; stop it first to start another."
        )
    # A kernel that starts this server holds the start lock until it has announced itself.
    binary = resolve_runtime(settings)
    runtime = launch(binary, str(data_path), START_TIMEOUT, port)
    state = ServerState.of(runtime.address, runtime.pid, os.path.realpath(binary))
    try:
        token_file = write_server_files(data_path, state, runtime.token)
        out.say(f"Serving the Copilot runtime of {data_path} at {runtime.address}.")
        out.say(f"Kernels: COPILOT_MAGIC_RUNTIME={runtime.address} (token in {token_file}).")
        if log:
            log_to(log)
        if idle is None:
            code = runtime.wait()
        else:
            code = _serve_while_used(runtime, data_path, state, idle)
            if code is None:
                out.say(f"Stopped: no kernel was attached for {idle:g} s.")
                return EXIT_OK
        out.error(f"The Copilot runtime ended (exit status {code}).")
        return EXIT_FAILED
    except KeyboardInterrupt:
        out.say("Stopped.")
        return EXIT_OK
    finally:
        runtime.stop()
        remove_server_files(data_path, state)


def _serve_while_used(
    runtime: LaunchedRuntime, data_path: Path, state: ServerState, idle: float
) -> int | None:
    """Serve until the runtime ends (its exit status) or no kernel was attached for ``idle``
    seconds (``None``: the runtime is stopped and its files are gone then)."""
    unused_since = time.monotonic()
    while (code := runtime.wait(CHECK_EVERY)) is None:
        if attached_kernels(data_path):
            unused_since = time.monotonic()
        elif time.monotonic() - unused_since >= idle:
            with start_lock(data_path):  # no kernel finds it until it is gone
                if attached_kernels(data_path) == 0:
                    runtime.stop()
                    remove_server_files(data_path, state)
                    return None
    return code


def log_to(path: str) -> None:
    """Send this process's standard output and error to ``path`` (owner-only) from now on."""
    sys.stdout.flush()
    sys.stderr.flush()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    for stream in (1, 2):
        os.dup2(descriptor, stream)
    os.close(descriptor)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m copilot_magic.runtime.serving``: :func:`serve_runtime` with the settings of
    the environment (the data directory: ``COPILOT_HOME``); the exit status."""
    parser = argparse.ArgumentParser(prog="copilot-magic serve")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--idle", type=float)
    parser.add_argument("--log")
    args = parser.parse_args(argv)
    out = Plain([])

    def run() -> int:
        nonlocal out
        settings = Settings.from_environment()  # a wrong setting: the person's mistake
        out = Plain(settings.secrets())
        return serve_runtime(settings, args.port, args.idle, args.log, out)

    def bug(error: Exception) -> None:
        out.error(f"unexpected error ({type(error).__name__}: {error}); a bug in copilot_magic.")
        trace = "".join(traceback.format_exception(error))
        print(mask_secrets(trace, out.secrets), end="", file=sys.stderr)

    return exit_status(run, lambda error: out.error(error), bug)  # noqa: PLW0108 (out changes)


if __name__ == "__main__":
    raise SystemExit(main())
