"""The ``copilot-magic`` command on a real data directory, the real runtime and the echo model.

Sessions are made through the real runtime and the echo model, then the store
that made them is closed, so they are on disk and held by nobody (except in the
test that keeps one open on purpose). Every command runs without a terminal,
with a recognisable fake provider key in its environment; the runner checks that
no output shows that key, that no error has a traceback, and that the command
left no runtime process behind.

What a command prints and leaves on disk is checked in this process (``run_here``:
``cli.main`` with the environment a person's shell would give it). As a person runs
it, a subprocess with stdin /dev/null (``run_cli``), run only what needs a process of
its own: exit statuses as a shell sees them (a failure and a refusal in
``test_mistakes_and_failures_are_one_line_with_the_right_status``), doctor with the
runtime missing, and the commands beside a session held by another process (this one).
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import socket
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from reliability import Reliability
from runtime_support import backdate_sessions, converse

import copilot_magic
from copilot_magic.config import setting_names
from copilot_magic.sessions.store import SessionStore
from copilot_magic.testing.echo_model import EchoModelServer

from .cells import files_containing
from .cli_runner import Ran

OWN = {"COPILOT_MAGIC_RUNTIME": "own"}
DOCTOR_NAMES = [
    "copilot_magic",
    "github-copilot-sdk",
    "runtime",
    "runtime version",
    "runtime starts",
    "model access",
    "data directory",
    "data size",
    "data privacy",
    "sessions",
    *(f"setting {name}" for name in setting_names()),  # every declared setting, in order
]


@pytest.fixture
def two_sessions(open_store: Callable[[], SessionStore]) -> None:
    """``cli-plain`` (two ordinary turns) and ``cli-abstain`` (its second turn abstained)."""
    store = open_store()
    converse(store, "cli-plain", "about pandas", "about seaborn plots")
    converse(store, "cli-abstain", "first question", "tricky one [[echo:abstain]]")
    store.close()


def listed(
    run: Callable[..., Ran], *options: str, env: dict[str, str] | None = None
) -> dict[str, dict[str, object]]:
    ran = run("list", "--json", *options, env=env)
    assert ran.status == 0, ran.err
    return {entry["id"]: entry for entry in json.loads(ran.out)}


@pytest.mark.usefixtures("two_sessions")
def test_list_prints_a_table_and_json_with_turns_and_abstentions(
    run_here: Callable[..., Ran], data_dir: Path, tmp_path: Path
) -> None:
    table = run_here("list")
    assert table.status == 0, table.err
    header, *rows = table.out.splitlines()
    assert header.split() == ["ID", "TITLE", "LAST", "ACTIVE", "TOKENS", "IN/OUT", "TURNS"]
    assert sorted(row.split()[0] for row in rows) == ["cli-abstain", "cli-plain"]
    assert all(row.split()[-1] == "2" for row in rows)

    sessions = listed(run_here)
    assert set(sessions) == {"cli-plain", "cli-abstain"}
    plain, abstain = sessions["cli-plain"], sessions["cli-abstain"]
    assert (plain["turns"], plain["abstentions"]) == (2, 0)
    assert (abstain["turns"], abstain["abstentions"]) == (2, 1)
    assert plain["title"] == "about pandas"
    assert plain["in_use_elsewhere"] is False
    for entry in sessions.values():
        assert datetime.fromisoformat(str(entry["created"])).tzinfo is not None
        assert datetime.fromisoformat(str(entry["last_active"])).tzinfo is not None

    elsewhere = {"COPILOT_HOME": str(tmp_path / "another-home")}
    assert run_here("list", env=elsewhere).out.strip() == "No sessions stored yet."
    overridden = run_here("list", "--data-dir", str(data_dir), env=elsewhere)
    assert "cli-plain" in overridden.out


@pytest.mark.usefixtures("two_sessions")
def test_list_search_matches_id_title_and_full_text(run_here: Callable[..., Ran]) -> None:
    assert set(listed(run_here, "--search", "PLAIN")) == {"cli-plain"}  # the id
    assert set(listed(run_here, "--search", "Pandas")) == {"cli-plain"}  # the title
    assert set(listed(run_here, "--search", "seaborn")) == {"cli-plain"}  # a later prompt
    assert set(listed(run_here, "--search", "TRICKY")) == {"cli-abstain"}
    assert set(listed(run_here, "--search", "I received")) == {"cli-plain", "cli-abstain"}
    none = run_here("list", "--search", "okapi")
    assert (none.status, none.out.strip()) == (0, "No session matches 'okapi'.")


@pytest.mark.usefixtures("two_sessions")
def test_show_prints_both_turns_and_marks_the_abstention(run_here: Callable[..., Ran]) -> None:
    ran = run_here("show", "cli-abstain")
    assert ran.status == 0, ran.err
    assert ran.out.startswith("Session cli-abstain: 2 turns")
    assert "[1] You" in ran.out
    assert "first question" in ran.out
    assert "tricky one [[echo:abstain]]" in ran.out
    assert ran.out.count("🛑 Copilot abstained") == 1
    assert re.search(r"\[2\] Copilot, [^\n]*🛑 Copilot abstained", ran.out)
    assert "[[POR_ABSTAIN]]" not in ran.out
    assert 'I received 2 user messages. The first was: "first question"' in ran.out


@pytest.mark.reliability("Delete means gone", "copilot-magic delete")
def test_delete_with_yes_removes_every_trace(
    run_here: Callable[..., Ran],
    open_store: Callable[[], SessionStore],
    data_dir: Path,
    reliability: Reliability,
) -> None:
    reliability.tried("`copilot-magic delete ID --yes`; search every file")
    store = open_store()
    converse(store, "cli-doomed", "the word is coelacanth")
    converse(store, "cli-kept", "keep me")
    store.close()

    refused = run_here("delete", "cli-doomed")
    assert refused.status == 2
    assert "add --yes" in refused.error_line
    assert set(listed(run_here)) == {"cli-doomed", "cli-kept"}

    ran = run_here("delete", "cli-doomed", "--yes")
    assert (ran.status, ran.out.strip()) == (0, "Deleted session cli-doomed and all its data.")
    assert set(listed(run_here)) == {"cli-kept"}
    assert files_containing(data_dir, "coelacanth") == []
    reliability.held("refused without --yes off a terminal; then its word in no file")


@pytest.mark.usefixtures("two_sessions")
def test_mistakes_and_failures_are_one_line_with_the_right_status(
    run_cli: Callable[..., Ran], run_here: Callable[..., Ran], tmp_path: Path, data_dir: Path
) -> None:
    """Unknown sessions looked up on the real runtime, and the refusals whose figures come from
    its files (a rewind count, the turns a fork's --at may name): the person's mistakes, status
    2. Some run as a person runs the command, a process whose exit status a shell sees; the
    others in this process. Every other refusal (a bad id, suffix, verb, title
    or count; each control's unknown session, on a fake runtime) is a unit test:
    tests/unit/test_cli_parsing.py and test_control_refusals_fake_client.py."""
    for run, args in (
        (run_here, ["delete", "cli-nothing", "--yes"]),
        (run_cli, ["show", "cli-nothing"]),
        (run_here, ["export", "cli-nothing", str(tmp_path / "x.ipynb")]),
    ):
        missing = run(*args)
        assert (missing.status, missing.out) == (2, ""), args
        assert "No session 'cli-nothing'" in missing.error_line, args
    for run, args, words in [
        (
            run_cli,
            ["rewind", "cli-plain", "99", "--yes"],
            "Session 'cli-plain' has 2 turns; cannot rewind 99.",
        ),
        (
            run_here,
            ["fork", "cli-f2", "cli-plain", "--at", "99"],
            "--at takes a turn of 'cli-plain', which has 2 turns.",
        ),
    ]:
        refused = run(*args)
        assert (refused.status, refused.out) == (2, ""), args
        assert refused.error_line == f"copilot-magic: error: {words}"
    sessions = listed(run_here)
    assert set(sessions) == {"cli-plain", "cli-abstain"}
    assert sessions["cli-plain"]["turns"] == 2
    assert not (tmp_path / "x.ipynb").exists()
    assert not (data_dir / "session-state" / "cli-f2").exists()


@pytest.mark.usefixtures("two_sessions")
def test_export_writes_a_valid_notebook_and_markdown(
    run_here: Callable[..., Ran], tmp_path: Path
) -> None:
    notebook_path = tmp_path / "cli-abstain.ipynb"
    ran = run_here("export", "cli-abstain", str(notebook_path))
    assert (ran.status, ran.out.strip()) == (0, f"Exported session cli-abstain to {notebook_path}")
    notebook = nbformat.read(str(notebook_path), as_version=4)
    nbformat.validate(notebook)
    sources = [cell.source for cell in notebook.cells]
    assert "%copilot_session cli-abstain" in sources
    assert "%%copilot\nfirst question" in sources
    assert "%%copilot\ntricky one [[echo:abstain]]" in sources

    markdown_path = tmp_path / "cli-abstain.md"
    ran = run_here("export", "cli-abstain", str(markdown_path))
    assert (ran.status, ran.out.strip()) == (0, f"Exported session cli-abstain to {markdown_path}")
    markdown = markdown_path.read_text(encoding="utf-8")
    assert "first question" in markdown
    assert "tricky one [[echo:abstain]]" in markdown
    assert markdown.count("🛑 Copilot abstained") == 1


@pytest.mark.usefixtures("two_sessions")
@pytest.mark.reliability("Delete means gone", "copilot-magic cleanup")
def test_cleanup_dry_run_lists_and_keeps_then_yes_deletes(
    run_here: Callable[..., Ran], data_dir: Path, reliability: Reliability
) -> None:
    reliability.tried("`copilot-magic cleanup 0`: dry run, then --yes")
    recently = run_here("cleanup", "0", "--dry-run")
    assert "  cli-plain (used in the last hour)" in recently.out.splitlines(), recently.out
    backdate_sessions(data_dir)
    dry = run_here("cleanup", "0", "--dry-run")
    assert dry.status == 0, dry.err
    lines = dry.out.splitlines()
    assert lines[0] == "2 sessions idle for more than 0 days would be deleted (4 turns):"
    assert sorted(line.split()[0] for line in lines[1:3]) == ["cli-abstain", "cli-plain"]
    assert lines[-1] == "Dry run: nothing deleted."
    assert set(listed(run_here)) == {"cli-plain", "cli-abstain"}

    recent = run_here("cleanup", "30", "--yes")
    assert recent.status == 0
    assert recent.out.splitlines()[-1] == "Nothing to delete."

    refused = run_here("cleanup", "0")
    assert refused.status == 2
    assert "add --yes" in refused.error_line
    assert set(listed(run_here)) == {"cli-plain", "cli-abstain"}

    done = run_here("cleanup", "0", "--yes")
    assert done.status == 0, done.err
    assert done.out.splitlines()[-1] == "Deleted 2 sessions (4 turns)."
    assert listed(run_here) == {}
    assert files_containing(data_dir, "seaborn") == []
    reliability.held("the dry run deleted nothing; then the sessions' words in no file")


@pytest.mark.usefixtures("two_sessions")
def test_cleanup_of_one_notebook_touches_only_its_sessions(
    run_here: Callable[..., Ran], tmp_path: Path, data_dir: Path
) -> None:
    notebook = tmp_path / "analysis.ipynb"  # an exported notebook records its session
    assert run_here("export", "cli-plain", str(notebook)).status == 0
    backdate_sessions(data_dir)
    ran = run_here("cleanup", "0", "--notebook", str(notebook), "--yes")
    assert ran.status == 0, ran.err
    assert ran.out.splitlines()[0].startswith("1 session idle for more than 0 days")
    assert set(listed(run_here)) == {"cli-abstain"}


def test_cleanup_spares_a_session_held_by_another_process(
    run_cli: Callable[..., Ran], open_store: Callable[[], SessionStore], data_dir: Path
) -> None:
    holder = open_store()
    converse(holder, "cli-held", "I stay open in another process")
    writer = open_store()
    converse(writer, "cli-idle", "nobody holds me")
    writer.close()

    assert listed(run_cli)["cli-held"]["in_use_elsewhere"] is True
    busy = run_cli("delete", "cli-held", "--yes")
    assert busy.status == 1
    assert "in use by another process" in busy.error_line

    backdate_sessions(data_dir)
    ran = run_cli("cleanup", "0", "--yes")
    assert ran.status == 0, ran.err
    assert "Kept:\n  cli-held (in use by another process)" in ran.out
    assert ran.out.splitlines()[-1] == "Deleted 1 session (1 turn)."
    assert set(listed(run_cli)) == {"cli-held"}


def doctor_report(out: str) -> dict[str, str]:
    pairs = [line.split(": ", 1) for line in out.splitlines()]
    assert [name for name, _value in pairs] == DOCTOR_NAMES, out
    return dict(pairs)


def test_doctor_reports_every_check_and_never_the_key(
    run_here: Callable[..., Ran],
    open_store: Callable[[], SessionStore],
    runtime_path: str,
    echo_model: EchoModelServer,
    data_dir: Path,
) -> None:
    store = open_store()
    converse(store, "cli-doctor", "hello")
    store.close()

    ran = run_here("doctor", env=OWN)  # the shared runtime's report: test_shared_runtime_e2e
    assert (ran.status, ran.err) == (0, ""), ran.out + ran.err
    report = doctor_report(ran.out)
    assert report["copilot_magic"] == copilot_magic.__version__
    assert report["github-copilot-sdk"] == importlib.metadata.version("github-copilot-sdk")
    assert report["runtime"] == f"{runtime_path}, one for each kernel"
    assert report["runtime version"].startswith("GitHub Copilot CLI 1.0.")
    assert re.fullmatch(r"OK \(\d+ ms\)", report["runtime starts"])
    assert re.fullmatch(
        re.escape(f"echo via openai provider at {echo_model.url}; the model server answered in ")
        + r"\d+ ms, listing echo, echo-2",
        report["model access"],
    )
    assert report["data directory"] == str(data_dir)
    assert re.fullmatch(r"\d+(\.\d)? (B|KiB|MiB|GiB|TiB)", report["data size"])
    assert report["data privacy"] == "owner-only"
    assert report["sessions"] == "1"
    assert report["setting data_dir"] == f"{str(data_dir)!r} (from COPILOT_HOME)"
    assert report["setting provider_api_key"] == "'********' (from COPILOT_MAGIC_PROVIDER_API_KEY)"
    assert "sk-" not in ran.out


def test_doctor_with_a_missing_runtime_fails_with_the_reason(
    run_cli: Callable[..., Ran], tmp_path: Path
) -> None:
    missing = str(tmp_path / "no-such-copilot")
    ran = run_cli("doctor", env={**OWN, "COPILOT_CLI_PATH": missing})
    assert ran.status == 1
    assert f"The Copilot runtime was not found at {missing}" in ran.error_line
    report = doctor_report(ran.out)
    assert report["runtime"] == f"{missing}, one for each kernel"
    assert report["runtime version"].startswith("unknown (")
    assert report["runtime starts"].startswith("no: The Copilot runtime was not found")
    assert report["sessions"] == "unknown"


def test_doctor_without_provider_or_sign_in_says_so(run_here: Callable[..., Ran]) -> None:
    ran = run_here("doctor", env={"COPILOT_MAGIC_PROVIDER_URL": ""})
    assert ran.status == 1
    assert "no GitHub sign-in and no model provider" in ran.error_line
    report = doctor_report(ran.out)
    assert report["runtime starts"].startswith("OK (")
    assert report["model access"] == "not signed in"


@pytest.mark.reliability("Faults", "copilot-magic doctor with a dead or silent model server")
def test_doctor_with_an_unreachable_model_server_fails_in_one_line_naming_the_url(
    run_here: Callable[..., Ran], reliability: Reliability
) -> None:
    dead = "http://127.0.0.1:1/v1"
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        silent = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        reliability.tried(
            f"copilot-magic doctor with COPILOT_MAGIC_PROVIDER_URL={dead} (nothing listens), "
            "then at a port that accepts and never answers",
            times=2,
        )
        took = {}
        for url in (dead, silent):
            began = time.monotonic()
            ran = run_here("doctor", env={"COPILOT_MAGIC_PROVIDER_URL": url})
            took[url] = time.monotonic() - began
            assert ran.status == 1, ran.out
            report = doctor_report(ran.out)
            assert report["runtime starts"].startswith("OK (")
            assert report["model access"].startswith(f"echo via openai provider at {url}; no: ")
            assert ran.error_line.startswith(
                f"copilot-magic: error: The model server at {url}/models could not be reached: "
            )
    assert ran.error_line.endswith(": no answer within 5 s.")
    reliability.held(
        f"exit 1 and one line naming {dead}/models (Connection refused, {took[dead]:.1f} s in "
        f"all) and the silent port's URL (no answer within 5 s, {took[silent]:.1f} s in all); "
        "the key never shown"
    )


@pytest.mark.usefixtures("two_sessions")
@pytest.mark.reliability("Faults", "copilot-magic list and show with the runtime binary missing")
def test_list_and_show_work_from_the_files_when_the_runtime_is_missing(
    run_here: Callable[..., Ran], reliability: Reliability
) -> None:
    missing = {"COPILOT_CLI_PATH": "/nonexistent"}
    reliability.tried(
        "copilot-magic list, list --json, list --search and show ID with COPILOT_CLI_PATH="
        "/nonexistent, compared with the same commands on the runtime",
        times=4,
    )
    with_runtime, without = listed(run_here), listed(run_here, env=missing)
    assert set(without) == set(with_runtime) == {"cli-plain", "cli-abstain"}
    same = ("title", "turns", "abstentions", "damaged")
    for session_id, entry in with_runtime.items():
        assert {k: without[session_id][k] for k in same} == {k: entry[k] for k in same}
        assert without[session_id]["created"] == entry["created"]
    table = run_here("list", env=missing)
    assert table.status == 0, table.err
    assert sorted(row.split()[0] for row in table.out.splitlines()[1:]) == sorted(without)
    assert set(listed(run_here, "--search", "seaborn", env=missing)) == {"cli-plain"}

    shown, shown_offline = (
        run_here("show", "cli-abstain"),
        run_here("show", "cli-abstain", env=missing),
    )
    assert (shown_offline.status, shown_offline.err) == (0, "")
    assert shown_offline.out == shown.out
    gone = run_here("show", "cli-nothing", env=missing)
    assert gone.status == 2  # the person's mistake: no such session
    assert "No session 'cli-nothing'" in gone.error_line
    reliability.held(
        "exit 0 each: the same ids, titles, turns, abstentions and creation times as through the "
        "runtime, and the same transcript byte for byte; an unknown id is still one line"
    )
