"""Which kernel holds a session: the one that opened it last, until it lets go.

The runtime lets two processes resume the same session; each then keeps its
own context and both append to one history. Its own in-use locks appear only
once a message is sent, so copilot_magic keeps holds of its own: opening a
session writes ``<data dir>/copilot-magic/owners/<id>`` naming the holder (its
pid, the process's start time and a random part), letting go removes it, and a
hold whose process is gone (or whose pid now names a younger process) counts
for nothing. A session someone else holds is refused, and not deleted, unless
it is taken over. After a takeover the old holder still has the session open,
so it checks before every turn that the hold is still its own.

While a reply runs, its holder also marks ``copilot-magic/turns/<id>``: a
takeover waits for that reply to end, so each turn in the history belongs to
the prompt that produced it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import uuid
from pathlib import Path

from copilot_magic.errors import SessionBusy
from copilot_magic.owner_only import private_folder
from copilot_magic.runtime.processes import same_process, started_at, this_process_started
from copilot_magic.sessions.space import storage_error

OWNERS_DIR = Path("copilot-magic") / "owners"
TURNS_DIR = Path("copilot-magic") / "turns"
TAKEOVER_POLL = 0.1  # how often a takeover looks whether the other holder's reply ended


def new_holder_token() -> str:
    """What a hold holds: this process's id and start time, and a part unique to one holder."""
    return f"{os.getpid()} {this_process_started():.2f} {uuid.uuid4().hex}"


def live_pid(token: str | None) -> int | None:
    """The pid a token names, if that very process still runs."""
    parts = (token or "").split()
    try:
        pid = int(parts[0])
        started = float(parts[1]) if len(parts) > 2 else None
    except (IndexError, ValueError):
        return None
    if started is None:  # written by an older copilot_magic: the pid alone
        return pid if started_at(pid) is not None else None
    return pid if same_process(pid, started) else None


def _still_replying(session_id: str, holder: int, waited: float) -> SessionBusy:
    return SessionBusy(
        f"Session {session_id!r} is still replying in another kernel or process (pid "
        f"{holder}) after {waited:.0f} s, so it was not taken over: try again when that "
        "reply has ended."
    )


class SessionClaims:
    """The holds of one data directory, made on behalf of one holder (this object)."""

    def __init__(self, data_path: Path, token: str | None = None) -> None:
        self.folder = data_path / OWNERS_DIR
        self.turns = data_path / TURNS_DIR
        self.token = token or new_holder_token()
        self._mine: set[tuple[Path, str]] = set()  # (folder, session id) written by us

    def _write(self, folder: Path, session_id: str) -> None:
        """Write our token as ``folder/session_id`` at once (a reader sees old or new)."""
        temporary = ""
        try:
            handle, temporary = tempfile.mkstemp(dir=private_folder(folder), prefix=".claim-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(self.token)
            os.replace(temporary, folder / session_id)
        except OSError as error:
            if temporary:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
            raise storage_error(error, folder) from None
        self._mine.add((folder, session_id))

    def _remove_if_mine(self, folder: Path, session_id: str) -> None:
        if self._read(folder, session_id) == self.token:
            with contextlib.suppress(OSError):
                (folder / session_id).unlink()
        self._mine.discard((folder, session_id))

    @staticmethod
    def _read(folder: Path, session_id: str) -> str | None:
        try:
            return (folder / session_id).read_text(encoding="utf-8").strip()
        except OSError:
            return None

    def claim(self, session_id: str) -> None:
        """Hold the session: this holder is its writer from now on."""
        self._write(self.folder, session_id)

    def take(self, session_id: str, *, wait_limit: float | None = None) -> float:
        """Hold the session; with ``wait_limit`` (a takeover), let a running reply end first.

        Returns the seconds waited. The hold is written before looking for a
        running reply, and a holder marks its reply before checking its hold
        (:meth:`begin_turn`), so either the other holder sees the takeover before
        it sends, or the takeover sees its reply and waits until it is stored
        whole. A reply still running after ``wait_limit`` seconds is not waited
        for longer: :class:`SessionBusy`, and the hold is let go.
        """
        self.claim(session_id)
        if wait_limit is None or self.replying(session_id) is None:
            return 0.0
        started = time.monotonic()
        try:
            self._wait_for_reply(session_id, started + wait_limit)
        except BaseException:
            self.release(session_id)
            raise
        return time.monotonic() - started

    def _wait_for_reply(self, session_id: str, deadline: float) -> None:
        started = time.monotonic()
        while (holder := self.replying(session_id)) is not None:
            if time.monotonic() > deadline:
                raise _still_replying(session_id, holder, time.monotonic() - started)
            time.sleep(TAKEOVER_POLL)  # a reply in another process: nothing to wait on

    def stale(self, session_id: str) -> bool:
        """Whether the hold is no longer ours: our context may lack someone else's turns."""
        return self._read(self.folder, session_id) != self.token

    def other_holder(self, session_id: str) -> int | None:
        """The pid of the live process of another holder of the session, if any."""
        token = self._read(self.folder, session_id)
        return None if token == self.token else live_pid(token)

    def held_by_others(self) -> set[str]:
        """The ids of the sessions other live holders hold now."""
        try:
            names = os.listdir(self.folder)
        except OSError:
            return set()
        return {
            name
            for name in names
            if not name.startswith(".") and self.other_holder(name) is not None
        }

    def release(self, session_id: str) -> None:
        """Let go of the session (a hold someone else took since stays theirs)."""
        self._remove_if_mine(self.folder, session_id)
        self._remove_if_mine(self.turns, session_id)

    def release_all(self) -> None:
        """Let go of every session this holder holds (at exit)."""
        for folder, session_id in list(self._mine):
            self._remove_if_mine(folder, session_id)

    def begin_turn(self, session_id: str) -> None:
        """Mark a reply of ours as running (before checking that the hold is still ours)."""
        self._write(self.turns, session_id)

    def end_turn(self, session_id: str) -> None:
        self._remove_if_mine(self.turns, session_id)

    def replying(self, session_id: str) -> int | None:
        """The pid of another live holder whose reply in this session is running now."""
        token = self._read(self.turns, session_id)
        return None if token == self.token else live_pid(token)
