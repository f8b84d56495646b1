"""Rewinding with the notebook: what an accepted change keeps, how a rewind offers it back,
and what each front end says (a fake notebook and a fake comm stand in for the frontend)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pytest
from test_notebook_tools import AnsweringComm

from copilot_magic.cli.console import Console
from copilot_magic.cli.verbs import CHANGES_STAY, verb
from copilot_magic.kernel.notebook import AppliedChange, Change
from copilot_magic.kernel.notebook_revert import (
    NO_FRONTEND_TO_REVERT,
    NOT_REWOUND,
    revert,
    summary,
    undoing,
)
from copilot_magic.kernel.notebook_tools import proposal
from copilot_magic.operations.table import operation
from copilot_magic.sessions.store import SessionStore
from copilot_magic.ui.frontend_link import FrontendGone, FrontendLink
from copilot_magic.ui.rerun import replace_last
from copilot_magic.ui.session_command import _revert_notebook

EDITED = AppliedChange("edit", "plot", "x = 1", "x = 2", "code", "", "a.ipynb")
ADDED = AppliedChange("insert", "new", "", "## Notes", "markdown", "plot", "a.ipynb")
DELETED = AppliedChange("delete", "old", "y = 0", "", "code", "new", "a.ipynb")


def test_each_accepted_change_reaches_the_watcher_with_what_the_frontend_answered() -> None:
    kept: list[AppliedChange] = []
    for change, answer in [
        (proposal("edit", "plot", "x = 1", "x = 2"), {"outcome": "accepted", "source": "x = 2"}),
        (
            proposal("insert", "plot", "", "## Notes", "markdown"),
            {"outcome": "accepted", "cell_id": "new"},
        ),
        (proposal("delete", "old", "y = 0", ""), {"outcome": "accepted", "above": "new"}),
        (proposal("edit", "plot", "x = 2", "x = 3"), {"outcome": "rejected"}),
        (proposal("run", "plot", "x = 2", "x = 2"), {"outcome": "accepted"}),
    ]:
        comm = AnsweringComm(answer)
        link = FrontendLink(comm)
        comm.frontend_says({"type": "hello", "protocol": 1, "path": "a.ipynb"})
        assert link.answered(1.0)
        link.watch(kept.append)
        link.propose(change)
    assert kept == [EDITED, ADDED, DELETED]  # a rejection and a run change nothing


def test_with_apply_edits_and_new_cells_land_at_once_and_are_kept_deletions_still_ask() -> None:
    kept: list[AppliedChange] = []
    sent = []
    hidden = proposal("edit", "plot", "x = 1", "x = 2\u202e")
    for change, answer in [
        (proposal("edit", "plot", "x = 1", "x = 2"), {"outcome": "applied", "source": "x = 2"}),
        (proposal("delete", "old", "y = 0", ""), {"outcome": "rejected"}),
        (hidden, {"outcome": "rejected"}),  # hidden characters: reviewed, never at once
        (replace(undoing(EDITED), purpose="rewind"), {"outcome": "accepted"}),  # not kept
    ]:
        comm = AnsweringComm(answer)
        link = FrontendLink(comm)
        comm.frontend_says({"type": "hello", "protocol": 1, "path": "a.ipynb"})
        assert link.answered(1.0)
        link.apply_at_once = True
        link.watch(kept.append)
        link.propose(change)
        sent += [data["purpose"] for data in comm.sent if data.get("type") == "request"]
    assert sent == ["apply", "propose", "propose", "rewind"]
    assert kept == [EDITED]


def test_a_rewind_returns_the_changes_of_the_turns_it_removed_and_forgets_them(
    store: SessionStore,
) -> None:
    store.open("nb")
    for prompt in ("one", "two", "three"):
        store.converse("nb", prompt)
    store.keep_notebook_change("nb", 1, EDITED)
    store.keep_notebook_change("nb", 2, ADDED)
    store.keep_notebook_change("nb", 3, DELETED)
    assert store.notebook_changes("nb", 1) == [(2, ADDED), (3, DELETED)]
    rewound = store.rewind("nb", 2)
    assert rewound.changes == ((2, ADDED), (3, DELETED))
    assert store.notebook_changes("nb", 0) == [(1, EDITED)]
    store.delete("nb")
    assert store.notebook_changes("nb", 0) == []


def test_each_change_is_offered_back_as_the_proposal_that_undoes_it() -> None:
    back = undoing(EDITED)
    assert (back.kind, back.cell_id, back.old, back.source, back.purpose) == (
        "edit",
        "plot",
        "x = 2",
        "x = 1",
        "rewind",
    )
    assert back.lines == (("-", "x = 2"), ("+", "x = 1"))
    removed = undoing(ADDED)
    assert (removed.kind, removed.cell_id, removed.old) == ("delete", "new", "## Notes")
    put_back = undoing(DELETED)
    assert (put_back.kind, put_back.cell_id, put_back.source) == ("insert", "new", "y = 0")
    assert (put_back.new_id, put_back.cell_type) == ("old", "code")


class ScriptedNotebook:
    """Answers each proposal with the next scripted outcome."""

    def __init__(self, *outcomes: str) -> None:
        self.outcomes = list(outcomes)
        self.proposed: list[Change] = []

    def cells(self) -> Sequence[Mapping[str, Any]]:
        return []

    def propose(self, change: Change) -> Mapping[str, Any]:
        self.proposed.append(change)
        return {"outcome": self.outcomes.pop(0)}

    def watch(self, applied: Any) -> None:
        raise AssertionError("a rewind's own changes are not kept")


def test_a_revert_goes_newest_first_and_names_a_cell_edited_since() -> None:
    notebook = ScriptedNotebook("accepted", "changed", "rejected")
    elsewhere = AppliedChange("edit", "z", "a", "b", notebook="b.ipynb")
    changes = [(1, elsewhere), (2, EDITED), (2, ADDED), (3, DELETED)]
    lines = revert(notebook, changes, "a.ipynb")
    assert [change.kind for change in notebook.proposed] == ["insert", "delete", "edit"]
    assert lines == [
        "↩ turn 3 deleted cell old: put back",
        "↩ turn 2 added cell new below cell plot: left as it is: it was edited since",
        "↩ turn 2 edited cell plot: kept as it is (you chose Keep)",
        "↩ turn 1 edited cell z: left, it was made in b.ipynb",
    ]
    assert summary(changes) == (
        "In the notebook, turn 1 edited cell z; turn 2 edited cell plot, added cell new "
        "below cell plot; turn 3 deleted cell old."
    )


class FakeKernel:
    """A kernel whose notebook frontend answered (or not: ``None``)."""

    def __init__(self, notebook: ScriptedNotebook | None) -> None:
        self._notebook, self.let_go_calls = notebook, 0
        self.frontends = None  # no probe to tell to wait

    def notebook(self) -> ScriptedNotebook | None:
        return self._notebook

    def let_go(self) -> None:
        self.let_go_calls += 1


class FakeMagics:
    def __init__(self, kernel: FakeKernel) -> None:
        self._kernel = kernel

    def kernel(self) -> FakeKernel:
        return self._kernel


@pytest.mark.parametrize("frontend", [True, False])
def test_the_magic_offers_the_changes_back_where_a_frontend_answers_and_says_so_where_not(
    capsys: pytest.CaptureFixture[str], frontend: bool
) -> None:
    notebook = ScriptedNotebook("accepted") if frontend else None
    if notebook is not None:
        notebook.path = "a.ipynb"  # type: ignore[attr-defined]
    kernel = FakeKernel(notebook)
    magics: Any = FakeMagics(kernel)
    _revert_notebook(magics, [(2, EDITED)], named=False)
    said = capsys.readouterr().out.splitlines()
    assert said[0] == "In the notebook, turn 2 edited cell plot."
    if frontend:
        assert said[1:3] == [
            "Each is offered back on its cell, newest first: Revert or Keep.",
            "↩ turn 2 edited cell plot: put back as it was",
        ]
    else:
        assert said[1] == NO_FRONTEND_TO_REVERT
    assert said[-1] == NOT_REWOUND
    assert kernel.let_go_calls == 1  # the link to the frontend ends with the cell


def test_the_command_line_names_the_notebook_changes_of_the_turns_it_removes(
    store: SessionStore, capsys: pytest.CaptureFixture[str]
) -> None:
    store.open("cli")
    store.converse("cli", "one")
    store.keep_notebook_change("cli", 1, EDITED)
    args = argparse.Namespace(session_id="cli", count="1", yes=True, dry_run=False)
    assert verb(operation("rewind"))(args, store, Console([])) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[-2:] == ["In the notebook, turn 1 edited cell plot.", CHANGES_STAY]
    assert store.notebook_changes("cli", 0) == []


def test_a_page_gone_during_a_revert_names_the_changes_not_offered() -> None:
    class GoneAfterOne(ScriptedNotebook):
        def propose(self, change: Change) -> Mapping[str, Any]:
            if self.proposed:
                raise FrontendGone("the notebook's frontend stopped answering")
            return super().propose(change)

    lines = revert(GoneAfterOne("accepted"), [(1, EDITED), (1, ADDED), (2, DELETED)], "")
    assert lines == [
        "↩ turn 2 deleted cell old: put back",
        "↩ turn 1 added cell new below cell plot: not offered, the notebook's frontend "
        "stopped answering",
        "↩ turn 1 edited cell plot: not offered, the notebook's frontend stopped answering",
    ]


def test_a_cell_asked_again_in_place_keeps_the_changes_of_the_turn_it_replaces(
    store: SessionStore,
) -> None:
    store.open("again")
    store.converse("again", "one")
    store.keep_notebook_change("again", 1, EDITED)
    replace_last(store, "again")
    assert store.notebook_changes("again", 0) == [(1, EDITED)]


def test_a_fork_takes_none_of_its_sources_notebook_changes(store: SessionStore) -> None:
    store.open("source")
    store.converse("source", "one")
    store.keep_notebook_change("source", 1, EDITED)
    store.fork("forked", "source")
    assert store.rewind("forked", 1).changes == ()  # rewinding the fork offers nothing back
    assert store.notebook_changes("source", 0) == [(1, EDITED)]


def test_a_deleted_raw_cell_is_put_back_as_a_raw_cell() -> None:
    raw = AppliedChange("delete", "r", "plain text", "", "raw", "plot", "a.ipynb")
    assert undoing(raw).cell_type == "raw"


def test_a_rewind_whose_session_gained_a_turn_while_asked_removes_nothing(
    store: SessionStore,
) -> None:
    """The preview counted the turns; a turn asked meanwhile (another kernel) would shift
    which turns go, so the run refuses (the fake client keeps no history file: the count
    the preview made is given as the plan)."""
    from copilot_magic.errors import SessionBusy
    from copilot_magic.operations.removing import rewind

    store.open("moved")
    store.converse("moved", "one")
    with pytest.raises(SessionBusy, match="changed while you were asked"):
        rewind(store, {"session_id": "moved", "count": 1}, plan=5)
