"""A Copilot runtime that a ``copilot-magic serve`` process serves, and its files.

``copilot-magic serve`` runs one runtime in server mode for a data directory
and keeps its files in ``<data dir>/copilot-magic/runtime/<host>/``:

- ``server.json``: the address, the runtime's process id and when that process
  started (so a later process given the same pid is never taken for it);
- ``token``: the random token a client must give, readable by its owner only;
- ``kernels/<pid>-<random>``: one file per attached kernel (or command), holding
  when its process started. A served runtime started with an idle limit stops once no
  attached kernel's process has run for that long; a killed kernel stops counting at
  once;
- ``start.lock``: taken to start a server, to attach to it, and by a server
  before it stops for want of kernels, so that none of these can cross.

A kernel whose ``runtime`` setting is ``shared`` or an address connects to such
a server instead of starting a runtime of its own. The files never hold a
provider's key: each kernel gives its own provider with each session.

The files are input like any other: a missing, empty or damaged one reads as no
server (or no token), never as an error. Before anything is sent to an address of
this machine, its listening socket must be this user's
(:mod:`~copilot_magic.runtime.listeners`); the token file is read for an address
only while the process ``server.json`` names runs and listens there.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from copilot_magic.errors import Advice, Remedy, RuntimeNotYours, RuntimeUnavailable
from copilot_magic.owner_only import FILE_MODE, private_folder, write_private
from copilot_magic.runtime.launcher import sound_token
from copilot_magic.runtime.listeners import MINE, NOBODY, port_owner
from copilot_magic.runtime.processes import (
    is_mine,
    same_process,
    started_at,
    still_running,
    this_process_started,
)

PROBE_TIMEOUT = 0.5  # seconds a served runtime has to accept a connection when checked
LOCK_WAIT = 90.0  # seconds a kernel waits for another that starts the shared runtime


def server_folder(data_path: Path) -> Path:
    """The runtime folder of this machine: a data directory shared between machines (a home
    on NFS) has one per machine, since a server serves its own machine's kernels only."""
    return data_path / "copilot-magic" / "runtime" / socket.gethostname()


@contextlib.contextmanager
def start_lock(data_path: Path, wait: float = LOCK_WAIT) -> Iterator[None]:
    """Hold the server folder's lock: one process at a time starts, attaches or stops.

    Raises :class:`OSError` when the folder cannot be made (a read-only data directory),
    and :class:`~copilot_magic.errors.RuntimeUnavailable` after ``wait`` seconds in which
    another process held it.
    """
    folder = private_folder(server_folder(data_path))
    lock = FileLock(folder / "start.lock", timeout=wait, mode=FILE_MODE)
    try:
        lock.acquire()
    except Timeout:
        raise RuntimeUnavailable(
            f"Another process has been starting the shared Copilot runtime of "
            f"{data_path} for {wait:g} s: try again, or set the runtime setting to own.",
            advice=Advice(Remedy.SET_SETTING, setting="runtime", value="own"),
        ) from None
    try:
        yield
    finally:
        lock.release()


@dataclass(frozen=True)
class ServerState:
    """What ``server.json`` says of a served runtime."""

    address: str
    pid: int
    started: float
    binary: str = ""  # the runtime program it runs

    @classmethod
    def of(cls, address: str, pid: int, binary: str = "") -> ServerState:
        """The state of the runtime process ``pid`` serving at ``address``, as it is now."""
        return cls(address, pid, started_at(pid) or 0.0, binary)

    def running(self) -> bool:
        """Whether the runtime's process still runs (the same process, not a reused pid)."""
        return self.pid > 0 and same_process(self.pid, self.started)

    def serves_here(self) -> bool:
        """Whether the runtime's process still runs, as this user, and listens (it or a
        process it started) at its address: what a port someone else took is not."""
        if not (self.running() and is_mine(self.pid)):
            return False
        with contextlib.suppress(RuntimeNotYours, ValueError):
            return port_owner(self.address, holder=self.pid) == MINE
        return False


def write_server_files(data_path: Path, state: ServerState, token: str) -> Path:
    """Write ``server.json`` and the owner-only ``token`` file; returns the token file."""
    folder = private_folder(server_folder(data_path))
    token_file = folder / "token"
    with contextlib.suppress(FileNotFoundError):
        token_file.unlink()
    descriptor = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        stream.write(token)
    written = folder / f".server-{os.getpid()}.json"
    write_private(written, json.dumps(asdict(state)))
    os.replace(written, folder / "server.json")  # readers see all of it or none
    return token_file


