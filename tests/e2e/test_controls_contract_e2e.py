"""The contract of each session control, at the store, on the real runtime and the echo model.

The magic (``test_session_controls_e2e.py``), the command line (``test_cli_controls_e2e.py``)
and the panel (``test_panel_e2e.py``) call these same ``SessionStore`` methods; their tests
only check that they call them and show the result. Here each control proves all it promises:
the echo model's replies say how many user messages it received and quote the first and the
last, so a reply proves what a fork or a rewind left the model; it reports token usage for
every completion, so usage can be checked against what the model server actually sent. Each
control's refusals of bad input are unit tests over the real store and a fake SDK client
(``tests/unit/test_control_refusals_fake_client.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from runtime_support import backdate_sessions, converse

from copilot_magic.errors import CopilotMagicError, SessionExists
from copilot_magic.sessions.removal import RECENT
from copilot_magic.sessions.store import SessionStore
from copilot_magic.testing.echo_model import EchoModelServer

from .cells import files_containing

OFFLINE = "/nonexistent"  # a runtime path that does not exist: what is read from files alone


def _events(data_dir: Path, session_id: str) -> bytes:
    return (data_dir / "session-state" / session_id / "events.jsonl").read_bytes()


def _prompts(store: SessionStore, session_id: str) -> list[str]:
    return [turn.prompt for turn in store.history(session_id)]


def _offline(store: SessionStore) -> SessionStore:
    """A store on the same data directory whose runtime cannot start."""
    return SessionStore(replace(store.bridge.settings, cli_path=OFFLINE))


def test_rename_titles_the_session_in_the_list_and_the_title_survives_a_new_store(
    open_store: Callable[[], SessionStore], data_dir: Path
) -> None:
    store = open_store()
    converse(store, "ctl-title", "first question about churn")
    converse(store, "ctl-untitled", "How do I read a parquet file lazily?")
    # Until renamed, the runtime titles a session with its first prompt.
    workspace = (data_dir / "session-state" / "ctl-untitled" / "workspace.yaml").read_text()
    assert "name: How do I read a parquet file lazily?" in workspace
    assert store.summary("ctl-untitled").title == "How do I read a parquet file lazily?"

    title = "Churn <b>Q3</b> & friends"
    assert store.rename("ctl-title", title) == title  # the markup as typed, never escaped
    assert store.summary("ctl-title").title == title
    assert store.rename("ctl-title", "  Churn study  ") == "Churn study"
    assert {s.session_id: s.title for s in store.summaries()} == {
        "ctl-title": "Churn study",
        "ctl-untitled": "How do I read a parquet file lazily?",
    }
    store.close()

    fresh = open_store()
    assert fresh.summary("ctl-title").title == "Churn study"
    assert (
        "name: Churn study"
        in (data_dir / "session-state" / "ctl-title" / "workspace.yaml").read_text()
    )


@pytest.mark.sdk_smoke
def test_fork_holds_exactly_those_turns_leaves_the_source_untouched_and_the_model_gets_them(
    open_store: Callable[[], SessionStore], data_dir: Path
) -> None:
    store = open_store()
    converse(store, "ctl-src", "one apricot", "two banana", "three cherry")
    store.let_go("ctl-src")
    source_before = _events(data_dir, "ctl-src")

    opened = store.fork("ctl-fork", "ctl-src", at=2)
    assert opened.session_id == "ctl-fork"
    assert _prompts(store, "ctl-fork") == ["one apricot", "two banana"]
    assert store.summary("ctl-fork").turns == 2
    assert store.usage("ctl-fork") is None, "a fork has made no model request yet"
    (reply,) = converse(store, "ctl-fork", "four date")
    assert reply.startswith(
        'I received 3 user messages. The first was: "one apricot". The last was: "four date".'
    ), reply
    assert _prompts(store, "ctl-fork") == ["one apricot", "two banana", "four date"]

    whole = store.fork("ctl-whole", "ctl-src")  # without --at: every turn
    assert _prompts(store, whole.session_id) == ["one apricot", "two banana", "three cherry"]
    with pytest.raises(SessionExists, match="'ctl-fork' exists already"):
        store.fork("ctl-fork", "ctl-src")
    assert _events(data_dir, "ctl-src") == source_before, "a fork changed its source"
    assert store.summary("ctl-src").turns == 3
    store.close()

    fresh = open_store()  # a fork is known by its handle in a new store too
    assert {"ctl-src", "ctl-fork", "ctl-whole"} <= {s.session_id for s in fresh.summaries()}
    assert _prompts(fresh, "ctl-fork") == ["one apricot", "two banana", "four date"]
    assert _events(data_dir, "ctl-src") == source_before


@pytest.mark.sdk_smoke
def test_rewind_removes_the_turn_from_the_model_the_history_and_every_file(
    open_store: Callable[[], SessionStore], data_dir: Path
) -> None:
    store = open_store()
    converse(store, "ctl-rewind", "keep this one", "forget quokkaword now")
    assert files_containing(data_dir, "quokkaword"), "the word was never stored"

    rewound = store.rewind("ctl-rewind", 1)
    assert (rewound.prompts, rewound.turns_left) == (("forget quokkaword now",), 1)
    assert _prompts(store, "ctl-rewind") == ["keep this one"]
    assert store.summary("ctl-rewind").turns == 1
    assert files_containing(data_dir, "quokkaword") == []
    (reply,) = converse(store, "ctl-rewind", "after the rewind")
    assert reply.startswith('I received 2 user messages. The first was: "keep this one".'), reply
    store.close()  # the runtime writes what it keeps when the session closes
    assert files_containing(data_dir, "quokkaword") == []
    assert _prompts(open_store(), "ctl-rewind") == ["keep this one", "after the rewind"]


@pytest.mark.sdk_smoke
def test_usage_is_the_sum_of_what_the_model_reported_and_models_are_the_providers(
    open_store: Callable[[], SessionStore], echo_model: EchoModelServer
) -> None:
    store = open_store()
    store.open("ctl-usage")
    echo_model.clear_reported_usage()
    converse(store, "ctl-usage", "count my tokens", "and these too")
    reported = echo_model.reported_usage
    assert len(reported) >= 2, reported
    usage = store.usage("ctl-usage")
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.requests, list(usage.models)) == (
        sum(i for i, _ in reported),
        sum(o for _, o in reported),
        len(reported),
        ["echo"],
    )
    store.close()
    offline = _offline(store)  # read from the session's files alone
    try:
        assert offline.usage("ctl-usage") == usage
    finally:
        offline.close()

    assert open_store().models() == ["echo", "echo-2"]
    dead = SessionStore(replace(store.bridge.settings, provider_url="http://127.0.0.1:1/v1"))
    try:
        with pytest.raises(CopilotMagicError, match="Could not list the models of the provider"):
            dead.models()
    finally:
        dead.close()


@pytest.mark.sdk_smoke
def test_compact_says_what_it_saved_and_the_conversation_goes_on_with_every_turn(
    open_store: Callable[[], SessionStore],
) -> None:
    store = open_store()
    converse(store, "ctl-compact", "a first long question", "a second long question")
    compacted = store.compact("ctl-compact")
    assert compacted.done, compacted
    assert compacted.messages_removed >= 0
    assert compacted.tokens_removed >= 0
    again = store.compact("ctl-compact")  # the runtime refuses: "Nothing to compact."
    assert not again.done, again
    (reply,) = converse(store, "ctl-compact", "after compacting")
    assert 'The last was: "after compacting"' in reply, reply
    assert _prompts(store, "ctl-compact") == [
        "a first long question",
        "a second long question",
        "after compacting",
    ]


def test_a_starred_session_is_listed_first_and_survives_a_clean_up(
    open_store: Callable[[], SessionStore], data_dir: Path
) -> None:
    store = open_store()
    converse(store, "ctl-star", "star me")
    converse(store, "ctl-plain", "not me")  # the most recent: first without the star
    assert [s.session_id for s in store.summaries()] == ["ctl-plain", "ctl-star"]

    store.star("ctl-star")
    assert [(s.session_id, s.starred) for s in store.summaries()] == [
        ("ctl-star", True),
        ("ctl-plain", False),
    ]
    assert [why for _sid, why in store.plan_cleanup(0).spared] == ["starred", RECENT]
    backdate_sessions(data_dir)
    plan = store.plan_cleanup(0)
    assert [s.session_id for s in plan.doomed] == ["ctl-plain"]
    assert [sid for sid, _why in plan.spared] == ["ctl-star"]
    assert {s.session_id for s in store.summaries()} == {"ctl-star", "ctl-plain"}
    assert store.cleanup(plan) == ["ctl-plain"]
    assert [(s.session_id, s.starred) for s in store.summaries()] == [("ctl-star", True)]

    store.star("ctl-star", on=False)
    assert store.summary("ctl-star").starred is False
    assert [s.session_id for s in store.plan_cleanup(0).doomed] == ["ctl-star"]
