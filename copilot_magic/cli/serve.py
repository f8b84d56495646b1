"""``copilot-magic serve``: one Copilot runtime for every kernel of a data directory.

The serve loop is the runtime's (:mod:`~copilot_magic.runtime.serving`); this verb wraps it.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from copilot_magic.cli.console import Console
from copilot_magic.errors import InvalidArgument
from copilot_magic.runtime.serving import serve_runtime

if TYPE_CHECKING:
    from copilot_magic.sessions.store import SessionStore


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
    return serve_runtime(settings, args.port, args.idle, args.log, out)