def remove_server_files(data_path: Path, state: ServerState) -> None:
    """Remove the files of the server ``state`` describes (not a later server's)."""
    if read_server_state(data_path) == state:
        for name in ("server.json", "token"):
            with contextlib.suppress(FileNotFoundError):
                (server_folder(data_path) / name).unlink()


def read_server_state(data_path: Path) -> ServerState | None:
    try:
        found = json.loads((server_folder(data_path) / "server.json").read_text())
        address, pid, started = str(found["address"]), int(found["pid"]), float(found["started"])
        return ServerState(address, pid, started, str(found.get("binary", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_token(data_path: Path) -> str:
    """The token of the server of ``data_path``: "" when there is none, or the file is empty,
    unreadable or holds anything but a token (cut short, garbled)."""
    try:
        token = (server_folder(data_path) / "token").read_text().strip()
    except (OSError, ValueError):  # a token that is not text is no token
        return ""
    return token if sound_token(token) else ""


# -- kernels attached to a served runtime ---------------------------------------------------
def attach(data_path: Path) -> Path:
    """Count this process as a kernel of the served runtime of ``data_path``; its file."""
    kernels = private_folder(server_folder(data_path) / "kernels")
    attachment = kernels / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    write_private(attachment, repr(this_process_started()))
    return attachment


def attached_kernels(data_path: Path) -> int:
    """How many kernels are attached; the files of processes that ended are removed."""
    count = 0
    for attachment in (server_folder(data_path) / "kernels").glob("[0-9]*-*"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(attachment.name.partition("-")[0])
            if still_running(pid, float(attachment.read_text())):
                count += 1
            else:
                attachment.unlink()
    return count


@dataclass
class ServedRuntime:
    """A runtime served at ``address``: this process connects to it, and never stops it."""

    address: str
    token: str = field(repr=False)  # never shown: whoever has it can drive the runtime
    pid: int = 0  # from server.json, when the server is on this machine
    started: float = 0.0  # when that process started, from server.json
    attachment: Path | None = None  # this process's file in kernels/, while attached
    shared: bool = False  # the shared runtime of a data directory, its token from the file

    def attach(self, data_path: Path) -> ServedRuntime:
        """Count this process as one of the runtime's kernels (under the start lock, so the
        server cannot stop between its last count and this file); returns itself."""
        with start_lock(data_path):
            self.attachment = attach(data_path)
        return self

    @classmethod
    def find(cls, address: str, given_token: str, data_path: Path) -> ServedRuntime:
        """The runtime at ``address``, with its token: ``given_token``, else the token file
        of the server ``server.json`` names at that address, while its process runs and
        listens there. One line when there is none.

        On this machine, the socket listening there must be this user's: another user's
        is refused in one line that names the port and its owner, before anything (a
        connection, a token) goes to it. Another machine's address cannot be proven so; it
        is reached only with ``given_token``, which the person chose to send there.
        """
        owner = port_owner(address)  # one line when it is not ours: nothing sent
        if owner == NOBODY or not cls(address, "", 0).answers():
            raise RuntimeUnavailable(
                f"No Copilot runtime answers at {address}: start it with `copilot-magic serve`, "
                "or set the runtime setting to shared or own.",
                advice=Advice(Remedy.SET_SETTING, setting="runtime"),
            )
        state = read_server_state(data_path)
        ours = owner == MINE and state is not None and state.address == address
        ours = ours and state is not None and state.serves_here()  # not a stale file's token
        token = given_token or (read_token(data_path) if ours else "")
        if not token:
            raise RuntimeUnavailable(
                f"No token for the Copilot runtime at {address}: set "
                "COPILOT_MAGIC_RUNTIME_TOKEN, or use the data directory of the "
                "`copilot-magic serve` that runs it (its token file is there)."
            )
        if not ours or state is None:
            return cls(address, token)
        return cls(address, token, state.pid, state.started).attach(data_path)

    def answers(self) -> bool:
        """Whether something accepts connections at the address now."""
        host, _, port = self.address.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), PROBE_TIMEOUT):
                return True
        except OSError:
            return False

    def exit_code(self) -> int | None:
        """``None`` while the served runtime runs; 1 once it is gone."""
        if self.pid and self.started:
            return None if same_process(self.pid, self.started) else 1
        if self.pid:
            return None if started_at(self.pid) is not None else 1
        return None if self.answers() else 1

    def stop(self) -> None:
        """Let go of the runtime (it no longer counts this process); the server lives on."""
        if self.attachment is not None:
            with contextlib.suppress(OSError):
                self.attachment.unlink()
            self.attachment = None
