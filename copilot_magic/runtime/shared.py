"""One runtime per person and data directory, started by the first kernel that needs it.

With ``CopilotMagics.runtime = "shared"`` (the default), a kernel looks in the
data directory's runtime folder of this machine (see
:mod:`~copilot_magic.runtime.served`) for a served runtime whose process still
runs. If there is none, it starts the serve loop of ``copilot-magic serve --idle SECONDS``
(``python -m copilot_magic.runtime.serving``) in a process session of its own. Finding,
starting and attaching happen under the folder's lock, so kernels starting together end
with one runtime, and a server stopping for want of kernels never leaves a kernel
attached to nothing. A
runtime whose process runs but does not answer is waited for, never doubled.
The server outlives the kernel that started it and stops itself once no kernel
has been attached for ``runtime_idle`` seconds.

Its state files are input like any other. A runtime is used only when
``server.json`` names a process of this user's that runs and listens at the
address it names, and the token file holds a token; otherwise (a file missing,
empty, cut short or garbled, a process that ended, a port another user holds)
nothing is sent there, and a kernel removes the files, stops this user's servers
of the data directory that no file names any more (no kernel could reach them,
and each would count the new runtime's kernels as its own), and starts a new one.

A run that starts kernels and then ends (the demo) stops the shared runtime it started with
:func:`stopping_shared_started_within`, rather than leave it waiting ``runtime_idle`` seconds
for kernels that never come.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from copilot_magic.errors import Advice, Remedy, RuntimeNotYours, RuntimeUnavailable
from copilot_magic.owner_only import OWNER_ONLY_UMASK
from copilot_magic.runtime.launcher import LIFELINE_LAG, START_TIMEOUT, STOP_TIMEOUT, descendants
from copilot_magic.runtime.listeners import MINE, NOBODY, port_owner
from copilot_magic.runtime.processes import is_mine, mine_in, stop_and_wait, terminate
from copilot_magic.runtime.served import (
    ServedRuntime,
    ServerState,
    attach,
    read_server_state,
    read_token,
    remove_server_files,
    server_folder,
    start_lock,
)

ANNOUNCED = "Kernels: COPILOT_MAGIC_RUNTIME="
SERVER_LOG = "server.log"
SERVING = "copilot_magic.runtime.serving"  # the serve loop: python -m SERVING, in the folder
SERVE_ERROR = "copilot-magic: error: "
ANSWER_WAIT = 10.0  # seconds a running but silent shared runtime has to answer
ANSWER_POLL = 0.2
STOP_WAIT = STOP_TIMEOUT + LIFELINE_LAG + 5.0  # seconds a stopped server has to end, then killed


def _servers_started_by_kernels(folder: Path) -> list[int]:
    """The serve loops kernels started in ``folder``: this version's, and those of versions
    before it (``python -m copilot_magic serve``), which would never stop otherwise."""
    return sorted({*mine_in(folder, SERVING), *mine_in(folder, "copilot_magic", "serve")})


def shared_runtime(
    data_path: Path,
    runtime: Callable[[], str],
    idle: float,
    start: bool = True,
    chosen: str = "",
) -> ServedRuntime | None:
    """The shared runtime of ``data_path``, this process attached to it. When none runs, one
    is started (``runtime()`` gives the binary) if ``start``, else the answer is ``None``.
    ``chosen`` is the runtime program this process's settings name ("" for any): a shared
    runtime that runs another one is refused in one line rather than used.
    ``None`` too when the data directory cannot be written to (its runtime folder and lock
    cannot be made): nothing can be shared there, and reading needs no more than a runtime
    of this process's own.

    One line (:class:`~copilot_magic.errors.RuntimeUnavailable`) when it cannot start, or
    runs and does not answer.
    """
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(start_lock(data_path))
        except OSError:  # a read-only data directory
            return None
        found = running_shared(data_path, wait=ANSWER_WAIT)
        if found is not None and chosen:
            _same_program(data_path, chosen)
        if found is None and start:
            forget_stale(data_path)
            found = _start(data_path, runtime(), idle)
        if found is not None:
            found.attachment = attach(data_path)
    return found


def _same_program(data_path: Path, chosen: str) -> None:
    """Refuse the running shared runtime if it runs another program than ``chosen``."""
    state = read_server_state(data_path)
    running = state.binary if state is not None else ""
    if running and running != os.path.realpath(chosen):
        pid = state.pid if state is not None else 0
        raise RuntimeUnavailable(
            f"The shared Copilot runtime of {data_path} runs {running}, not {chosen} (the "
            f"cli_path setting): stop the shared runtime (kill {pid}) to start it with yours, "
            "or set the runtime setting to own to use yours in this kernel alone.",
            advice=Advice(Remedy.SET_SETTING, setting="runtime", value="own"),
        )


def running_shared(data_path: Path, wait: float = 0.0) -> ServedRuntime | None:
    """The served runtime of ``data_path`` if its process runs and is this user's, once it
    listens (within ``wait`` seconds); ``None`` when no such runtime serves: no state file
    or a damaged one, a process that ended or is another user's, a port that another
    process holds (another user's gets nothing), a token file missing or damaged.

    A process that runs and does not listen within ``wait`` is one line
    (:class:`~copilot_magic.errors.RuntimeUnavailable`): starting a second runtime beside
    it would leave two servers on one data directory.
    """
    state = read_server_state(data_path)
    if state is None or not state.running() or not is_mine(state.pid):
        return None
    deadline = time.monotonic() + wait
    while True:
        try:
            owner = port_owner(state.address, holder=state.pid)
        except (RuntimeNotYours, ValueError):  # another user's port: stale, nothing is sent
            return None
        if owner == MINE:
            break
        if owner != NOBODY or not state.running():
            return None  # another of this user's processes holds it, or a damaged address
        if time.monotonic() > deadline:
            raise RuntimeUnavailable(
                f"The shared Copilot runtime of {data_path} (pid {state.pid}) runs but does "
                f"not answer at {state.address}: wait and try again, or stop it (kill "
                f"{state.pid}) and the next command starts a new one."
            )
        time.sleep(ANSWER_POLL)  # a busy machine: its port will answer
    token = read_token(data_path)
    if not token:
        return None
    return ServedRuntime(state.address, token, state.pid, state.started, shared=True)


def forget_stale(data_path: Path) -> None:
    """Before a new shared runtime starts (under the start lock): remove the state files
    that named no usable runtime, and stop this user's servers of the data directory, which
    no state file names now. No kernel can reach them any more, and each would count the
    new runtime's kernels as its own and never stop; a kernel using one sees its runtime
    stop, and its next cell moves to the new one with every completed turn."""
    folder = server_folder(data_path)
    for name in ("server.json", "token"):
        with contextlib.suppress(OSError):  # gone already; a serve that cannot replace it says so
            (folder / name).unlink()
    for pid in _servers_started_by_kernels(folder):
        terminate(pid)


def retire(data_path: Path, refused: ServedRuntime) -> None:
    """The shared runtime ``refused`` the token its token file holds (the file is not its
    own any more): forget it as a damaged file is forgotten, unless another kernel did so
    already and ``server.json`` names another runtime."""
    with start_lock(data_path):
        state = read_server_state(data_path)
        if state is None or (state.pid, state.address) == (refused.pid, refused.address):
            forget_stale(data_path)


@contextlib.contextmanager
def stopping_shared_started_within(data_path: Path) -> Iterator[None]:
    """Stop, on leaving the block (also on an error or an interrupt), the shared runtime of
    ``data_path`` that started inside it, as :func:`stop_shared` does.

    For a run that starts kernels and then ends, such as the demo: its runtime would
    otherwise wait ``runtime_idle`` seconds for kernels that never come. A shared runtime
    that already served when the block began (your own kernels') is left running: it is
    told apart by ``server.json``, which names the same runtime process (pid and process
    start time) at the end as at the beginning.
    """
    before = read_server_state(data_path)
    try:
        yield
    finally:
        stop_shared(data_path, spare=before)


def stop_shared(data_path: Path, spare: ServerState | None = None) -> bool:
    """Stop the shared runtime of ``data_path`` that a kernel or command started (see
    :func:`shared_runtime`), and wait until it has ended; whether one was stopped.

    Its ``copilot-magic serve`` is asked to stop (SIGTERM): it stops the runtime and
    removes its files; after ``STOP_WAIT`` seconds whatever still runs is killed. Nothing
    is stopped when no runtime runs, when the one running is ``spare`` (the same process),
    or when a person started it (``copilot-magic serve``, ``--with-server``: theirs to
    stop). It happens under the start lock, so no kernel attaches to it meanwhile; a kernel
    still attached to it moves to a new shared runtime at its next cell, with every
    completed turn.
    """
    with start_lock(data_path):
        state = read_server_state(data_path)
        if state is None or state == spare or not state.running() or not is_mine(state.pid):
            return False
        started_by_kernels = _servers_started_by_kernels(server_folder(data_path))
        servers = [pid for pid in started_by_kernels if state.pid in descendants(pid)]
        if not servers:
            return False
        family = [*servers, *descendants(servers[0])]  # its lifeline, the runtime and theirs
        if stop_and_wait(servers, family, STOP_WAIT):  # killed: it could not tidy up
            remove_server_files(data_path, state)
    return True


def _server_environment(data_path: Path, runtime: str) -> dict[str, str]:
    """The kernel's environment for the server, without copilot_magic's own settings: each
    kernel gives its provider and key with its own sessions, and a setting the kernel fixed
    with ``%config`` must not stop the server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_MAGIC_")}
    env.update(COPILOT_HOME=str(data_path), COPILOT_CLI_PATH=runtime)
    return env


def _start(data_path: Path, runtime: str, idle: float) -> ServedRuntime:
    """Start ``copilot-magic serve`` for ``data_path``; return once it serves."""
    log = server_folder(data_path) / SERVER_LOG
    command = [sys.executable, "-P", "-m", SERVING, "--idle", f"{idle:g}"]
    server = subprocess.Popen(
        [*command, "--log", str(log)],
        env=_server_environment(data_path, runtime),
        cwd=server_folder(data_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        umask=OWNER_ONLY_UMASK,  # its log and the runtime it starts are owner-only
    )
    # Reap the server whenever it ends (it may end while this kernel still runs).
    threading.Thread(target=server.wait, name="copilot-magic-shared", daemon=True).start()
    assert server.stdout is not None
    try:
        said = _announcement(server.stdout, START_TIMEOUT + 10)
    except BaseException:  # interrupted: the server was for this kernel, which gave up
        server.terminate()
        raise
    if not said.startswith(ANNOUNCED):
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(10)
        if server.poll() is None:
            server.terminate()
        if said.startswith(SERVE_ERROR):  # already a sentence that says what went wrong
            raise RuntimeUnavailable(said.removeprefix(SERVE_ERROR))
        raise RuntimeUnavailable(
            "The shared Copilot runtime did not start (copilot-magic serve "
            f"{'said: ' + said if said else 'said nothing'})."
        )
    found = running_shared(data_path, wait=ANSWER_WAIT)
    if found is None:
        raise RuntimeUnavailable("The shared Copilot runtime started but does not answer.")
    return found


def _announcement(stream: IO[str], timeout: float) -> str:
    """The server's last line, once it announced where it serves, failed or went quiet for
    ``timeout`` seconds; the stream is closed then."""
    said = ""
    deadline = time.monotonic() + timeout
    with stream, selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(deadline - time.monotonic()):
                break
            line = stream.readline()
            if not line:
                break
            said = line.strip() or said
            if said.startswith(ANNOUNCED) or said.startswith(SERVE_ERROR):
                break
    return said
