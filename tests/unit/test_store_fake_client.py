"""SessionStore, its turns and its bridge over a fake SDK client (see ``fake_sdk``).

Each of the first three tests is one of issue 11's bugs, seen from the store. The
last ones follow tool calls from the runtime's loop thread to the turn's stream and back.
"""

from __future__ import annotations

import dataclasses
import gc
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_sdk import FakeBridge, FakeClient

from copilot_magic.config import Settings
from copilot_magic.errors import SessionBusy, SessionNotFound, TurnTimedOut
from copilot_magic.runtime.bridge import RuntimeBridge
from copilot_magic.sessions.inbox import UNANSWERED, ToolCall
from copilot_magic.sessions.store import SessionStore


class LiveSettings:
    """Settings that a test changes between commands, as ``%config`` does."""

    def __init__(self, data_dir: Path) -> None:
        self.value = Settings(
            model="echo", provider_url="http://127.0.0.1:9/v1", data_dir=str(data_dir)
        )

    def __call__(self) -> Settings:
        return self.value

    def change(self, **changes: object) -> None:
        self.value = dataclasses.replace(self.value, **changes)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> LiveSettings:
    return LiveSettings(tmp_path / "data")


@pytest.fixture
def store(settings: LiveSettings) -> Iterator[SessionStore]:
    made = SessionStore(settings, bridge=FakeBridge(settings))
    yield made
    made.close()


def _client(store: SessionStore) -> FakeClient:
    client = store.bridge.client()
    assert isinstance(client, FakeClient)
    return client


def test_a_model_changed_after_the_first_turn_applies_to_the_next_turn(
    store: SessionStore, settings: LiveSettings
) -> None:
    store.open("s1")
    assert store.converse("s1", "one") == "echo: one"
    settings.change(model="echo-2")
    assert store.converse("s1", "two") == "echo: two"
    calls = [(kind, options.get("model")) for kind, _sid, options in _client(store).calls]
    assert calls == [("create", "echo"), ("resume", "echo-2")]
    assert _client(store).stored["s1"].sent == ["one", "two"]  # one conversation


def test_a_model_given_with_open_stays_when_the_settings_change(
    store: SessionStore, settings: LiveSettings
) -> None:
    store.open("s1", model="chosen")
    settings.change(model="echo-2")
    store.converse("s1", "hi")
    assert [options.get("model") for *_, options in _client(store).calls] == ["chosen"]


def test_an_exception_inside_a_turn_ends_it_and_frees_the_session(store: SessionStore) -> None:
    store.open("s1")
    _client(store).stored["s1"].silent = True  # the reply is still running when the body fails
    with pytest.raises(ZeroDivisionError), store.turn("s1", "first"):
        _ = 1 / 0  # e.g. the display failing, as updates_per_second = 0 once did
    assert _client(store).stored["s1"].aborted == 1
    _client(store).stored["s1"].silent = False
    assert store.converse("s1", "second") == "echo: second"


def test_a_second_prompt_while_one_is_replying_is_refused(store: SessionStore) -> None:
    store.open("s1")
    _client(store).stored["s1"].silent = True
    with store.turn("s1", "first"), pytest.raises(SessionBusy), store.turn("s1", "again"):
        pass


def test_a_silent_reply_times_out_and_frees_the_session(store: SessionStore) -> None:
    store.open("s1")
    _client(store).stored["s1"].silent = True
    with pytest.raises(TurnTimedOut), store.turn("s1", "hello", silence_timeout=0.3) as stream:
        for _update in stream:
            pass
    _client(store).stored["s1"].silent = False
    assert store.converse("s1", "again") == "echo: again"


def test_a_changed_data_directory_never_creates_the_active_session_there(
    store: SessionStore, settings: LiveSettings, tmp_path: Path
) -> None:
    store.open("s1")
    store.converse("s1", "one")
    settings.change(data_dir=str(tmp_path / "elsewhere"))
    with pytest.raises(SessionNotFound, match=r"'s1' is not in .*elsewhere"):
        store.converse("s1", "two")
    assert _client(store).calls == []  # the new data directory's runtime: nothing created
    settings.change(data_dir=str(tmp_path / "data"))
    assert store.converse("s1", "three") == "echo: three"  # back: resumed, not created


def test_the_store_reads_each_setting_afresh(store: SessionStore, settings: LiveSettings) -> None:
    settings.change(abstain_signal="<<NO>>", reply_timeout=5.0)
    assert store.settings.abstain_signal == "<<NO>>"
    assert store.places.files.abstain_signal == "<<NO>>"
    assert store.bridge.settings.reply_timeout == 5.0


def test_stopping_the_bridge_closes_its_event_loop() -> None:
    """Bug 4 of issue 11: stop() left the loop open (a ResourceWarning at exit)."""
    bridge = RuntimeBridge(Settings)
    assert bridge.run(_answer(), timeout=5) == 42
    loop = bridge._handles.loop
    assert loop is not None
    bridge.stop()
    assert loop.is_closed()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        del loop
        gc.collect()


async def _answer() -> int:
    return 42


def _session(store: SessionStore, session_id: str) -> object:
    return _client(store).stored[session_id]


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
