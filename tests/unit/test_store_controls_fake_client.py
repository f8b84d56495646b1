"""The store's session controls over a fake SDK client: each runtime call they rely on.

``fake_sdk`` answers ``session.rpc.name``, ``session.rpc.history`` and
``client.rpc.sessions.fork`` as the runtime does (a fork gets a generated id).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fake_sdk import FakeBridge, FakeClient

from copilot_magic.config import Settings
from copilot_magic.errors import InvalidArgument, SessionExists, SessionNotFound
from copilot_magic.sessions.controls import valid_title
from copilot_magic.sessions.marks import SessionMarks
from copilot_magic.sessions.removal import plan_cleanup
from copilot_magic.sessions.store import SessionStore


def _client(store: SessionStore) -> FakeClient:
    client = store.bridge.client()
    assert isinstance(client, FakeClient)
    return client


def _with_turns(store: SessionStore, session_id: str, *prompts: str) -> None:
    store.open(session_id)
    for prompt in prompts:
        store.converse(session_id, prompt)


def test_rename_sets_the_runtimes_name_through_the_session(store: SessionStore) -> None:
    _with_turns(store, "t1", "hello")
    assert store.rename("t1", "  Sales <b>Q3</b>  ") == "Sales <b>Q3</b>"
    assert _client(store).stored["t1"].name == "Sales <b>Q3</b>"
    assert store.summary("t1").title == "Sales <b>Q3</b>"


def test_the_first_reply_names_a_session_still_named_after_its_id(store: SessionStore) -> None:
    _with_turns(store, "t2", "why is   the sky\nblue?", "and the sea?")
    assert _client(store).stored["t2"].name == "why is the sky blue?"


def test_a_first_prompt_of_up_to_100_characters_is_the_whole_title(store: SessionStore) -> None:
    prompt = "compare the mean petal length of the three iris species, then plot it by species"
    assert 60 < len(prompt) <= 100
    _with_turns(store, "t3", prompt)
    assert _client(store).stored["t3"].name == prompt
    assert (
        store.summary("t3").title == prompt
    )  # what the list shows on hover and Rename starts from


def test_a_longer_first_prompt_is_titled_with_its_words_that_fit_and_no_ellipsis(
    store: SessionStore,
) -> None:
    _with_turns(store, "t4", "word " * 30)
    assert _client(store).stored["t4"].name == " ".join(["word"] * 20)  # 99 characters
    assert "…" not in store.summary("t4").title


@pytest.mark.parametrize(
    ("title", "words"),
    [
        ("", "at least one visible character"),
        ("\u200b ", "at least one visible character"),
        ("a\nb", "without control characters"),
        ("a\x1bb", "without control characters"),
        ("x" * 101, "at most 100 characters (101 given)"),
    ],
)
def test_a_bad_title_is_refused_in_one_line(title: str, words: str) -> None:
    with pytest.raises(InvalidArgument, match=words.replace("(", r"\(").replace(")", r"\)")):
        valid_title(title)


def test_rewind_truncates_at_the_first_removed_turn_and_says_what_went(
    store: SessionStore,
) -> None:
    _with_turns(store, "r1", "one", "two", "three")
    rewound = store.rewind("r1", 2)
    assert rewound.prompts == ("two", "three")
    assert rewound.turns_left == 1
    assert _client(store).stored["r1"].sent == ["one"]
    assert "r1" not in store.live  # closed, so the runtime wrote what it keeps


@pytest.mark.parametrize(("count", "words"), [(0, "1 or more"), (4, "has 3 turns")])
def test_rewind_refuses_a_count_the_session_does_not_have(
    store: SessionStore, count: int, words: str
) -> None:
    _with_turns(store, "r2", "one", "two", "three")
    with pytest.raises(InvalidArgument, match=words):
        store.rewind("r2", count)
    assert _client(store).stored["r2"].sent == ["one", "two", "three"]


def test_a_fork_is_known_by_its_handle_everywhere(store: SessionStore) -> None:
    _with_turns(store, "src", "one", "two")
    opened = store.fork("mine", "src")
    assert opened.session_id == "mine"
    runtime_id = store.places.marks.runtime_id("mine")
    assert runtime_id is not None
    assert runtime_id.startswith("fork-")
    assert _client(store).stored[runtime_id].sent == ["one", "two"]
    assert "mine" in [s.session_id for s in store.summaries()]
    assert runtime_id not in [s.session_id for s in store.summaries()]
    assert store.exists("mine")
    store.converse("mine", "three")
    assert _client(store).stored["src"].sent == ["one", "two"]


def test_a_fork_onto_a_name_that_is_taken_is_refused(store: SessionStore) -> None:
    _with_turns(store, "src", "one")
    store.fork("mine", "src")
    for taken in ("src", "mine"):
        with pytest.raises(SessionExists):
            store.fork(taken, "src")
    with pytest.raises(SessionNotFound):
        store.fork("other", "no-such")


def test_deleting_a_fork_drops_its_handle(store: SessionStore) -> None:
    _with_turns(store, "src", "one")
    store.fork("mine", "src")
    store.delete("mine")
    assert store.places.marks.runtime_id("mine") is None
    assert not store.exists("mine")


def test_compact_reports_what_the_runtime_saved(store: SessionStore) -> None:
    _with_turns(store, "c1", "one", "two")
    done = store.compact("c1")
    assert (done.done, done.messages_removed, done.tokens_removed) == (True, 2, 50)
    assert (done.messages_after, done.tokens_after, done.token_limit) == (1, 100, 1000)


def test_copilot_models_come_from_the_sign_in_without_a_provider(tmp_path: Path) -> None:
    settings = Settings(model="gpt-fake", data_dir=str(tmp_path))
    store = SessionStore(settings, bridge=FakeBridge(lambda: settings))
    try:
        assert store.models() == ["gpt-fake", "claude-fake"]
    finally:
        store.close()


def test_stars_come_first_and_clean_ups_keep_them(store: SessionStore) -> None:
    for session_id in ("a", "b"):
        _with_turns(store, session_id, "hi")
    store.star("b")
    listed = store.summaries()
    assert listed[0].session_id == "b"
    assert listed[0].starred
    plan = plan_cleanup(listed, 0, now=datetime.now(UTC) + timedelta(days=1))
    assert ("b", "starred") in plan.spared
    store.star("b", on=False)
    assert not store.summary("b").starred


def test_marks_survive_another_writer(tmp_path: Path) -> None:
    first, second = SessionMarks(tmp_path), SessionMarks(tmp_path)
    first.star("a")
    second.name("h", "runtime-1")
    second.star("b")
    assert first.starred() == {"a", "b"}
    assert first.runtime_id("h") == "runtime-1"
    first.star("a", on=False)
    assert second.starred() == {"b"}


@pytest.mark.parametrize("failure", ["os", "records"])
def test_a_partial_reply_that_cannot_be_written_does_not_hide_why_the_reply_stopped(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    records = store.places.marks.records

    def disk_full(*_: object, **__: object) -> None:
        if failure == "os":
            raise OSError(28, "No space left on device")
        raise records._unwritable(sqlite3.OperationalError("database or disk is full"))

    monkeypatch.setattr(records, "changing", disk_full)
    store.keep_partial("s", 1, "half a reply")  # no error: the cell's own reason stands
