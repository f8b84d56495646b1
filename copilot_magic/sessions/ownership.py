"""Which kernel may write to a session: the last one that opened it.

The runtime lets two processes resume the same session; each then keeps its
own context and both append to one history. copilot_magic refuses a session
another process holds open, unless asked to take it over. After a takeover the
old holder still has the session open, so each opener writes a claim,
``<data dir>/copilot-magic/owners/<id>``, and checks before every turn that the
claim is still its own. If it is not, its context may lack the other's turns:
it is refused while the other process lives, and reloads the session from disk
once that process has exited.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from pathlib import Path

from copilot_magic.sessions.files import pid_alive

OWNERS_DIR = Path("copilot-magic") / "owners"


def new_holder_token() -> str:
    """What a claim file holds: this process's id and a random part, unique to one holder."""
    return f"{os.getpid()} {uuid.uuid4().hex}"


class SessionClaims:
    """The claims of one data directory, made on behalf of one holder (this object)."""

    def __init__(self, data_path: Path, token: str | None = None) -> None:
        self.folder = data_path / OWNERS_DIR
        self.token = token or new_holder_token()

    def _path(self, session_id: str) -> Path:
        return self.folder / session_id

    def claim(self, session_id: str) -> None:
        """Make this holder the session's writer (atomically: a reader sees old or new)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".claim-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(self.token)
        os.replace(temporary, self._path(session_id))

    def _token(self, session_id: str) -> str | None:
        try:
            return self._path(session_id).read_text(encoding="utf-8").strip()
        except OSError:
            return None

    def stale(self, session_id: str) -> bool:
        """Whether someone claimed the session after us: our context may lack their turns."""
        token = self._token(session_id)
        return token is not None and token != self.token

    def other_holder(self, session_id: str) -> int | None:
        """The pid of the live process that claimed the session after us, if any."""
        token = self._token(session_id)
        if token is None or token == self.token:
            return None
        try:
            pid = int(token.split()[0])
        except (IndexError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def release(self, session_id: str) -> None:
        """Forget the session's claim (it was deleted)."""
        with contextlib.suppress(OSError):
            self._path(session_id).unlink()
