"""TurnStream on fake SDK events: pieces become one exact text, joined only when read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from copilot_magic.errors import TurnFailed
from copilot_magic.sessions.inbox import EventInbox
from copilot_magic.sessions.turn import Delta, TurnStream


@dataclass
class FakeKind:
    value: str


@dataclass
class FakeEvent:
    kind: str
    data: Any = None
    agent_id: str | None = None
    type: FakeKind = field(init=False)

    def __post_init__(self) -> None:
        self.type = FakeKind(self.kind)


@dataclass
class FakeData:
    delta_content: str = ""
    content: str = ""
    aborted: bool = False


@dataclass
class FakeWarning:
    message: str


class FakeBridge:
    def runtime_exit_code(self) -> None:
        return None


def _stream(events: list[FakeEvent]) -> TurnStream:
    inbox = EventInbox()
    for event in events:
        inbox(event)
    return TurnStream(
        FakeBridge(),  # type: ignore[arg-type]
        object(),
        inbox,
        number=1,
        silence_timeout=30,
    )


def test_fake_events_thousands_of_waiting_pieces_come_as_one_exact_text() -> None:
    pieces = [f"piece{i} " for i in range(5000)]
    final = "".join(pieces)
    events = [FakeEvent("assistant.message_delta", FakeData(delta_content=p)) for p in pieces]
    events += [
        FakeEvent("assistant.message", FakeData(content=final)),
        FakeEvent("session.idle", FakeData()),
    ]
    stream = _stream(events)
    updates = list(stream)
    assert len(updates) == 1  # all had arrived: one update, not 5,001
    assert isinstance(updates[0], Delta)
    assert updates[0].text == final
    assert stream.text == final


def test_fake_events_a_notice_keeps_its_place_between_pieces() -> None:
    events = [
        FakeEvent("assistant.message_delta", FakeData(delta_content="one ")),
        FakeEvent("assistant.message_delta", FakeData(delta_content="two ")),
        FakeEvent("session.warning", FakeWarning("Rate limited; retrying")),
        FakeEvent("assistant.message_delta", FakeData(delta_content="three")),
        FakeEvent("session.idle", FakeData()),
    ]
    shown = []
    for update in _stream(events):
        shown.append(update.text if isinstance(update, Delta) else f"notice: {update.message}")
    assert shown == ["one two ", "notice: Rate limited; retrying", "one two three"]


def test_fake_events_a_sub_agents_pieces_are_left_out() -> None:
    events = [
        FakeEvent("assistant.message_delta", FakeData(delta_content="mine")),
        FakeEvent("assistant.message_delta", FakeData(delta_content="theirs"), agent_id="sub"),
        FakeEvent("session.idle", FakeData()),
    ]
    stream = _stream(events)
    texts = [update.text for update in stream if isinstance(update, Delta)]
    assert texts == ["mine"]
    assert stream.text == "mine"


def test_calls_waiting_behind_an_interrupted_one_are_refused_not_left_waiting() -> None:
    """Found in review: an interrupt while answering the first of two calls taken together
    left the second one waiting for ever (it was out of the inbox, so nothing refused it)."""
    from copilot_magic.sessions.inbox import UNANSWERED, ToolCall

    stream = _stream([])
    first = stream._inbox.call_tool("run_code", {"code": "1"})
    second = stream._inbox.call_tool("describe_variable", {"name": "df"})
    updates = iter(stream)
    call = next(updates)
    assert isinstance(call, ToolCall)
    updates.close()  # the person interrupts at the question: the for loop is left
    assert first.result(timeout=5) == UNANSWERED
    assert second.result(timeout=5) == UNANSWERED


def test_fake_events_a_failure_keeps_the_runtimes_advice_on_one_line() -> None:
    said = (
        "Could not connect to local model provider at http://127.0.0.1:1/v1.\n"
        "Check that the service is running and the port is correct.."
    )
    events = [FakeEvent("session.error", FakeWarning(said)), FakeEvent("session.idle", FakeData())]
    with pytest.raises(TurnFailed) as failed:
        list(_stream(events))
    assert str(failed.value) == (
        "Copilot could not reply: Could not connect to local model provider at "
        "http://127.0.0.1:1/v1. Check that the service is running and the port is correct."
    )
