"""Reading sessions straight from the runtime's files, without resuming them.

The runtime keeps each session under ``<data dir>/session-state/<id>/``:
``events.jsonl`` (one JSON event a line) is its history, and a file
``inuse.<pid>.lock`` marks a process that holds it open (the formats are
:mod:`~copilot_magic.runtime.disk`'s, the one module that knows them). Reading these files
never changes a session, and is much faster than asking the runtime to parse
a whole history. Results are cached per file (by size and modification time),
so refreshing a list of a thousand sessions rereads only what changed.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from copilot_magic.runtime.disk import (
    SUB_AGENT,
    TYPED,
    history_path,
    line_prefix,
    lock_pid,
    records_turns,
    state_folder,
)
from copilot_magic.runtime.processes import alive_since
from copilot_magic.sessions.models import Usage
from copilot_magic.sessions.transcript import Turn, turns_from_events
from copilot_magic.values import plural

TAIL = 64 * 1024  # enough for the last record of a history, read to see it is whole
_USER_MESSAGE = line_prefix(b"user.message")
_ASSISTANT_MESSAGE = line_prefix(b"assistant.message")
_USAGE_RECORD = line_prefix(b"session.usage_record")
TRANSCRIPT_KINDS = (
    b"user.message",
    b"assistant.message",
    b"abort",
    b"session.error",
    b"tool.execution_start",
    b"tool.execution_complete",
)


@dataclass(frozen=True)
class SessionScan:
    """What one pass over a history file tells: counts, the first prompt, and damage.

    ``damage`` is empty for a sound history, else why it is not: the file is
    missing or empty though the runtime recorded turns of the session (they are
    lost, and it cannot be resumed), or some lines are not whole JSON records
    (the runtime skips them; their turns are lost). ``no_history``: the folder
    has no history yet (a session another client made and never used): not
    damage, and opening it begins the conversation.
    """

    turns: int
    abstentions: int
    first_prompt: str
    damage: str = ""
    usage: Usage | None = None  # the sum of the runtime's usage records; None without any
    no_history: bool = False

    @property
    def unusable(self) -> bool:
        """Whether the runtime cannot resume the session at all."""
        return self.damage in (MISSING, EMPTY)


MISSING = "its history file events.jsonl is missing"
EMPTY = "its history file events.jsonl is empty"


def _damage(bad_lines: list[int], torn_end: bool) -> str:
    """The reason for lines that are not whole JSON records, or ``""``."""
    reasons = []
    if bad_lines:
        count = len(bad_lines)
        reasons.append(
            f"{plural(count, 'unreadable line')} in its history (first at line {bad_lines[0]})"
        )
    if torn_end:
        reasons.append("its history ends in a torn line (an interrupted write)")
    return "; ".join(reasons)


def _file_key(path: str | Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


class SessionFiles:
    """The session files of one data directory; see the module docstring."""

    def __init__(self, data_path: Path, abstain_signal: str) -> None:
        self.data_path = data_path
        self._state = state_folder(data_path)  # str paths: lists stat a lot
        self.abstain_signal = abstain_signal
        self._signal_bytes = json.dumps(abstain_signal)[1:-1].encode() if abstain_signal else b""
        self._scans: dict[str, tuple[tuple[int, int], SessionScan]] = {}
        self._turns: dict[str, tuple[tuple[int, int], list[Turn]]] = {}
        self._locks: dict[str, tuple[int, list[tuple[int, float]]]] = {}  # folder mtime, locks

    def folder(self, session_id: str) -> Path:
        return Path(self._state, session_id)

    def events_path(self, session_id: str) -> Path:
        return Path(history_path(self.folder(session_id)))

    def session_ids(self) -> list[str]:
        """Ids of the sessions that have a folder, sorted."""
        try:
            with os.scandir(self._state) as entries:
                return sorted(e.name for e in entries if e.is_dir() and e.name[0] != ".")
        except OSError:
            return []

    def ends_whole(self, session_id: str) -> bool:
        """Whether the history file ends with a complete record (no torn last write)."""
        try:
            with open(self.events_path(session_id), "rb") as history:
                history.seek(max(0, os.fstat(history.fileno()).st_size - TAIL))
                tail = history.read()
        except OSError:
            return False
        last = tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]
        try:
            json.loads(last)
        except ValueError:
            return False
        return tail.endswith(b"\n")

    def last_active(self, session_id: str) -> datetime | None:
        key = _file_key(self.events_path(session_id))
        return None if key is None else datetime.fromtimestamp(key[0] / 1e9).astimezone()

    def events(
        self, session_id: str, kinds: tuple[bytes, ...] | None = None
    ) -> list[dict[str, Any]]:
        """The history's events as dictionaries; a torn last line is skipped.

        With ``kinds`` (event types as bytes), lines of other types are skipped
        without being parsed: most of a history is the system prompt, repeated
        every turn. A line not in the runtime's ``{"type":...`` shape is always parsed.
        The file is read whole and closed before this returns.
        """
        prefixes = tuple(line_prefix(kind) for kind in kinds or ())
        records: list[dict[str, Any]] = []
        try:
            with self.events_path(session_id).open("rb") as handle:
                for line in handle:
                    if prefixes and line.startswith(TYPED) and not line.startswith(prefixes):
                        continue
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(record, dict):
                        records.append(record)
        except FileNotFoundError:
            pass
        return records

    def scan(self, session_id: str) -> SessionScan:
        """Turn and abstention counts and the first prompt, from one pass over raw lines."""
        path = history_path(os.path.join(self._state, session_id))
        key = _file_key(path)
        if key is None or key[1] == 0:
            if key is None and not self.folder(session_id).is_dir():
                return SessionScan(0, 0, "")  # no such session
            # No history yet, unless the runtime's store has turns of it (then it was lost);
            # a session being created has an empty file for a moment, while its holder lives.
            lost = not self.holders(session_id) and records_turns(self.data_path, session_id)
            damage = (EMPTY if key else MISSING) if lost else ""
            return SessionScan(0, 0, "", damage, no_history=not lost)
        cached = self._scans.get(session_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        turns = abstentions = 0
        first_prompt = ""
        bad_lines: list[int] = []
        torn_end = False
        prompts_seen: set[int] = set()  # a write retried after a full disk repeats lines
        usage = _UsageSum(session_id)
        with open(path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                if not line.endswith(b"\n"):
                    torn_end = True
                    continue
                if not (line.startswith(b"{") and line.endswith(b"}\n")):
                    bad_lines.append(number)
                    continue
                if line.startswith(_USAGE_RECORD):
                    usage.add(line)
                    continue
                if SUB_AGENT in line:
                    continue
                if line.startswith(_USER_MESSAGE):
                    if hash(line) in prompts_seen:
                        continue
                    prompts_seen.add(hash(line))
                    turns += 1
                    if not first_prompt:
                        first_prompt = _content_of(line)
                elif (
                    self._signal_bytes
                    and line.startswith(_ASSISTANT_MESSAGE)
                    and self._signal_bytes in line
                    and self.abstain_signal in _content_of(line)
                ):
                    abstentions += 1
        damage = _damage(bad_lines, torn_end)
        scan = SessionScan(turns, abstentions, first_prompt, damage, usage.total())
        self._scans[session_id] = (key, scan)
        return scan

    def turns(self, session_id: str) -> list[Turn]:
        """The whole transcript, parsed once per change of the file."""
        key = _file_key(self.events_path(session_id))
        if key is None:
            return []
        cached = self._turns.get(session_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        turns = turns_from_events(self.events(session_id, TRANSCRIPT_KINDS), self.abstain_signal)
        self._turns[session_id] = (key, turns)
        return turns

    def prompt_events(self, session_id: str) -> list[str]:
        """The event ids of the session's prompts, oldest first (where each turn starts)."""
        found: dict[str, None] = {}
        for event in self.events(session_id, (b"user.message",)):
            if not event.get("agentId") and event.get("id"):
                found[str(event["id"])] = None
        return list(found)

    def model(self, session_id: str) -> str:
        """The model of the session's latest reply (or the one it started with), if recorded."""
        model = ""
        for event in self.events(session_id, (b"session.start", b"assistant.message")):
            data = event.get("data") or {}
            model = str(data.get("model") or data.get("selectedModel") or model)
        return model

    def holders(self, session_id: str, *, for_list: bool = False) -> list[int]:
        """Pids of live processes that hold the session open (the runtime's in-use locks).

        A lock whose pid now names a process that started after the lock was
        written is a leftover of a process that is gone (its pid was reused).
        ``for_list=True`` reads the folder again only when its time changed: quick
        for a list of many sessions, but a lock made in the same clock tick as the
        last read can be missed. Decisions (open, delete) read it every time.
        """
        return [pid for pid, made in self._locks_of(session_id, for_list) if alive_since(pid, made)]

    def _locks_of(self, session_id: str, cached_ok: bool) -> list[tuple[int, float]]:
        """The pids named by the folder's ``inuse.<pid>.lock`` files, with when each was made."""
        folder = os.path.join(self._state, session_id)
        try:
            changed = os.stat(folder).st_mtime_ns if cached_ok else 0
            cached = self._locks.get(session_id)
            if cached_ok and cached is not None and cached[0] == changed:
                return cached[1]
            names = os.listdir(folder)
        except OSError:
            return []
        locks = []
        for name in names:
            pid = lock_pid(name)
            if pid is not None:
                with contextlib.suppress(OSError):
                    locks.append((pid, os.stat(os.path.join(folder, name)).st_mtime))
        if cached_ok:
            self._locks[session_id] = (changed, locks)
        return locks

    def forget(self, session_id: str) -> None:
        self._scans.pop(session_id, None)
        self._turns.pop(session_id, None)
        self._locks.pop(session_id, None)


class _UsageSum:
    """Adds up ``session.usage_record`` events: one per model request, made by this
    session (a fork's history holds copies of its source's records)."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.tokens_in = self.tokens_out = self.requests = 0
        self.models: dict[str, None] = {}

    def add(self, line: bytes) -> None:
        try:
            usage = (json.loads(line).get("data") or {}).get("usage") or {}
        except (ValueError, AttributeError):
            return
        source = (usage.get("accounting") or {}).get("sourceSessionId")
        if source not in (None, self.session_id):
            return
        self.requests += 1
        self.tokens_in += int(usage.get("inputTokens") or 0)
        self.tokens_out += int(usage.get("outputTokens") or 0)
        if usage.get("model"):
            self.models[str(usage["model"])] = None

    def total(self) -> Usage | None:
        if not self.requests:
            return None
        return Usage(self.tokens_in, self.tokens_out, self.requests, tuple(self.models))


def _content_of(line: bytes) -> str:
    try:
        record = json.loads(line)
    except ValueError:
        return ""
    return str((record.get("data") or {}).get("content", ""))
