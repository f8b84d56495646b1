"""The list and the transcripts from the session files alone, when the runtime cannot start.

Reading needs no runtime: the history files hold every turn (see
:mod:`~copilot_magic.sessions.files`). Without the runtime's own list, a
session's title is its first prompt, its creation time the ``startTime`` of
its first event and its last activity the time its history (or, without
one, its folder) last changed.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime

from copilot_magic.errors import SessionDamaged, SessionNotFound
from copilot_magic.runtime.disk import made_by
from copilot_magic.sessions.files import SessionFiles
from copilot_magic.sessions.ids import validate_session_id
from copilot_magic.sessions.models import SessionSummary, in_utc, stored_title
from copilot_magic.sessions.transcript import Turn


def _started(files: SessionFiles, session_id: str) -> datetime | None:
    """The ``startTime`` of the ``session.start`` event, the history's first line."""
    with contextlib.suppress(OSError, ValueError, AttributeError, TypeError):
        with files.events_path(session_id).open("rb") as handle:
            first = json.loads(handle.readline())
        return in_utc(datetime.fromisoformat(first["data"]["startTime"]))
    return None


def _changed(files: SessionFiles, session_id: str) -> datetime | None:
    """When the session's folder last changed (for a session without a history file)."""
    try:
        return datetime.fromtimestamp(files.folder(session_id).stat().st_mtime, UTC)
    except OSError:
        return None


def summary_from_files(files: SessionFiles, session_id: str) -> SessionSummary:
    """One list line, from the session's folder. Raises :class:`SessionNotFound`."""
    if not files.folder(validate_session_id(session_id)).is_dir():
        raise SessionNotFound(f"No session {session_id!r} in {files.data_path}.")
    return _summary(files, session_id, set())


def _summary(files: SessionFiles, session_id: str, holds: set[str]) -> SessionSummary:
    scan = files.scan(session_id)
    return SessionSummary(
        session_id=session_id,
        title=stored_title(scan.first_prompt),
        created=_started(files, session_id),
        last_active=in_utc(files.last_active(session_id) or _changed(files, session_id)),
        turns=scan.turns,
        abstentions=scan.abstentions,
        held_elsewhere=session_id in holds or bool(files.holders(session_id, for_list=True)),
        damage=scan.damage,
        client=made_by(files.folder(session_id)),
    )


def summaries_from_files(files: SessionFiles, holds: set[str]) -> list[SessionSummary]:
    """Every session with a folder, most recently active first.

    ``holds``: the ids that kernels hold open now (``SessionClaims.held_by_others``).
    """
    summaries = [_summary(files, session_id, holds) for session_id in files.session_ids()]
    summaries.sort(key=lambda s: s.last_active or datetime.min.replace(tzinfo=UTC), reverse=True)
    return summaries


def history_from_files(files: SessionFiles, session_id: str) -> list[Turn]:
    """The session's turns, oldest first. Raises :class:`SessionNotFound`, or
    :class:`SessionDamaged` when its history is missing or empty."""
    damage = summary_from_files(files, session_id).damage
    if files.scan(session_id).unusable:
        raise SessionDamaged(f"Session {session_id!r} is damaged: {damage}, so it cannot be read.")
    return files.turns(session_id)
