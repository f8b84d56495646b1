"""``copilot-magic serve``: one Copilot runtime for every kernel of a data directory."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from copilot_magic.cli.console import EXIT_OK, Console
from copilot_magic.errors import InvalidArgument, RuntimeUnavailable
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

if TYPE_CHECKING:
    from copilot_magic.sessions.store import SessionStore

CHECK_EVERY = 1.0  # seconds between two counts of the attached kernels


class ServerRunning(RuntimeUnavailable):
    """A runtime already serves this data directory."""


def _interrupted(*_: object) -> NoReturn:
    raise KeyboardInterrupt


def serve(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Run one Copilot runtime for every kernel of this data directory, until stopped.

    It listens on 127.0.0.1 (on --port, else a free port) behind a random
    token, which it writes to an owner-only token file in
    <data dir>/copilot-magic/runtime/<host>/ (the provider's key is never written:
    each kernel gives its own). Kernels on the same data directory find it by
    themselves (CopilotMagics.runtime = shared, the default); elsewhere set
    COPILOT_MAGIC_RUNTIME=127.0.0.1:PORT and COPILOT_MAGIC_RUNTIME_TOKEN. For
    a JupyterHub single-user server or a container's start-up. Ctrl-C or
    SIGTERM stops it and removes its files; with --idle SECONDS it also stops
    once no kernel has been attached for that long. --log FILE sends what it
    says after start-up to FILE.

    --with-server CMD...: run CMD (a JupyterHub single-user server) as this
    process's child and the runtime exactly as long as CMD runs (the data
    directory made owner-only first, the runtime on a free port, SIGINT and
    SIGTERM passed on to CMD, and CMD's exit status as this command's); it
    comes last: everything after it is CMD.
    """
    settings = store.settings
    if args.with_server is not None:
        from copilot_magic.cli.with_server import serve_with_server

        if not args.with_server:
            raise InvalidArgument("--with-server needs the server's command after it.")
        if args.idle is not None:
            raise InvalidArgument(
                "--idle and --with-server go apart: with a server, the runtime runs as long "
                "as the server does."
            )
        return serve_with_server(args.with_server, settings, args.port, out, args.log)
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
    runtime = launch(binary, str(data_path), START_TIMEOUT, args.port)
    state = ServerState.of(runtime.address, runtime.pid, os.path.realpath(binary))
    try:
        token_file = write_server_files(data_path, state, runtime.token)
        out.say(f"Serving the Copilot runtime of {data_path} at {runtime.address}.")
        out.say(f"Kernels: COPILOT_MAGIC_RUNTIME={runtime.address} (token in {token_file}).")
        if args.log:
            log_to(args.log)
        if args.idle is None:
            code = runtime.wait()
        else:
            code = _serve_while_used(runtime, data_path, state, args.idle)
            if code is None:
                out.say(f"Stopped: no kernel was attached for {args.idle:g} s.")
                return EXIT_OK
        out.error(f"The Copilot runtime ended (exit status {code}).")
        return 1
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
