"""A session's history as turns: what the person asked and what Copilot answered.

This is where the abstain rule lives. The input is the runtime's event records
as plain dictionaries (the lines of ``events.jsonl``, or SDK events turned into
dictionaries), so nothing here needs the SDK or IPython.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from copilot_magic.kernel.attachments import attached_line, without_context


def is_abstention(reply: str, signal: str) -> bool:
    """Whether an assistant reply carries the abstain signal."""
    return bool(signal) and signal in reply


def strip_signal(reply: str, signal: str) -> str:
    """The reply as shown to people: the abstain signal removed."""
    return reply.replace(signal, "").strip() if signal and signal in reply else reply


@dataclass(frozen=True)
class Turn:
    """One exchange. ``reply`` is empty when the turn was aborted or failed.

    A turn that ended without any reply or error (its kernel or runtime was
    killed) counts as aborted, and ``answered_at`` is when it was last heard of.
    """

    index: int
    prompt: str
    reply: str
    asked_at: datetime | None
    answered_at: datetime | None
    abstained: bool = False
    aborted: bool = False
    error: str = ""
    attached: tuple[tuple[str, str], ...] = ()  # (name, summary) of the context sent with it
    steps: tuple[str, ...] = ()  # what Copilot looked at or ran in the kernel, a line each
    partial: str = ""  # what a cell showed of a reply cut short (the runtime keeps none of it)

    @property
    def attached_words(self) -> str:
        """What was attached, in words ("with `df`: DataFrame 1,000 by 5"), or ""."""
        return attached_line(self.attached)


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def turns_from_events(events: Iterable[Mapping[str, Any]], abstain_signal: str) -> list[Turn]:
    """Fold runtime events into turns.

    Only top-level events count (events of sub-agents, which carry an
    ``agentId``, are skipped), each once (the runtime writes a batch of events
    again when its first write failed on a full disk). A turn starts at each
    ``user.message``; the assistant messages until the next one are its reply.
    The prompt is what the person wrote; the context sent with it (its
    ``transformedContent``) is named in ``attached``, and the kernel tools the
    model called are ``steps``.
    """
    from copilot_magic.kernel.tools import step_line  # the tools' own words for their calls

    turns: list[Turn] = []
    current: dict[str, Any] | None = None
    seen: set[str] = set()

    def close() -> None:
        if current is None:
            return
        reply = "\n\n".join(current["replies"])
        if not reply and not current["error"]:  # it ended without a word (kill -9): when
            current["aborted"] = True
            current["answered_at"] = current["answered_at"] or current["last_at"]
        turns.append(
            Turn(
                index=len(turns) + 1,
                prompt=current["prompt"],
                reply=reply,
                asked_at=current["asked_at"],
                answered_at=current["answered_at"],
                abstained=is_abstention(reply, abstain_signal),
                aborted=current["aborted"],
                error=current["error"],
                attached=current["attached"],
                steps=tuple(current["steps"]),
            )
        )

    for event in events:
        if event.get("agentId") or event.get("agent_id"):
            continue
        event_id = event.get("id")
        if isinstance(event_id, str):
            if event_id in seen:
                continue
            seen.add(event_id)
        kind = event.get("type")
        data = event.get("data") or {}
        if current is not None and kind != "user.message":
            current["last_at"] = _parse_time(event.get("timestamp")) or current["last_at"]
        if kind == "user.message":
            close()
            sent = data.get("transformedContent")
            current = {
                "prompt": data.get("content", ""),
                "attached": without_context(sent)[1] if isinstance(sent, str) else (),
                "steps": [],
                "calls": {},
                "replies": [],
                "asked_at": _parse_time(event.get("timestamp")),
                "answered_at": None,
                "last_at": _parse_time(event.get("timestamp")),
                "aborted": False,
                "error": "",
            }
        elif current is None:
            continue
        elif kind == "assistant.message":
            if data.get("content"):
                current["replies"].append(data["content"])
            current["answered_at"] = _parse_time(event.get("timestamp"))
        elif kind == "tool.execution_start":
            current["calls"][data.get("toolCallId")] = (data.get("toolName"), data.get("arguments"))
        elif kind == "tool.execution_complete":
            name, arguments = current["calls"].pop(data.get("toolCallId"), (None, None))
            if not data.get("success"):  # the call was dropped (an abort): it showed nothing
                continue
            result = (data.get("result") or {}).get("content", "")
            line = step_line(str(name), arguments if isinstance(arguments, dict) else {}, result)
            if line:
                current["steps"].append(line)
        elif kind == "abort":
            current["aborted"] = True
        elif kind == "session.error":
            current["error"] = data.get("message", "")
    close()
    return turns
