"""``copilot-magic serve``: one Copilot runtime for every kernel of a data directory."""

from __future__ import annotations

import argparse
import signal
from typing import TYPE_CHECKING, NoReturn

from copilot_magic.cli.console import EXIT_OK, Console
from copilot_magic.runtime.bridge import resolve_runtime
from copilot_magic.runtime.launcher import START_TIMEOUT, launch
from copilot_magic.runtime.served import ServerState, remove_server_files, write_server_files

if TYPE_CHECKING:
    from copilot_magic.sessions.store import SessionStore


def _interrupted(*_: object) -> NoReturn:
    raise KeyboardInterrupt


def serve(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Run one Copilot runtime for every kernel of this data directory, until stopped.

    It listens on 127.0.0.1 (on --port, else a free port) behind a random
    token, which it writes to an owner-only token file in
    <data dir>/copilot-magic/runtime/ (the provider's key is never written:
    each kernel gives its own). Kernels use it with
    COPILOT_MAGIC_RUNTIME=127.0.0.1:PORT; on the same data directory they read
    the token from that file, elsewhere set COPILOT_MAGIC_RUNTIME_TOKEN. For a
    JupyterHub single-user server or a container's start-up. Ctrl-C or SIGTERM
    stops it and removes its files.
    """
    settings = store.settings
    signal.signal(signal.SIGTERM, _interrupted)
    runtime = launch(resolve_runtime(settings), str(settings.data_path), START_TIMEOUT, args.port)
    state = ServerState(runtime.address, runtime.pid)
    try:
        token_file = write_server_files(settings.data_path, state, runtime.token)
        out.say(f"Serving the Copilot runtime of {settings.data_path} at {runtime.address}.")
        out.say(f"Kernels: COPILOT_MAGIC_RUNTIME={runtime.address} (token in {token_file}).")
        code = runtime.wait()
        out.error(f"The Copilot runtime ended (exit status {code}).")
        return 1
    except KeyboardInterrupt:
        out.say("Stopped.")
        return EXIT_OK
    finally:
        runtime.stop()
        remove_server_files(settings.data_path, state)
