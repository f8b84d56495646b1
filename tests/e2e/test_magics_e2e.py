"""The magics against the real runtime, the echo model and real kernels.

The echo model's replies state how many user messages it received and quote
the first, so a reply proves what context the model was given.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from reliability import Reliability

from copilot_magic.ui.arguments import SESSION_OPTIONS

from .cells import (
    SLOW_REPLY,
    copilot_cell,
    error_shown,
    files_containing,
    reply_of,
    wait_for_streaming,
)
from .kernels import Kernel


@pytest.mark.both_runtimes
@pytest.mark.sdk_smoke
def test_create_then_stream_a_reply_into_one_display(start_kernel: Callable[[], Kernel]) -> None:
    kernel = start_kernel()
    assert (
        kernel.execute("%copilot_session e2e-create").stdout.strip() == "Created session e2e-create"
    )

    result = kernel.execute(
        copilot_cell(f"hello pineapple {'[[echo:chunks=30]] [[echo:delay=0.03]]'}")
    )

    reply = reply_of(result)
    html = reply["data"]["text/html"]
    assert 'I received 1 user message. The first was: "hello pineapple"' in html
    assert reply["metadata"]["copilot_magic"] == {
        "session_id": "e2e-create",
        "turn": 1,
        "stage": "done",
        "abstained": False,
    }
    stages = [u["content"]["metadata"]["copilot_magic"]["stage"] for u in kernel.updates]
    assert "streaming" in stages, "the reply was not streamed"
    assert stages[-1] == "done"
    assert len(kernel.updates) < 30, "updates were not coalesced"


def test_the_first_display_is_a_waiting_state(start_kernel: Callable[[], Kernel]) -> None:
    kernel = start_kernel()
    kernel.execute("%copilot_session e2e-waiting")
    first: list[dict[str, Any]] = []
    msg_id = kernel.send(copilot_cell("hi"))
    kernel.collect(
        msg_id, on_message=lambda m: first.append(m) if m["msg_type"] == "display_data" else None
    )
    assert "Waiting for Copilot" in first[0]["content"]["data"]["text/html"]
    assert first[0]["content"]["metadata"]["copilot_magic"]["stage"] == "waiting"


@pytest.mark.both_runtimes
@pytest.mark.sdk_smoke
def test_a_second_kernel_resumes_and_the_model_gets_the_history(
    start_kernel: Callable[[], Kernel], data_dir: Path, kernel_env: dict[str, str]
) -> None:
    first = start_kernel()
    first.execute("%copilot_session e2e-resume")
    reply_of(first.execute(copilot_cell("My favourite fruit is a quince.")))
    reply_of(first.execute(copilot_cell("And my favourite colour is teal.")))
    first.shutdown()

    second = start_kernel()
    resumed = second.execute("%copilot_session e2e-resume").stdout.strip()
    assert resumed.startswith("Resumed session e2e-resume: 2 turns, last active 20")
    html = reply_of(second.execute(copilot_cell("What were we discussing?")))["data"]["text/html"]
    assert 'I received 3 user messages. The first was: "My favourite fruit is a quince."' in html
    key = kernel_env["COPILOT_MAGIC_PROVIDER_API_KEY"]
    assert files_containing(data_dir, key) == [], "the provider key was written to disk"


def test_list_shows_the_session_with_its_turn_count(start_kernel: Callable[[], Kernel]) -> None:
    kernel = start_kernel()
    kernel.execute("%copilot_session e2e-listed")
    for prompt in ("one", "two", "three"):
        reply_of(kernel.execute(copilot_cell(prompt)))
    listing = kernel.execute("%copilot_session --list").printed
    header, row = listing.strip().splitlines()
    assert header.split() == ["ID", "TITLE", "LAST", "ACTIVE", "TOKENS", "IN/OUT", "TURNS"]
    assert row.split()[0] == "e2e-listed"
    assert row.split()[-1] == "3"


def test_history_shows_both_turns_with_times(start_kernel: Callable[[], Kernel]) -> None:
    kernel = start_kernel()
    kernel.execute("%copilot_session e2e-history")
    reply_of(kernel.execute(copilot_cell("first question")))
    reply_of(kernel.execute(copilot_cell("second question")))
    history = kernel.execute("%copilot_session --history").printed
    assert history.startswith("Session e2e-history: 2 turns")
    assert "[1] You, 20" in history
    assert "first question" in history
    assert "[2] You, 20" in history
    assert "second question" in history
    assert 'I received 2 user messages. The first was: "first question"' in history


@pytest.mark.reliability("Delete means gone", "%copilot_session --delete")
def test_delete_removes_the_session_and_every_word_of_it(
    start_kernel: Callable[[], Kernel], data_dir: Path, reliability: Reliability
) -> None:
    reliability.tried("delete a session, then search every file under the data directory")
    kernel = start_kernel()
    kernel.execute("%copilot_session e2e-doomed")
    reply_of(kernel.execute(copilot_cell("the secret word is zanzibarquux")))
    kernel.execute("%copilot_session e2e-keeper")
    reply_of(kernel.execute(copilot_cell("keep the word marmalade")))
    assert files_containing(data_dir, "zanzibarquux"), "the word was never stored"

    deleted = kernel.execute("%copilot_session --delete e2e-doomed --yes")
    assert deleted.stdout.strip() == "Deleted session e2e-doomed and all its data."

    listing = kernel.execute("%copilot_session --list").printed
    assert "e2e-doomed" not in listing
    assert "e2e-keeper" in listing
    missing = kernel.execute("%copilot_session --history e2e-doomed")
    assert error_shown(missing).startswith("UsageError: No session 'e2e-doomed'")
    assert files_containing(data_dir, "zanzibarquux") == []
    kernel.shutdown()
    assert files_containing(data_dir, "zanzibarquux") == []
    assert files_containing(data_dir, "marmalade"), "the other session was harmed"

    fresh = start_kernel()
    assert (
        fresh.execute("%copilot_session e2e-doomed").stdout.strip() == "Created session e2e-doomed"
    )
    html = reply_of(fresh.execute(copilot_cell("anything left?")))["data"]["text/html"]
    assert "I received 1 user message." in html
    reliability.held(
        "its unique word in no file (SQLite store and WAL included), before and after the "
        "kernel exits; the other session intact; the id starts afresh"
    )


def test_deleting_the_active_session_detaches_it(start_kernel: Callable[[], Kernel]) -> None:
    kernel = start_kernel()
    kernel.execute("%copilot_session e2e-active")
    reply_of(kernel.execute(copilot_cell("hello")))
    out = kernel.execute("%copilot_session --delete e2e-active --yes").stdout
    assert "no session is active now" in out
    assert error_shown(kernel.execute(copilot_cell("still there?"))).startswith(
        "UsageError: No active Copilot session"
    )


def test_an_abstention_shows_the_banner_without_the_marker(
    start_kernel: Callable[[], Kernel],
) -> None:
    kernel = start_kernel()
    kernel.execute("%copilot_session e2e-abstain")
    reply = reply_of(kernel.execute(copilot_cell("Is this safe? [[echo:abstain]]")))
    assert "🛑 Copilot abstained" in reply["data"]["text/html"]
    assert "[[POR_ABSTAIN]]" not in json.dumps(reply)
    assert reply["metadata"]["copilot_magic"]["abstained"] is True
    history = kernel.execute("%copilot_session --history").printed
    assert "🛑 Copilot abstained" in history
    assert "[[POR_ABSTAIN]]" not in history


@pytest.mark.reliability("Faults", "Kernel interrupt mid-reply")
@pytest.mark.both_runtimes
@pytest.mark.sdk_smoke
def test_interrupt_aborts_the_reply_keeps_the_partial_text_and_the_next_cell_works(
    start_kernel: Callable[[], Kernel], data_dir: Path, reliability: Reliability
) -> None:
    reliability.tried("interrupt the kernel (Jupyter's stop button) while a reply streams")
    kernel = start_kernel()
    kernel.execute("%copilot_session e2e-interrupt")
    msg_id = kernel.send(copilot_cell(f"tell me a long story {SLOW_REPLY}"))
    wait_for_streaming(kernel, msg_id)
    kernel.interrupt()
    interrupted = kernel.collect(msg_id, timeout=30)
    assert interrupted.error is None, interrupted.error_line  # a calm stop, not an error
    assert interrupted.stderr == ""
    final = kernel.updates[-1]["content"]
    assert final["metadata"]["copilot_magic"]["stage"] == "interrupted"
    assert final["data"]["text/html"].count("⏹ Interrupted") == 1
    partial = final["data"]["text/plain"].split("\n⏹")[0]
    full = 'I received 1 user message. The first was: "tell me a long story".'
    assert partial, "no partial text kept"
    assert full.startswith(partial)
    assert len(partial) < len(full), partial

    html = reply_of(kernel.execute(copilot_cell("short one")))["data"]["text/html"]
    assert "I received 2 user messages." in html
    assert 'The last was: "short one"' in html
    history = kernel.execute("%copilot_session --history").printed
    assert "[1] Copilot: (interrupted at " in history  # the runtime kept no word of it
    assert f"what the cell showed:)\n{partial}" in history
    kernel.execute("%copilot_session other")
    assert kernel.execute("%copilot_session --delete e2e-interrupt --yes").error is None
    assert files_containing(data_dir, "long story") == [], "the partial reply outlived its session"
    reliability.held(
        f"one calm line under the partial reply, no error; {len(partial)} of {len(full)} "
        "characters kept on screen and in --history, gone with the session; the runtime "
        "survived and the next cell continued"
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("%copilot_session bad.id", "UsageError: Invalid session id 'bad.id'"),
        ("%copilot_session ../x", "UsageError: Invalid session id '../x'"),
        ("%copilot_session " + "x" * 251, "UsageError: Session id is 251 characters long"),
        ("%copilot_session --history nope", "UsageError: No session 'nope'"),
        ("%copilot_session --delete nope", "UsageError: No session 'nope'"),
        ("%%copilot --session nope\nhello", "UsageError: No session 'nope'"),
        ("%%copilot\nhello", "UsageError: No active Copilot session"),
        ("%copilot_session --bogus", "UsageError: unrecognized arguments: --bogus"),
    ],
)
def test_bad_input_gives_a_one_line_usage_error(
    start_kernel: Callable[[], Kernel], line: str, expected: str
) -> None:
    result = start_kernel().execute(line)
    assert error_shown(result).startswith(expected)


def test_new_refuses_an_existing_id(start_kernel: Callable[[], Kernel]) -> None:
    kernel = start_kernel()
    kernel.execute("%copilot_session e2e-taken")
    reply_of(kernel.execute(copilot_cell("hello")))
    result = start_kernel().execute("%copilot_session e2e-taken --new")
    assert error_shown(result).startswith("UsageError: Session 'e2e-taken' exists already")


def test_session_option_talks_to_another_session_without_switching(
    start_kernel: Callable[[], Kernel],
) -> None:
    kernel = start_kernel()
    kernel.execute("%copilot_session e2e-side")
    reply_of(kernel.execute(copilot_cell("the side topic is tides")))
    kernel.execute("%copilot_session e2e-main")
    reply_of(kernel.execute(copilot_cell("the main topic is maps")))

    side = reply_of(kernel.execute(copilot_cell("and the side topic?", "--session e2e-side")))
    assert (
        'I received 2 user messages. The first was: "the side topic is tides"'
        in (side["data"]["text/html"])
    )
    assert side["metadata"]["copilot_magic"]["session_id"] == "e2e-side"
    assert kernel.execute("%copilot_session").stdout.strip() == "Active session: e2e-main"
    main = reply_of(kernel.execute(copilot_cell("and the main one?")))["data"]["text/html"]
    assert 'I received 2 user messages. The first was: "the main topic is maps"' in main


@pytest.mark.both_runtimes
@pytest.mark.sdk_smoke
def test_a_second_kernel_is_refused_a_held_session_unless_it_takes_over(
    start_kernel: Callable[[], Kernel],
) -> None:
    first = start_kernel()
    first.execute("%copilot_session e2e-shared")
    reply_of(first.execute(copilot_cell("kernel one was here first")))

    second = start_kernel()
    refused = error_shown(second.execute("%copilot_session e2e-shared"))
    assert refused.startswith("SessionBusy: Session 'e2e-shared' is open in another kernel")
    assert "--takeover" in refused

    taken = second.execute("%copilot_session e2e-shared --takeover")
    assert taken.stdout.startswith("Resumed session e2e-shared: 1 turn")
    html = reply_of(second.execute(copilot_cell("kernel two now")))["data"]["text/html"]
    assert 'I received 2 user messages. The first was: "kernel one was here first"' in html


SESSION_FLAGS = sorted(n for names, _ in SESSION_OPTIONS for n in names if n.startswith("-"))
COMPLETIONS = [  # (cell, cursor, the options Tab must offer)
    ("%copilot_session --", None, [f for f in SESSION_FLAGS if f.startswith("--")]),
    ("%copilot_session -", None, SESSION_FLAGS),
    ("%copilot_session --ex", None, ["--export"]),
    ("%copilot_session some-id --t", None, ["--takeover"]),
    ("x = 1\n%copilot_session --l", None, ["--list"]),
    (
        "%%copilot --\nhello",
        len("%%copilot --"),
        ["--again", "--code", "--error", "--fork", "--session"],
    ),
]


@pytest.mark.reliability("Bad input", "Tab completion after %copilot_session --")
def test_tab_after_a_dash_offers_only_the_options(
    start_kernel: Callable[[], Kernel], reliability: Reliability
) -> None:
    reliability.tried(
        "complete_request in a kernel for " + ", ".join(repr(c) for c, _, _ in COMPLETIONS),
        times=len(COMPLETIONS),
    )
    kernel = start_kernel()
    for cell, cursor, expected in COMPLETIONS:
        reply = kernel.complete(cell, cursor)
        end = len(cell) if cursor is None else cursor
        assert reply["status"] == "ok", cell
        assert sorted(reply["matches"]) == expected, cell  # no builtins, nothing else
        typed = cell[:end].rsplit(maxsplit=1)[-1]
        assert (reply["cursor_start"], reply["cursor_end"]) == (end - len(typed), end), cell
    plain = kernel.complete("pri")
    assert "print" in plain["matches"]  # Python completion elsewhere is untouched
    reliability.held(
        f"{len(COMPLETIONS)} of {len(COMPLETIONS)}: exactly the options starting with the typed "
        "prefix, replacing it; Python names still complete in ordinary code"
    )


@pytest.mark.both_runtimes
def test_opening_the_first_session_says_copilot_is_starting_then_what_happened(
    start_kernel: Callable[[], Kernel],
) -> None:
    kernel = start_kernel()
    seen: list[dict[str, Any]] = []
    opened = kernel.collect(kernel.send("%copilot_session starting-note"), on_message=seen.append)
    assert opened.error is None, opened.error_line
    shown = [
        (m["msg_type"], m["content"]["data"]["text/plain"])
        for m in seen
        if m["msg_type"] in ("display_data", "update_display_data")
    ]
    assert shown == [
        ("display_data", "⏳ Starting Copilot to open starting-note…"),
        ("update_display_data", ""),
    ]
    assert opened.stdout == "Created session starting-note\n"
    again = kernel.collect(kernel.send("%copilot_session other-note"), on_message=seen.append)
    assert again.displays == [], "a running runtime needs no note"
