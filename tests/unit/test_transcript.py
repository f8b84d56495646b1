"""Folding the runtime's events into turns, and the abstain rule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from copilot_magic.sessions.transcript import Turn, is_abstention, strip_signal, turns_from_events
from copilot_magic.views.text import format_history

SIGNAL = "[[POR_ABSTAIN]]"


def _event(kind: str, second: int = 0, agent: str | None = None, **data: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": kind,
        "data": data,
        "timestamp": f"2026-11-25T08:31:{second:02d}.574Z",
    }
    if agent is not None:
        event["agentId"] = agent
    return event


def _at(second: int) -> datetime:
    return datetime(2026, 11, 25, 8, 31, second, 574000, tzinfo=UTC)


def test_user_and_assistant_messages_become_turns_with_times() -> None:
    turns = turns_from_events(
        [
            _event("session.start", 0),
            _event("system.message", 1, content="You are a helpful assistant."),
            _event("user.message", 2, content="hello"),
            _event("assistant.message", 3, content="hi there"),
            _event("user.message", 4, content="and now?"),
            _event("assistant.message", 5, content="still here"),
        ],
        SIGNAL,
    )
    assert turns == [
        Turn(1, "hello", "hi there", _at(2), _at(3)),
        Turn(2, "and now?", "still here", _at(4), _at(5)),
    ]


def test_system_message_is_not_a_turn_nor_a_reply() -> None:
    turns = turns_from_events(
        [
            _event("system.message", 0, content="system prompt"),
            _event("user.message", 1, content="q"),
            _event("system.message", 2, content="more system text"),
            _event("assistant.message", 3, content="a"),
        ],
        SIGNAL,
    )
    assert [(t.prompt, t.reply) for t in turns] == [("q", "a")]


def test_sub_agent_events_are_skipped() -> None:
    turns = turns_from_events(
        [
            _event("user.message", 0, content="q"),
            _event("user.message", 1, agent="sub-1", content="sub-agent prompt"),
            _event("assistant.message", 2, agent="sub-1", content="sub-agent reply"),
            _event("assistant.message", 3, content="top-level reply"),
        ],
        SIGNAL,
    )
    assert len(turns) == 1
    assert turns[0].prompt == "q"
    assert turns[0].reply == "top-level reply"
    assert turns[0].answered_at == _at(3)


def test_unknown_event_types_are_ignored() -> None:
    turns = turns_from_events(
        [
            _event("user.message", 0, content="q"),
            _event("tool.execution_start", 1, toolName="bash"),
            _event("assistant.turn_start", 2),
            _event("assistant.message", 3, content="a"),
            _event("something.new", 4, content="ignored"),
            {"no": "type"},
        ],
        SIGNAL,
    )
    assert [(t.prompt, t.reply) for t in turns] == [("q", "a")]


def test_assistant_messages_before_any_prompt_are_ignored() -> None:
    turns = turns_from_events([_event("assistant.message", 0, content="orphan")], SIGNAL)
    assert turns == []


def test_multiple_assistant_messages_in_one_turn_are_joined() -> None:
    turns = turns_from_events(
        [
            _event("user.message", 0, content="q"),
            _event("assistant.message", 1, content="part one"),
            _event("assistant.message", 2, content=""),
            _event("assistant.message", 3, content="part two"),
        ],
        SIGNAL,
    )
    assert turns[0].reply == "part one\n\npart two"
    assert turns[0].answered_at == _at(3)


def test_abstained_only_when_the_reply_carries_the_signal() -> None:
    turns = turns_from_events(
        [
            _event("user.message", 0, content=f"please reply {SIGNAL} if unsure"),
            _event("assistant.message", 1, content="I am sure: 42."),
            _event("user.message", 2, content="and this?"),
            _event("assistant.message", 3, content=f"{SIGNAL} I cannot tell."),
        ],
        SIGNAL,
    )
    assert [t.abstained for t in turns] == [False, True]
    assert SIGNAL in turns[1].reply


def test_aborted_turn_is_flagged_with_empty_reply() -> None:
    turns = turns_from_events(
        [
            _event("user.message", 0, content="long story please"),
            _event("abort", 1, reason="user initiated"),
            _event("user.message", 2, content="next"),
            _event("assistant.message", 3, content="ok"),
        ],
        SIGNAL,
    )
    assert turns[0].aborted
    assert turns[0].reply == ""
    assert turns[0].answered_at == _at(1)  # when it was stopped
    assert not turns[1].aborted


def test_a_turn_that_ended_without_a_word_counts_as_interrupted_when_last_heard_of() -> None:
    turns = turns_from_events(
        [
            _event("user.message", 0, content="then the kernel was killed"),
            _event("assistant.turn_start", 2),
        ],
        SIGNAL,
    )
    assert turns[0].aborted
    assert turns[0].answered_at == _at(2)
    shown = format_history("s", turns, SIGNAL)
    assert "[1] Copilot: (interrupted at 2026-11-25 08:31, no reply)" in shown
    assert "never" not in shown


def test_events_written_twice_after_a_full_disk_count_once() -> None:
    prompt = {**_event("user.message", 0, content="once"), "id": "u1"}
    start = {**_event("assistant.turn_start", 1), "id": "t1"}
    reply = {**_event("assistant.message", 2, content="ok"), "id": "a1"}
    turns = turns_from_events([prompt, start, prompt, start, reply], SIGNAL)
    assert [(t.prompt, t.reply) for t in turns] == [("once", "ok")]


def test_session_error_is_recorded_on_its_turn() -> None:
    turns = turns_from_events(
        [
            _event("user.message", 0, content="q"),
            _event("session.error", 1, errorType="model", message="model exploded"),
        ],
        SIGNAL,
    )
    assert turns[0].error == "model exploded"
    assert turns[0].reply == ""
    assert not turns[0].aborted


def test_bad_or_missing_timestamps_become_none() -> None:
    events: list[dict[str, Any]] = [
        {"type": "user.message", "data": {"content": "q"}, "timestamp": "not a time"},
        {"type": "assistant.message", "data": {"content": "a"}},
    ]
    turns = turns_from_events(events, SIGNAL)
    assert turns[0].asked_at is None
    assert turns[0].answered_at is None


def test_turns_are_numbered_from_one() -> None:
    events = [_event("user.message", i, content=f"q{i}") for i in range(3)]
    assert [t.index for t in turns_from_events(events, SIGNAL)] == [1, 2, 3]


def test_custom_signal_is_used_for_turns() -> None:
    events = [
        _event("user.message", 0, content="q"),
        _event("assistant.message", 1, content=f"<<NOPE>> {SIGNAL}"),
    ]
    assert turns_from_events(events, "<<NOPE>>")[0].abstained
    assert not turns_from_events(events, "<<OTHER>>")[0].abstained


def test_strip_signal_removes_the_marker() -> None:
    assert strip_signal(f"{SIGNAL} I cannot tell.", SIGNAL) == "I cannot tell."
    assert strip_signal(f"before {SIGNAL} after {SIGNAL}", SIGNAL) == "before  after"
    assert strip_signal("no marker here", SIGNAL) == "no marker here"
    assert strip_signal(f"  {SIGNAL}  ", SIGNAL) == ""


def test_strip_signal_with_empty_signal_keeps_text() -> None:
    assert strip_signal(" text ", "") == " text "


def test_is_abstention_with_custom_signal() -> None:
    assert is_abstention("<<NOPE>> no idea", "<<NOPE>>")
    assert not is_abstention(f"{SIGNAL} no idea", "<<NOPE>>")
    assert is_abstention(f"x {SIGNAL}", SIGNAL)
    assert not is_abstention("anything", "")


def _context_turn() -> list[Turn]:
    from copilot_magic.kernel.attachments import Attachment, with_context

    sent = with_context(
        "why NaNs in {df}?", [Attachment("df", "DataFrame 1,000 × 5", "price: float64")]
    )
    return turns_from_events(
        [
            _event("user.message", 1, content="why NaNs in {df}?", transformedContent=sent),
            _event("assistant.message", 2, content="", toolRequests=[{"toolCallId": "c1"}]),
            _event(
                "tool.execution_start",
                3,
                toolCallId="c1",
                toolName="describe_variable",
                arguments={"name": "df"},
            ),
            _event(
                "tool.execution_complete", 4, toolCallId="c1", success=True, result={"content": "."}
            ),
            _event("assistant.message", 5, content="Because of the join."),
        ],
        SIGNAL,
    )


def test_a_turn_keeps_what_the_person_wrote_names_the_context_and_the_tool_calls() -> None:
    (turn,) = _context_turn()
    assert turn.prompt == "why NaNs in {df}?"
    assert turn.attached == (("df", "DataFrame 1,000 × 5"),)
    assert turn.attached_words == "with `df`: DataFrame 1,000 × 5"
    assert turn.steps == ("🔎 looked at `df`",)
    assert turn.reply == "Because of the join."


def test_the_history_the_panel_and_exports_name_the_context_not_its_data() -> None:
    from copilot_magic.sessions.models import SessionSummary
    from copilot_magic.views.export import conversation_markdown
    from copilot_magic.views.render import turn_html

    turns = _context_turn()
    text = format_history("s", turns, SIGNAL)
    assert "why NaNs in {df}?\n(with `df`: DataFrame 1,000 × 5)\n🔎 looked at `df`" in text
    html = turn_html(turns[0], SIGNAL)
    assert "with <code>df</code>: DataFrame 1,000 × 5" in html
    assert "🔎 looked at <code>df</code>" in html
    summary = SessionSummary("s", "why", None, None, 1)
    markdown = conversation_markdown(summary, turns, SIGNAL)
    assert "_with `df`: DataFrame 1,000 × 5_" in markdown
    assert "- 🔎 looked at `df`" in markdown
    for shown in (text, html, markdown):
        assert "price: float64" not in shown
