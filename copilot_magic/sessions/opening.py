"""Creating and resuming a session in the runtime, once this process holds it.

A create that fails leaves nothing behind. A resume on a shared runtime may
find the session still open there for a client that held it before (a kernel
taken over from, or one that is gone): the runtime keeps that client's tools
registered with the session and refuses another's, so it is told to close the
session first. Nothing here imports IPython.
"""

from __future__ import annotations

import shutil
from typing import Any

from copilot_magic.errors import RuntimeRefused, RuntimeUnavailable
from copilot_magic.runtime import sdk
from copilot_magic.runtime.bridge import RuntimeBridge
from copilot_magic.sessions.models import NAME_LIMIT, OUR_CLIENT
from copilot_magic.sessions.places import DataPlaces
from copilot_magic.sessions.reading import CALL_TIMEOUT, SessionReader
from copilot_magic.sessions.space import disk_full, free_bytes


def create_session(
    bridge: RuntimeBridge, places: DataPlaces, client: Any, session_id: str, kwargs: dict[str, Any]
) -> Any:
    """Create the session (named after its id until a title comes, recorded as made by
    copilot_magic); a failed create leaves nothing behind. A session another client made
    and never used (a folder with no history) is begun the same way, and its folder kept."""
    folder = places.files.folder(session_id)
    made_elsewhere = folder.is_dir()
    try:
        return bridge.call(
            client.create_session(
                session_id=session_id,
                name=session_id[:NAME_LIMIT],
                client_name=OUR_CLIENT,
                **kwargs,
            ),
            CALL_TIMEOUT,
        )
    except BaseException as error:
        if not made_elsewhere:
            shutil.rmtree(folder, ignore_errors=True)
        places.files.forget(session_id)
        if isinstance(error, RuntimeRefused) and sdk.says_disk_full(error.detail):
            raise disk_full(places.data_path, free_bytes(places.data_path)) from None
        raise


def resume_session(
    bridge: RuntimeBridge,
    reader: SessionReader,
    client: Any,
    session_id: str,
    kwargs: dict[str, Any],
) -> Any:
    """Resume the session, which this process holds now; if another client still has it open
    in the runtime with the same tools, the runtime closes it and the resume is tried again."""
    try:
        return bridge.call(client.resume_session(session_id, **kwargs), CALL_TIMEOUT)
    except RuntimeRefused as error:
        if not sdk.says_tools_taken(error.detail):
            raise _not_resumed(reader, session_id, error) from None
    bridge.call(sdk.close_in_runtime(client, session_id), CALL_TIMEOUT)
    try:
        return bridge.call(client.resume_session(session_id, **kwargs), CALL_TIMEOUT)
    except RuntimeRefused as error:
        raise _not_resumed(reader, session_id, error) from None


def _not_resumed(reader: SessionReader, session_id: str, error: RuntimeRefused) -> Exception:
    if sdk.says_missing(error.detail):
        return reader.not_found(session_id)
    return RuntimeUnavailable(f"Could not resume {session_id!r}: {error.detail}")
