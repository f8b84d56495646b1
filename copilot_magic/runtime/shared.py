"""One runtime per person and data directory, started by the first kernel that needs it.

With ``CopilotMagics.runtime = "shared"`` (the default), a kernel looks in the
data directory's runtime folder (see :mod:`~copilot_magic.runtime.served`) for
a served runtime whose process still runs and that answers. If there is none,
it starts ``copilot-magic serve --idle SECONDS`` in a process session of its
own. Finding, starting and attaching happen under the folder's lock, so
kernels starting together end with one runtime, and a server stopping for want
of kernels never leaves a kernel attached to nothing. The server outlives the
kernel that started it and stops itself once no kernel has been attached for
``runtime_idle`` seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from copilot_magic.errors import RuntimeUnavailable
from copilot_magic.runtime.served import (
    ServedRuntime,
    attach,
    read_server_state,
    read_token,
    server_folder,
    start_lock,
)

ANNOUNCED = "Kernels: COPILOT_MAGIC_RUNTIME="
# What the server must not inherit from the kernel that starts it: each kernel gives its own
# provider and key with its own sessions, and a token of another server means nothing here.
KEPT_FROM_THE_SERVER = ("COPILOT_MAGIC_PROVIDER_API_KEY", "COPILOT_MAGIC_RUNTIME_TOKEN")
SERVER_LOG = "server.log"
SERVE_ERROR = "copilot-magic: error: "


def shared_runtime(
    data_path: Path, runtime: Callable[[], str], idle: float, start: bool = True
) -> ServedRuntime | None:
    """The shared runtime of ``data_path``, this process attached to it. When none runs, one
    is started (``runtime()`` gives the binary) if ``start``, else the answer is ``None``.
    ``None`` too when the data directory cannot be written to (its runtime folder and lock
    cannot be made): nothing can be shared there, and reading needs no more than a runtime
    of this process's own.

    One line (:class:`~copilot_magic.errors.RuntimeUnavailable`) when it cannot start.
    """
    try:
        with start_lock(data_path):
            found = running_shared(data_path)
            if found is None and start:
                found = _start(data_path, runtime(), idle)
            if found is not None:
                found.attachment = attach(data_path)
    except OSError:  # a read-only data directory; a failure to start is RuntimeUnavailable
        return None
    return found


def running_shared(data_path: Path) -> ServedRuntime | None:
    """The served runtime of ``data_path`` if its process runs and it answers, else None."""
    state = read_server_state(data_path)
    if state is None or not state.running():
        return None
    token = read_token(data_path)
    found = ServedRuntime(state.address, token, state.pid)
    return found if token and found.answers() else None


def _start(data_path: Path, runtime: str, idle: float) -> ServedRuntime:
    """Start ``copilot-magic serve`` for ``data_path``; return once it serves."""
    env = {k: v for k, v in os.environ.items() if k not in KEPT_FROM_THE_SERVER}
    env.update(COPILOT_HOME=str(data_path), COPILOT_CLI_PATH=runtime)
    log = server_folder(data_path) / SERVER_LOG
    command = [sys.executable, "-m", "copilot_magic", "serve", "--idle", f"{idle:g}"]
    server = subprocess.Popen(
        [*command, "--log", str(log)],
        env=env,
        cwd=data_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert server.stdout is not None
    said = ""
    with server.stdout:
        for line in server.stdout:
            said = line.strip() or said
            if said.startswith(ANNOUNCED):
                break
    if not said.startswith(ANNOUNCED):
        status = server.wait()
        if said.startswith(SERVE_ERROR):  # already a sentence that says what went wrong
            raise RuntimeUnavailable(said.removeprefix(SERVE_ERROR))
        raise RuntimeUnavailable(
            f"The shared Copilot runtime did not start (copilot-magic serve exited with "
            f"status {status}{': ' + said if said else ''})."
        )
    # Reap the server when it ends (it may end while this kernel still runs).
    threading.Thread(target=server.wait, name="copilot-magic-shared", daemon=True).start()
    found = running_shared(data_path)
    if found is None:
        raise RuntimeUnavailable("The shared Copilot runtime started but does not answer.")
    return found
