"""The rule a session id must follow, checked before anything reaches the runtime."""

from __future__ import annotations

import re

from copilot_magic.errors import InvalidSessionId

MAX_SESSION_ID_LENGTH = 250
_VALID = re.compile(r"[A-Za-z0-9_-]+")
RULE = (
    f"a session id is 1 to {MAX_SESSION_ID_LENGTH} characters of letters, digits, "
    "'-' and '_' (no spaces, dots or slashes)"
)


def is_session_id(text: str) -> bool:
    """Whether ``text`` follows the rule."""
    try:
        validate_session_id(text)
    except InvalidSessionId:
        return False
    return True


def validate_session_id(session_id: str) -> str:
    """Return ``session_id`` if it follows the rule; raise :class:`InvalidSessionId` if not."""
    if not session_id:
        raise InvalidSessionId(f"Empty session id: {RULE}.")
    if len(session_id) > MAX_SESSION_ID_LENGTH:
        raise InvalidSessionId(f"Session id is {len(session_id)} characters long: {RULE}.")
    if not _VALID.fullmatch(session_id):
        raise InvalidSessionId(f"Invalid session id {session_id!r}: {RULE}.")
    return session_id
