"""Sessions other clients of the runtime made (jupyter-ai's Copilot chat): listed truthfully.

The folders are fabricated as runtime 1.0.102 writes them: an ACP client's
session that was never used is a folder with only ``workspace.yaml``
(``client_name: Jupyter AI``) and no ``events.jsonl``; the runtime records the
turns of every session it closed in ``session-store.db``.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fake_sdk import FakeClient
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from copilot_magic import cli
from copilot_magic.errors import SessionBusy
from copilot_magic.runtime.disk import made_by
from copilot_magic.sessions.files import MISSING, SessionFiles
from copilot_magic.sessions.models import SessionSummary
from copilot_magic.sessions.offline import history_from_files, summaries_from_files
from copilot_magic.sessions.store import SessionStore
from copilot_magic.ui.magics import CopilotMagics
from copilot_magic.views.text import format_session_table, titled

SIGNAL = "[[POR_ABSTAIN]]"


def _folder(data_dir: Path, session_id: str, client: str | None = None) -> Path:
    """A session folder as the runtime makes it, with ``workspace.yaml`` naming ``client``."""
    folder = data_dir / "session-state" / session_id
    folder.mkdir(parents=True)
    if client is not None:
        (folder / "workspace.yaml").write_text(
            f"id: {session_id}\ncwd: /tmp\nclient_name: {client}\nuser_named: false\n",
            encoding="utf-8",
        )
    return folder


def _with_history(folder: Path, prompt: str) -> None:
    events = [
        {"type": "session.start", "data": {"startTime": "2026-12-07T08:00:00.000Z"}},
        {"type": "user.message", "data": {"content": prompt}},
        {"type": "assistant.message", "data": {"content": "a reply"}},
    ]
    lines = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)
    (folder / "events.jsonl").write_text(lines, encoding="utf-8")


def _record_turns(data_dir: Path, session_id: str) -> None:
    """The runtime's store, recording a turn of ``session_id`` (written when it closed)."""
    with sqlite3.connect(data_dir / "session-store.db") as db:
        db.execute("CREATE TABLE IF NOT EXISTS turns (session_id TEXT, turn_index INTEGER)")
        db.execute("INSERT INTO turns VALUES (?, 0)", (session_id,))
    db.close()


@pytest.fixture
def jupyter_ai_store(tmp_path: Path) -> Path:
    """Two unused jupyter-ai sessions (no history file, an empty one), one it used, one of ours."""
    _folder(tmp_path, "ai-unused", "Jupyter AI")
    (_folder(tmp_path, "ai-emptied", "Jupyter AI") / "events.jsonl").write_bytes(b"")
    _with_history(_folder(tmp_path, "ai-used", "Jupyter AI"), "hello from the chat")
    _with_history(_folder(tmp_path, "ours", "copilot_magic"), "hello from a cell")
    return tmp_path


def test_sessions_with_no_history_yet_are_listed_empty_not_damaged(jupyter_ai_store: Path) -> None:
    files = SessionFiles(jupyter_ai_store, SIGNAL)
    listed = {s.session_id: s for s in summaries_from_files(files, set())}
    for unused in ("ai-unused", "ai-emptied"):
        assert (listed[unused].turns, listed[unused].damage) == (0, ""), unused
        assert files.scan(unused).no_history
        assert history_from_files(files, unused) == []
    assert (listed["ai-used"].turns, listed["ai-used"].title) == (1, "hello from the chat")


def test_a_missing_history_is_damage_when_the_runtime_recorded_turns_of_it(
    jupyter_ai_store: Path,
) -> None:
    _record_turns(jupyter_ai_store, "ai-unused")
    scan = SessionFiles(jupyter_ai_store, SIGNAL).scan("ai-unused")
    assert (scan.damage, scan.unusable, scan.no_history) == (MISSING, True, False)


def test_the_list_names_the_client_the_runtime_recorded(jupyter_ai_store: Path) -> None:
    files = SessionFiles(jupyter_ai_store, SIGNAL)
    clients = {s.session_id: s.client for s in summaries_from_files(files, set())}
    assert clients == {
        "ai-unused": "Jupyter AI",
        "ai-emptied": "Jupyter AI",
        "ai-used": "Jupyter AI",
        "ours": "copilot_magic",
    }


