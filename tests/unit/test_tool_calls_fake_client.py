"""Tool calls travel from the runtime's loop thread to the turn's stream and back (fake SDK)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_sdk import FakeBridge, FakeClient
from test_store_fake_client import LiveSettings

from copilot_magic.sessions.inbox import UNANSWERED, ToolCall
from copilot_magic.sessions.store import SessionStore


@pytest.fixture
def settings(tmp_path: Path) -> LiveSettings:
    return LiveSettings(tmp_path / "data")


@pytest.fixture
def store(settings: LiveSettings) -> Iterator[SessionStore]:
    made = SessionStore(settings, bridge=FakeBridge(settings))
    yield made
    made.close()


def _session(store: SessionStore, session_id: str) -> object:
    client = store.bridge.client()
    assert isinstance(client, FakeClient)
    return client.stored[session_id]


def test_the_session_offers_the_kernel_tools_and_none_of_the_runtime(store: SessionStore) -> None:
    store.open("s")
    options = _session(store, "s").options  # type: ignore[attr-defined]
    names = ["list_variables", "describe_variable", "read_cells", "read_last_error", "run_code"]
    assert options["available_tools"] == names
    assert [tool.name for tool in options["tools"]] == names
    assert all(tool.skip_permission for tool in options["tools"])


def test_turning_kernel_tools_off_reopens_the_session_without_tools(
    store: SessionStore, settings: LiveSettings
) -> None:
    store.open("s")
    settings.change(kernel_tools=False)
    store.converse("s", "hi")
    options = _session(store, "s").options  # type: ignore[attr-defined]
    assert options["available_tools"] == []
    assert "tools" not in options


def test_a_tool_call_is_answered_on_the_callers_thread_and_the_model_gets_it(
    store: SessionStore,
) -> None:
    store.open("s")
    _session(store, "s").calls_tool = ("describe_variable", {"name": "df"})  # type: ignore[attr-defined]
    calls = []
    with store.turn("s", "look") as stream:
        for update in stream:
            if isinstance(update, ToolCall):
                calls.append((update.name, dict(update.arguments)))
                update.answer("DataFrame 3 × 2")
    assert calls == [("describe_variable", {"name": "df"})]
    assert stream.text == "the tool said: DataFrame 3 × 2"


def test_a_tool_call_nobody_answers_is_refused_and_the_turn_ends(store: SessionStore) -> None:
    store.open("s")
    _session(store, "s").calls_tool = ("list_variables", {})  # type: ignore[attr-defined]
    assert store.converse("s", "look") == f"the tool said: {UNANSWERED}"


def test_the_history_prompt_is_sent_as_the_display_prompt(store: SessionStore) -> None:
    store.open("s")
    with store.turn("s", "what {df} is\n\n<context>", shown="what {df} is") as stream:
        list(stream)
    session = _session(store, "s")
    assert session.sent == ["what {df} is\n\n<context>"]  # type: ignore[attr-defined]
    assert session.shown == ["what {df} is"]  # type: ignore[attr-defined]
