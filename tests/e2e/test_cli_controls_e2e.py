"""The ``copilot-magic`` session controls on the real runtime: rename, fork, rewind, star,
usage, models and compact, and what the command prints for each.

What each control does is proven once at the store (``test_controls_contract_e2e.py``);
here the command calls it and shows the result. Sessions are made through the real
runtime and the echo model in this process, and the store is closed before the command
runs. The command runs in this process (``cli.main``, with the environment a person's
shell would give it); one test runs it as a person does, a subprocess without a terminal,
with its question before a rewind.
Their refusals of bad input and of unknown sessions are unit tests over the
real store and a fake SDK client (``tests/unit/test_control_refusals_fake_client.py``);
those that need the real runtime's answers are in ``test_cli_e2e.py``
(``test_mistakes_and_failures_are_one_line_with_the_right_status``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from runtime_support import backdate_sessions, converse

from copilot_magic.sessions.store import SessionStore
from copilot_magic.testing.echo_model import EchoModelServer

from .cli_runner import Ran

MISSING_RUNTIME = {"COPILOT_CLI_PATH": "/nonexistent"}


def listed(
    run_cli: Callable[..., Ran], env: dict[str, str] | None = None
) -> dict[str, dict[str, object]]:
    ran = run_cli("list", "--json", env=env)
    assert ran.status == 0, ran.err
    return {entry["id"]: entry for entry in json.loads(ran.out)}


def table_rows(run_cli: Callable[..., Ran]) -> dict[str, str]:
    ran = run_cli("list")
    assert ran.status == 0, ran.err
    header, *rows = ran.out.splitlines()
    assert header.split() == ["ID", "TITLE", "LAST", "ACTIVE", "TOKENS", "IN/OUT", "TURNS"]
    return {row.split()[0]: row for row in rows}


def said(ran: Ran) -> str:
    """The one line a successful command printed."""
    assert (ran.status, ran.err) == (0, ""), ran.out + ran.err
    (line,) = ran.out.splitlines()
    return line


def files_holding(root: Path, word: str) -> list[str]:
    """Every file under ``root`` (hidden ones too) whose bytes contain ``word``."""
    needle = word.encode()
    found = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            if not path.is_symlink() and needle in path.read_bytes():
                found.append(str(path.relative_to(root)))
    return found


def test_a_title_from_rename_shows_as_text_in_list_and_list_json(
    run_here: Callable[..., Ran], open_store: Callable[[], SessionStore]
) -> None:
    store = open_store()
    converse(store, "ctl-title", "first question about churn")
    converse(store, "ctl-untitled", "another question")
    store.close()

    title = "Churn <b>Q3</b> & friends"
    assert said(run_here("rename", "ctl-title", title)) == f"Renamed session ctl-title: {title}"
    sessions = listed(run_here)
    assert sessions["ctl-title"]["title"] == title  # a string, the markup as typed
    assert sessions["ctl-untitled"]["title"] == "another question"
    rows = table_rows(run_here)
    assert f"  {title}  " in rows["ctl-title"]
    assert "&lt;" not in rows["ctl-title"]

    spaced = said(run_here("rename", "ctl-title", "  Churn study  "))
    assert spaced == "Renamed session ctl-title: Churn study"
    assert listed(run_here)["ctl-title"]["title"] == "Churn study"


def test_a_fork_at_a_turn_holds_those_turns_and_leaves_its_source(
    run_here: Callable[..., Ran], open_store: Callable[[], SessionStore], data_dir: Path
) -> None:
    store = open_store()
    converse(store, "ctl-src", "one apricot", "two banana", "three cherry")
    store.close()
    source_history = (data_dir / "session-state" / "ctl-src" / "events.jsonl").read_bytes()

    forked = run_here("fork", "ctl-fork", "ctl-src", "--at", "2")
    assert said(forked) == "Forked ctl-src into ctl-fork: 2 turns (turns 1 to 2 of ctl-src)."
    shown = run_here("show", "ctl-fork")
    assert shown.status == 0, shown.err
    assert shown.out.startswith("Session ctl-fork: 2 turns\nUsed: — (no model request yet)\n")
    assert "one apricot" in shown.out
    assert "two banana" in shown.out
    assert "three cherry" not in shown.out
    assert said(run_here("usage", "ctl-fork")) == "ctl-fork: — (no model request yet)"
    assert (data_dir / "session-state" / "ctl-src" / "events.jsonl").read_bytes() == (
        source_history
    ), "the fork changed its source"
    assert listed(run_here)["ctl-src"]["turns"] == 3

    whole = said(run_here("fork", "ctl-whole", "ctl-src"))
    assert whole == "Forked ctl-src into ctl-whole: 3 turns (all of ctl-src's)."
    assert {"ctl-src", "ctl-fork", "ctl-whole"} <= set(listed(run_here))


def test_a_starred_session_is_listed_first_and_kept_by_a_clean_up(
    run_here: Callable[..., Ran], open_store: Callable[[], SessionStore], data_dir: Path
) -> None:
    store = open_store()
    converse(store, "ctl-star", "star me")
    converse(store, "ctl-plain", "not me")  # the most recent: first without the star
    store.close()

    assert said(run_here("star", "ctl-star")) == (
        "Starred ctl-star: listed first, and clean-ups keep it."
    )
    sessions = listed(run_here)
    assert list(sessions) == ["ctl-star", "ctl-plain"]
    assert (sessions["ctl-star"]["starred"], sessions["ctl-plain"]["starred"]) == (True, False)
    offline = listed(run_here, env=MISSING_RUNTIME)
    assert list(offline) == ["ctl-star", "ctl-plain"]
    assert offline["ctl-star"]["starred"] is True
    rows = table_rows(run_here)
    assert "  ★ star me  " in rows["ctl-star"]
    assert "★" not in rows["ctl-plain"]

    backdate_sessions(data_dir)
    dry = run_here("cleanup", "0", "--dry-run")
    assert dry.status == 0, dry.err
    lines = dry.out.splitlines()
    assert lines[0] == "1 session idle for more than 0 days would be deleted (1 turn):"
    assert lines[1].startswith("  ctl-plain  1 turn, last active ")
    assert lines[2:] == ["Kept:", "  ctl-star (starred)", "Dry run: nothing deleted."]

    assert said(run_here("unstar", "ctl-star")) == (
        "Unstarred ctl-star: clean-ups may delete it again."
    )
    assert listed(run_here)["ctl-star"]["starred"] is False


def test_rewind_asks_for_yes_then_removes_the_turn_from_show_and_from_every_file(
    run_cli: Callable[..., Ran], open_store: Callable[[], SessionStore], data_dir: Path
) -> None:
    store = open_store()
    converse(store, "ctl-rewind", "keep this one", "forget quokkaword now")
    store.close()
    assert files_holding(data_dir, "quokkaword"), "the word was never stored"

    refused = run_cli("rewind", "ctl-rewind", "1")
    assert refused.status == 2
    assert refused.out.splitlines() == [
        "The last turn of ctl-rewind would go: “forget quokkaword now”."
    ]
    assert "Nothing removed: stdin is not a terminal" in refused.error_line
    assert "add --yes" in refused.error_line
    assert listed(run_cli)["ctl-rewind"]["turns"] == 2

    rewound = said(run_cli("rewind", "ctl-rewind", "1", "--yes"))
    assert rewound == (
        "Removed 1 turn from ctl-rewind (“forget quokkaword now”), from its history and from "
        "disk; 1 turn left."
    )
    shown = run_cli("show", "ctl-rewind")
    assert shown.out.startswith("Session ctl-rewind: 1 turn\n"), shown.out
    assert "keep this one" in shown.out
    assert "quokkaword" not in shown.out
    assert listed(run_cli)["ctl-rewind"]["turns"] == 1
    assert files_holding(data_dir, "quokkaword") == []


def test_usage_is_the_sum_of_what_the_model_reported(
    run_here: Callable[..., Ran],
    open_store: Callable[[], SessionStore],
    echo_model: EchoModelServer,
) -> None:
    echo_model.clear_reported_usage()
    store = open_store()
    converse(store, "ctl-usage", "count my tokens", "and these too")
    store.close()
    reported = echo_model.reported_usage
    assert len(reported) >= 2, reported
    tokens_in, tokens_out = sum(i for i, _ in reported), sum(o for _, o in reported)
    line = f"{tokens_in:,} in · {tokens_out:,} out · {len(reported)} requests (echo)"

    assert said(run_here("usage", "ctl-usage")) == f"ctl-usage: {line}"
    assert said(run_here("usage", "ctl-usage", env=MISSING_RUNTIME)) == f"ctl-usage: {line}"
    entry = listed(run_here)["ctl-usage"]
    assert entry["usage"] == {
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "requests": len(reported),
        "models": ["echo"],
    }
    assert listed(run_here, env=MISSING_RUNTIME)["ctl-usage"]["usage"] == entry["usage"]
    assert f"  {tokens_in:,}/{tokens_out:,}  " in table_rows(run_here)["ctl-usage"]
    shown = run_here("show", "ctl-usage")
    assert shown.out.startswith(f"Session ctl-usage: 2 turns\nUsed: {line}\n\n[1] You, ")
    assert run_here("show", "ctl-usage", env=MISSING_RUNTIME).out == shown.out


def test_models_lists_the_providers_models_and_marks_the_configured_one(
    run_here: Callable[..., Ran],
) -> None:
    ran = run_here("models")
    assert (ran.status, ran.err) == (0, ""), ran.err
    assert ran.out.splitlines() == ["* echo", "  echo-2"]
    other = run_here("models", env={"COPILOT_MAGIC_MODEL": "echo-2"})
    assert other.out.splitlines() == ["  echo", "* echo-2"]
    unknown = run_here("models", env={"COPILOT_MAGIC_MODEL": "gpt-nothing"})
    assert unknown.out.splitlines() == [
        "  echo",
        "  echo-2",
        "(the configured model 'gpt-nothing' is not in this list)",
    ]
    dead = run_here("models", env={"COPILOT_MAGIC_PROVIDER_URL": "http://127.0.0.1:1/v1"})
    assert dead.status == 1
    assert "Could not list the models of the provider at http://127.0.0.1:1/v1" in dead.error_line


def test_compact_says_what_it_did_and_keeps_every_turn(
    run_here: Callable[..., Ran], open_store: Callable[[], SessionStore]
) -> None:
    store = open_store()
    converse(store, "ctl-compact", "a first long question", "a second long question")
    store.close()
    line = said(run_here("compact", "ctl-compact"))
    assert line.startswith("Compacted ctl-compact: "), line
    assert line.endswith(" The history keeps every turn."), line
    shown = run_here("show", "ctl-compact")
    assert shown.out.startswith("Session ctl-compact: 2 turns\n"), shown.out
    assert "a first long question" in shown.out
