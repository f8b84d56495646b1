"""The metadata a ``%%copilot`` output carries, in one place for its writers and readers.

The live reply and the export write it; the notebook tie reads it back from a
saved notebook to find the notebook's conversation. Under the key
``copilot_magic``: the session id, the turn's number, its :class:`Stage` and
whether Copilot abstained. A reply that went on under something the cell showed
in the middle of it (the code Copilot asked to run, the question, what the code
printed) is several outputs, one per part, each with this metadata; the second
and later say which ``part`` they are (2, 3, ...). An exported notebook also
carries it at notebook level: ``{"session_id": ..., "exported": True}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

METADATA_KEY = "copilot_magic"


class Stage(StrEnum):
    """Where a reply is in its life."""

    WAITING = "waiting"
    STREAMING = "streaming"
    WAITING_FOR_YOU = "waiting-for-you"  # the person is asked something under the reply
    CONTINUED = "continued"  # this part is final; the reply goes on in the next output
    DONE = "done"
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    FROM_HISTORY = "history"  # shown again from the stored history; nothing was sent


def reply_metadata(
    session_id: str, turn: int, stage: Stage, abstained: bool, part: int = 1
) -> dict[str, Any]:
    """The metadata of one reply's output (``part`` of the reply: see the module docstring)."""
    recorded: dict[str, Any] = {
        "session_id": session_id,
        "turn": turn,
        "stage": stage.value,
        "abstained": abstained,
    }
    if part > 1:
        recorded["part"] = part
    return {METADATA_KEY: recorded}


def exported_metadata(session_id: str) -> dict[str, Any]:
    """The notebook-level metadata of an exported conversation."""
    return {METADATA_KEY: {"session_id": session_id, "exported": True}}


def session_of(metadata: Mapping[str, Any] | None) -> str | None:
    """The session id recorded in an output's (or a notebook's) metadata, if any."""
    recorded = (metadata or {}).get(METADATA_KEY)
    session_id = recorded.get("session_id") if isinstance(recorded, Mapping) else None
    return session_id if isinstance(session_id, str) else None