@pytest.mark.parametrize(
    ("line", "client"),
    [
        ("client_name: Jupyter AI", "Jupyter AI"),
        ('client_name: "My: client"', "My: client"),
        ("client_name: 'it''s mine'", "it's mine"),
        ("name: no client here", ""),
    ],
)
def test_the_client_is_read_from_workspace_yaml_plain_or_quoted(
    tmp_path: Path, line: str, client: str
) -> None:
    (tmp_path / "workspace.yaml").write_text(f"id: x\n{line}\nfork_count: 0\n", encoding="utf-8")
    assert made_by(tmp_path) == client
    assert made_by(tmp_path / "no-such-folder") == ""


def test_a_session_made_in_another_client_shows_its_name_before_the_title() -> None:
    moment = datetime(2026, 12, 7, tzinfo=UTC)

    def summary(session_id: str, client: str, title: str = "plot it") -> SessionSummary:
        return SessionSummary(session_id, title, moment, moment, 1, client=client)

    assert titled(summary("a", "Jupyter AI")) == "[Jupyter AI] plot it"
    assert titled(summary("b", "Jupyter AI", title="")) == "[Jupyter AI]"
    assert titled(summary("c", "copilot_magic")) == "plot it"
    assert titled(summary("d", "sdk")) == "plot it"  # any SDK program: not told apart
    table = format_session_table([summary("a", "Jupyter AI"), summary("c", "copilot_magic")])
    assert "[Jupyter AI] plot it" in table.splitlines()[1]


def test_the_command_filters_the_list_by_client_and_says_it_in_json(
    jupyter_ai_store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COPILOT_CLI_PATH", "/nonexistent/copilot")  # from the files alone
    data_dir = str(jupyter_ai_store)
    assert cli.main(["--data-dir", data_dir, "list", "--json", "--client", "jupyter ai"]) == 0
    listed = {e["id"]: e for e in json.loads(capsys.readouterr().out)}
    assert set(listed) == {"ai-unused", "ai-emptied", "ai-used"}
    assert listed["ai-unused"]["client"] == "Jupyter AI"
    assert listed["ai-unused"]["damaged"] is None
    assert cli.main(["--data-dir", data_dir, "list", "--client", "nobody"]) == 0
    assert capsys.readouterr().out.strip() == "No session was made by a client named 'nobody'."


def test_opening_a_session_with_no_history_begins_it_as_ours_and_keeps_its_folder(
    store: SessionStore,
) -> None:
    folder = _folder(store.places.data_path, "ai-unused", "Jupyter AI")
    assert [s.session_id for s in store.summaries()] == ["ai-unused"]
    assert store.history("ai-unused") == []
    opened = store.open("ai-unused", must_exist=True)  # as the panel's "Use here" does
    assert opened.created
    client = store.bridge.client()
    assert isinstance(client, FakeClient)
    kind, session_id, options = client.calls[-1]
    assert (kind, session_id, options["client_name"]) == ("create", "ai-unused", "copilot_magic")
    assert (folder / "workspace.yaml").exists()


def test_a_session_another_program_holds_is_refused_naming_that_program(
    store: SessionStore,
) -> None:
    folder = _folder(store.places.data_path, "ai-busy", "Jupyter AI")
    holder = os.getppid()  # alive, older than the lock, and not this store's runtime
    (folder / f"inuse.{holder}.lock").write_text("")
    with pytest.raises(SessionBusy) as refused:
        store.open("ai-busy")
    assert str(refused.value).startswith(
        f"Session 'ai-busy' is open in another program (pid {holder}, a Copilot client); "
    )
    assert "\n" not in str(refused.value)


def test_the_magic_lists_by_client_and_refuses_client_without_list(
    ip: InteractiveShell, store: SessionStore
) -> None:
    _folder(store.places.data_path, "ai-unused", "Jupyter AI")
    ip.run_line_magic("load_ext", "copilot_magic")
    magics = getattr(ip, "_copilot_magics")  # noqa: B009 (untyped: set by load_ext)
    assert isinstance(magics, CopilotMagics)
    magics._store = store
    table = ip.run_line_magic("copilot_session", '--list --client "Jupyter AI"')
    assert table.ids == ["ai-unused"]
    assert ip.run_line_magic("copilot_session", "--list --client copilot_magic") is None
    with pytest.raises(UsageError, match="--client goes with --list"):
        ip.run_line_magic("copilot_session", "--client x")
