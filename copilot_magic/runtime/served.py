"""A Copilot runtime that another process serves (``copilot-magic serve``), and its files.

``copilot-magic serve`` runs one runtime in server mode for a data directory
and writes two files in ``<data dir>/copilot-magic/runtime/``: ``server.json``
(the address and the runtime's process id) and ``token`` (the random token a
client must give, readable by its owner only). A kernel whose ``runtime``
setting is that address connects there instead of starting a runtime of its
own; its token is ``COPILOT_MAGIC_RUNTIME_TOKEN`` when set, else the token
file of a server at that address. The files never hold a provider's key:
each kernel gives its own provider with each session.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from copilot_magic.errors import RuntimeUnavailable

PROBE_TIMEOUT = 0.5  # seconds a served runtime has to accept a connection when checked


def server_folder(data_path: Path) -> Path:
    return data_path / "copilot-magic" / "runtime"


@dataclass(frozen=True)
class ServerState:
    """What ``server.json`` says of a served runtime."""

    address: str
    pid: int


def write_server_files(data_path: Path, state: ServerState, token: str) -> Path:
    """Write ``server.json`` and the owner-only ``token`` file; returns the token file."""
    folder = server_folder(data_path)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    token_file = folder / "token"
    with contextlib.suppress(FileNotFoundError):
        token_file.unlink()
    descriptor = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        stream.write(token)
    state_file = folder / "server.json"
    state_file.write_text(json.dumps({"address": state.address, "pid": state.pid}))
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
        return ServerState(str(found["address"]), int(found["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


@dataclass
class ServedRuntime:
    """A runtime served at ``address``: this process connects to it, and never stops it."""

    address: str
    token: str = field(repr=False)  # never shown: whoever has it can drive the runtime
    pid: int = 0  # from server.json, when the server is on this machine

    @classmethod
    def find(cls, address: str, given_token: str, data_path: Path) -> ServedRuntime:
        """The runtime at ``address``, with its token: ``given_token``, else the token file
        of the server ``server.json`` names at that address. One line when there is none."""
        if not cls(address, "", 0).answers():
            raise RuntimeUnavailable(
                f"No Copilot runtime answers at {address}: start it with `copilot-magic serve`, "
                "or set CopilotMagics.runtime to own."
            )
        state = read_server_state(data_path)
        pid = state.pid if state and state.address == address else 0
        token = given_token
        if not token and pid:
            with contextlib.suppress(OSError):
                token = (server_folder(data_path) / "token").read_text().strip()
        if not token:
            raise RuntimeUnavailable(
                f"No token for the Copilot runtime at {address}: set "
                "COPILOT_MAGIC_RUNTIME_TOKEN, or use the data directory of the "
                "`copilot-magic serve` that runs it (its token file is there)."
            )
        return cls(address, token, pid)

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
        if self.pid:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return 1
            except OSError:
                pass  # another user's process: ask the port instead
            else:
                return None
        return None if self.answers() else 1

    def stop(self) -> None:
        """Nothing to stop: the server outlives its clients."""
