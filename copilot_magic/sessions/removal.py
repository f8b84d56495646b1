"""Removing sessions: delete with every trace, and clean-up by age.

The clean-up policy is :func:`plan_cleanup`, a pure function of the session list
(the panel's tests use it on their in-memory sessions); :class:`SessionRemover`
applies a plan, and deletes one session through the runtime, then purges what
the runtime leaves behind (see :mod:`~copilot_magic.runtime.disk`).
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from copilot_magic.errors import (
    InvalidArgument,
    RuntimeRefused,
    RuntimeUnavailable,
    SessionBusy,
    SessionNotFound,
)
from copilot_magic.runtime import sdk
from copilot_magic.runtime.disk import purge_session_records
from copilot_magic.sessions.models import CleanupPlan, SessionSummary
from copilot_magic.sessions.notebooks import sessions_of_notebook
from copilot_magic.sessions.reading import CALL_TIMEOUT
from copilot_magic.sessions.worker import SessionWorker

DAY = timedelta(days=1)
ACTIVE = "the active session"
HELD = "in use by another process"
STARRED = "starred"
RECENT = "used in the last hour"
SPARES_RECENT = timedelta(hours=1)  # no clean-up deletes what was just used


def plan_cleanup(
    sessions: Iterable[SessionSummary],
    older_than_days: int,
    *,
    now: datetime,
    protect: Iterable[str] = (),
    only: set[str] | None = None,
) -> CleanupPlan:
    """The sessions idle for more than ``older_than_days`` days, and those spared and why.

    ``protect`` (the active session), starred sessions, sessions held by another
    process and sessions used in the last hour (:data:`SPARES_RECENT`) are spared; with ``only``,
    sessions outside it are not considered at all.
    """
    if older_than_days < 0:
        raise InvalidArgument("The age for a clean-up is a number of days, 0 or more.")
    cutoff = now - older_than_days * DAY
    protected = set(protect)
    doomed, spared = [], []
    for summary in sessions:
        if only is not None and summary.session_id not in only:
            continue
        if summary.last_active is not None and summary.last_active > cutoff:
            continue
        recent = summary.last_active is not None and now - summary.last_active < SPARES_RECENT
        if summary.session_id in protected:
            spared.append((summary.session_id, ACTIVE))
        elif summary.starred:
            spared.append((summary.session_id, STARRED))
        elif summary.held_elsewhere:
            spared.append((summary.session_id, HELD))
        elif recent:
            spared.append((summary.session_id, RECENT))
        else:
            doomed.append(summary)
    return CleanupPlan(older_than_days, tuple(doomed), tuple(spared))


class SessionRemover(SessionWorker):
    """Deletes sessions of the current data directory."""

    @staticmethod
    def _held(session_id: str) -> SessionBusy:
        return SessionBusy(
            f"Session {session_id!r} is in use by another process; close it there first."
        )

    def delete(self, session_id: str) -> None:
        """Delete the session and every trace of it under the data directory."""
        places = self.places
        folder = places.files.folder(session_id)
        if not self.reader.exists(session_id) and not folder.is_dir():
            raise self.reader.not_found(session_id)
        client = self.bridge.client()
        if self.reader.held_elsewhere(session_id):
            raise self._held(session_id)
        self.live.let_go(session_id)
        try:
            self.bridge.call(client.delete_session(session_id), CALL_TIMEOUT)
        except (RuntimeError, RuntimeRefused) as error:
            message = sdk.refusal_text(error)
            if sdk.says_held_elsewhere(message):
                raise self._held(session_id) from None
            if not sdk.says_missing(message):
                raise RuntimeUnavailable(f"Could not delete {session_id!r}: {message}") from None
        if folder.is_dir():  # a damaged session the runtime does not know any more
            shutil.rmtree(folder, ignore_errors=True)
        places.files.forget(session_id)
        places.links.forget_session(session_id)
        places.marks.forget(session_id)
        places.claims.release(session_id)
        try:
            purge_session_records(places.data_path, session_id)
        except sqlite3.Error as error:
            raise RuntimeUnavailable(
                f"Deleted {session_id!r}, but could not clean the runtime's database: {error}"
            ) from None

    def plan_cleanup(
        self,
        older_than_days: int,
        protect: Iterable[str] = (),
        now: datetime | None = None,
        notebook: str | None = None,
    ) -> CleanupPlan:
        """What deleting sessions idle for more than ``older_than_days`` would remove.

        With ``notebook``, only the sessions tied to that notebook count; sessions
        used in the last hour are kept, as in every front end. Nothing is deleted here:
        pass the plan to :meth:`cleanup`.
        """
        only = (
            set(sessions_of_notebook(Path(notebook).expanduser().absolute(), self.places.links))
            if notebook
            else None
        )
        return plan_cleanup(
            self.reader.summaries(),
            older_than_days,
            now=now or datetime.now().astimezone(),
            protect=protect,
            only=only,
        )

    def cleanup(self, plan: CleanupPlan) -> list[str]:
        """Delete the sessions of a plan; returns the ids deleted (held and starred ones stay)."""
        deleted = []
        starred = self.places.marks.starred()  # a star given since the plan was made keeps it
        for summary in plan.doomed:
            if summary.session_id in starred:
                continue
            with contextlib.suppress(SessionBusy, SessionNotFound):  # changed since the plan
                self.delete(summary.session_id)
                deleted.append(summary.session_id)
        return deleted
