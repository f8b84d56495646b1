"""Many sessions, or one very long session, built quickly from real runtime files.

Making a thousand sessions through the runtime takes minutes, and a
5,000-turn conversation longer still. These builders start from sessions the
real runtime wrote (so every line has the shape the runtime writes and reads
back) and copy them on disk:

* :func:`clone_session` copies ``session-state/<id>/`` under a new id and
  rewrites the id inside its files. What the runtime needs for a session to be
  listed and resumed was found by experiment (runtime 1.0.102):
  ``list_sessions`` and ``get_session_metadata`` read the session folders
  only. A folder with ``events.jsonl`` is listed; ``workspace.yaml`` adds the
  name, summary and working directory; a folder with only ``workspace.yaml`` is
  not listed. ``session-store.db`` is not consulted (a data directory whose
  database was deleted lists the same sessions); the runtime adds a clone's
  rows there itself when the clone is next resumed and used.
* :func:`build_long_session` replicates the lines of a real turn into a
  history of any length, with fresh ids, times and contents for every turn.

Nothing here talks to the runtime: the caller makes the source sessions with
it, closes them, then builds, and then checks the result through the runtime.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

EVENTS = "events.jsonl"
WORKSPACE = "workspace.yaml"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_HOLDS = ("inuse.*",)  # the in-use markers of the processes that held the source


def session_folder(data_dir: Path, session_id: str) -> Path:
    """Where the runtime keeps a session: ``<data dir>/session-state/<id>/``."""
    return data_dir / "session-state" / session_id


def _events(folder: Path) -> list[dict[str, Any]]:
    with (folder / EVENTS).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _line(event: dict[str, Any]) -> str:
    """One event as the runtime writes it: compact JSON, keys in their original order."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n"


def _copy_folder(source: Path, target: Path) -> None:
    """The session's folder without the in-use markers of the processes that held it."""
    if target.exists():
        raise FileExistsError(f"{target} exists already")
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*_HOLDS))


def _rewrite_workspace(folder: Path, source_id: str, new_id: str) -> None:
    """Point ``workspace.yaml``'s ``id`` and ``name`` at ``new_id``."""
    path = folder / WORKSPACE
    if not path.exists():
        return
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for key in ("id", "name"):
        lines = [
            f"{key}: {new_id}\n" if line.rstrip("\n") == f"{key}: {source_id}" else line
            for line in lines
        ]
    path.write_text("".join(lines), encoding="utf-8")


def clone_session(data_dir: Path, source_id: str, new_id: str) -> Path:
    """Copy session ``source_id`` as ``new_id`` (same history) and return its folder.

    The id is rewritten wherever the runtime wrote it: as a JSON string in
    ``events.jsonl`` (``sessionId``, the accounting ids and keys) and as the
    ``id`` and ``name`` of ``workspace.yaml``. Pick a ``source_id`` that no
    prompt or reply of the source contains.
    """
    source, target = session_folder(data_dir, source_id), session_folder(data_dir, new_id)
    _copy_folder(source, target)
    events = target / EVENTS
    text = events.read_text(encoding="utf-8")
    events.write_text(text.replace(json.dumps(source_id), json.dumps(new_id)), encoding="utf-8")
    _rewrite_workspace(target, source_id, new_id)
    return target


def clone_sessions(data_dir: Path, source_ids: list[str], ids: list[str]) -> dict[str, str]:
    """Clone the sources round-robin under each of ``ids``; returns each new id's source."""
    sources = {new_id: source_ids[n % len(source_ids)] for n, new_id in enumerate(ids)}
    for new_id, source_id in sources.items():
        clone_session(data_dir, source_id, new_id)
    return sources


def _split_turns(
    events: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]], list[dict[str, Any]]]:
    """The events before the first prompt, each turn's events, and the events after the last."""
    head: list[dict[str, Any]] = []
    turns: list[list[dict[str, Any]]] = []
    for event in events:
        if event["type"] == "user.message":
            turns.append([event])
        elif turns:
            turns[-1].append(event)
        else:
            head.append(event)
    tail: list[dict[str, Any]] = []
    if turns:
        last = turns[-1]
        ends = [i for i, e in enumerate(last) if e["type"] == "assistant.turn_end"]
        if ends:
            tail, turns[-1] = last[ends[-1] + 1 :], last[: ends[-1] + 1]
    return head, turns, tail


