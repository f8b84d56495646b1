"""What the operations on stored sessions (controls, removal) work with."""

from __future__ import annotations

from dataclasses import dataclass

from copilot_magic.runtime.bridge import RuntimeBridge
from copilot_magic.sessions.live import LiveSessions
from copilot_magic.sessions.places import DataPlaces
from copilot_magic.sessions.reading import SessionReader


@dataclass
class SessionWorker:
    """The runtime, the data directory's places, the reader and this kernel's open sessions,
    shared by every part of the store that changes stored sessions."""

    bridge: RuntimeBridge
    places: DataPlaces
    reader: SessionReader
    live: LiveSessions