def _fresh_ids(value: Any, mapping: dict[str, str]) -> Any:
    """``value`` with every UUID string replaced, consistently within one ``mapping``."""
    if isinstance(value, dict):
        return {key: _fresh_ids(item, mapping) for key, item in value.items()}
    if isinstance(value, list):
        return [_fresh_ids(item, mapping) for item in value]
    if isinstance(value, str) and _UUID.match(value):
        return mapping.setdefault(value, str(uuid.uuid4()))
    return value


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def build_long_session(
    data_dir: Path,
    source_id: str,
    new_id: str,
    turns: int,
    *,
    prompt: Callable[[int], str],
    reply: Callable[[int], str],
    dated: bool = True,
) -> Path:
    """Write session ``new_id`` with ``turns`` turns made from the real lines of ``source_id``.

    ``source_id`` must have at least two completed turns: its first turn (with
    the system prompt) is the template of turn 1, its second of every later
    turn. Turn ``n`` (from 1) gets ``prompt(n)`` and ``reply(n)`` as contents,
    fresh UUIDs everywhere, a linear ``parentId`` chain and times one second
    apart ending now. The source's other files are copied, its id rewritten.
    Returns the new session's folder.

    The runtime sends the model each prompt's ``transformedContent``: the
    prompt behind a ``<current_datetime>`` line, about 30 tokens more per turn.
    With ``dated=False`` it is the bare prompt, so that 5,000 turns fit in the
    128,000-token prompt budget the runtime gives a BYOK model by default.
    """
    source, target = session_folder(data_dir, source_id), session_folder(data_dir, new_id)
    head, source_turns, tail = _split_turns(_events(source))
    if len(source_turns) < 2:
        raise ValueError(f"{source_id} has {len(source_turns)} turns; two are needed")
    _copy_folder(source, target)
    _rewrite_workspace(target, source_id, new_id)
    start = datetime.now(UTC) - timedelta(seconds=turns + 10)
    previous: str | None = None
    with (target / EVENTS).open("w", encoding="utf-8") as out:

        def emit(event: dict[str, Any], moment: datetime) -> None:
            nonlocal previous
            event["timestamp"] = _stamp(moment)
            event["parentId"] = previous
            previous = event["id"]
            out.write(_line(event))

        for event in head:
            fresh = _fresh_ids(event, {})
            data = fresh.get("data") or {}
            if "sessionId" in data:
                data["sessionId"] = new_id
                data["startTime"] = _stamp(start)
            emit(fresh, start)
        for number in range(1, turns + 1):
            template = source_turns[0] if number == 1 else source_turns[1]
            moment = start + timedelta(seconds=number)
            mapping: dict[str, str] = {}
            for event in template:
                fresh = _fresh_ids(event, mapping)
                data = fresh.get("data") or {}
                if fresh["type"] == "user.message":
                    text = prompt(number)
                    data["content"] = text
                    data["transformedContent"] = (
                        f"<current_datetime>{moment.isoformat(timespec='milliseconds')}"
                        f"</current_datetime>\n\n{text}"
                        if dated
                        else text
                    )
                elif fresh["type"] == "assistant.message":
                    data["content"] = reply(number)
                accounting = (data.get("usage") or {}).get("accounting")
                if accounting:
                    accounting["sourceSessionId"] = new_id
                    accounting["sequence"] = number
                emit(fresh, moment)
        for event in tail:
            fresh = _fresh_ids(event, {})
            text = json.dumps(fresh).replace(json.dumps(source_id), json.dumps(new_id))
            emit(json.loads(text), start + timedelta(seconds=turns + 1))
    return target


def age_session(data_dir: Path, session_id: str, hours: float) -> None:
    """Make a closed session look last used ``hours`` ago (the runtime lists a session as
    last active when its files last changed)."""
    then = (datetime.now(UTC) - timedelta(hours=hours)).timestamp()
    for path in session_folder(data_dir, session_id).rglob("*"):
        os.utime(path, (then, then))
