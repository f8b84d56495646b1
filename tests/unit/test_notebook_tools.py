"""The notebook tools: what the model reads and hears, what the person is shown to review,
and when they are offered (a fake notebook and a fake comm stand in for the frontend)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from copilot_magic.config import Settings
from copilot_magic.kernel.notebook import (
    APPLYING_FRONTEND,
    NOTEBOOK_TOOLS_OFF,
    WITH_FRONTEND,
    WITHOUT_FRONTEND,
    Change,
    instructions,
)
from copilot_magic.kernel.notebook_tools import (
    APPLIED_AT_ONCE,
    DELETE_CELL,
    EDIT_CELL,
    INSERT_CELL,
    READ_NOTEBOOK,
    RUN_CELL,
)
from copilot_magic.kernel.review_diff import diff_lines
from copilot_magic.kernel.tool import answer
from copilot_magic.kernel.tools import offered, step_line
from copilot_magic.ui.frontend_link import FrontendGone, FrontendLink


class FakeNotebook:
    """Stands in for the frontend: cells, and the person's scripted answer to a review."""

    def __init__(self, outcome: Mapping[str, Any] | None = None) -> None:
        self.cells_held: list[dict[str, Any]] = [
            {"id": "c-1", "type": "markdown", "source": "# Sales", "outputs": []},
            {
                "id": "c-2",
                "type": "code",
                "source": "x = 1\nprint(x)",
                "execution_count": 4,
                "outputs": ["1\n", "token sk-secret-0000"],
            },
        ]
        self.outcome = outcome or {"outcome": "accepted", "source": "x = 2\nprint(x)"}
        self.proposed: list[Change] = []

    def cells(self) -> Sequence[Mapping[str, Any]]:
        return self.cells_held

    def propose(self, change: Change) -> Mapping[str, Any]:
        self.proposed.append(change)
        return self.outcome


class KernelWithNotebook:
    """A fake kernel: its notebook, and the code it ran (printing ``printed``)."""

    def __init__(self, notebook: FakeNotebook | None, printed: str = "") -> None:
        self._notebook = notebook
        self.printed = printed
        self.ran: list[tuple[str, str | None]] = []

    def notebook(self) -> FakeNotebook | None:
        return self._notebook

    def run(self, code: str, cell_id: str | None = None) -> str:
        self.ran.append((code, cell_id))
        return self.printed


def _answer(tool: Any, notebook: FakeNotebook | None, **arguments: Any) -> str:
    kernel: Any = KernelWithNotebook(notebook)
    return answer(tool, kernel, arguments, 4000, ["sk-secret-0000"])


def test_the_notebook_tools_are_offered_only_where_a_frontend_answers_and_edits_are_on() -> None:
    assert READ_NOTEBOOK not in offered(True, "ask", notebook=False)
    notebook_tools = [READ_NOTEBOOK, EDIT_CELL, INSERT_CELL, DELETE_CELL, RUN_CELL]
    assert list(offered(True, "ask", notebook=True)[-5:]) == notebook_tools
    assert RUN_CELL not in offered(True, "never", notebook=True)  # runs always ask
    assert not Settings(notebook_edits="off").notebook_tools_on  # off: none, frontend or not
    assert not Settings(kernel_tools=False).notebook_tools_on
    assert Settings().notebook_tools_on
    assert offered(False, "ask", notebook=True) == ()
    assert instructions(True, "ask", notebook_tools=False) == WITHOUT_FRONTEND
    assert instructions(True, "ask", notebook_tools=True) == WITH_FRONTEND
    assert instructions(True, "off", notebook_tools=False) == NOTEBOOK_TOOLS_OFF
    assert instructions(True, "apply", notebook_tools=True) == APPLYING_FRONTEND
    assert instructions(False, "ask", notebook_tools=False) == ""


def test_read_notebook_gives_every_cell_with_its_id_and_masks_secrets() -> None:
    result = _answer(READ_NOTEBOOK, FakeNotebook())
    assert "--- cell c-1 (markdown)\n# Sales" in result
    assert "--- cell c-2 (code, In [4])\nx = 1\nprint(x)\n--- output:\n1\n" in result
    assert "sk-secret-0000" not in result
    assert step_line("read_notebook", {}, result) == "🔎 read the notebook"


def test_an_edit_is_proposed_as_a_diff_from_what_the_cell_holds_and_the_outcome_is_told() -> None:
    notebook = FakeNotebook()
    result = _answer(EDIT_CELL, notebook, cell_id="c-2", source="x = 2\nprint(x)")
    assert result == "accepted: cell c-2 now holds the source you proposed."
    (change,) = notebook.proposed
    assert (change.kind, change.cell_id, change.old) == ("edit", "c-2", "x = 1\nprint(x)")
    assert (change.source, change.hidden) == ("x = 2\nprint(x)", 0)
    assert change.lines == (("-", "x = 1"), ("+", "x = 2"), (" ", "print(x)"))
    line = step_line("edit_cell", {"cell_id": "c-2", "source": change.source}, result)
    assert line == "✏️ proposed an edit to cell c-2: accepted"


@pytest.mark.parametrize(
    ("outcome", "told", "shown"),
    [
        ({"outcome": "rejected"}, "rejected: the person kept cell c-2 as it was.", "rejected"),
        ({"outcome": "changed"}, "not applied: cell c-2 changed while", "not applied"),
        ({"outcome": "withdrawn"}, "not applied: ", "not applied"),
    ],
)
def test_each_outcome_of_a_review_is_told_to_the_model_and_shown_in_a_word(
    outcome: Mapping[str, Any], told: str, shown: str
) -> None:
    result = _answer(EDIT_CELL, FakeNotebook(outcome), cell_id="c-2", source="x = 2")
    assert result.startswith(told)
    assert step_line("edit_cell", {"cell_id": "c-2"}, result).endswith(f": {shown}")


def test_an_insert_and_a_delete_are_proposed_whole_and_their_outcomes_told() -> None:
    notebook = FakeNotebook({"outcome": "accepted", "cell_id": "c-9"})
    code = {"after_cell_id": "c-1", "cell_type": "markdown", "source": "## Notes\nsee\u202e"}
    inserted = _answer(INSERT_CELL, notebook, **code)
    assert inserted == "accepted: a new markdown cell c-9 is below cell c-1."
    deleted = _answer(DELETE_CELL, notebook, cell_id="c-2")
    assert deleted == "accepted: cell c-2 is deleted."
    insert, delete = notebook.proposed
    assert (insert.kind, insert.cell_id, insert.cell_type, insert.hidden) == (
        "insert",
        "c-1",
        "markdown",
        1,
    )
    assert insert.lines == (("+", "## Notes"), ("+", "see⟨U+202E RIGHT-TO-LEFT OVERRIDE⟩"))
    assert (delete.kind, delete.old, delete.source) == ("delete", "x = 1\nprint(x)", "")
    assert delete.lines == (("-", "x = 1"), ("-", "print(x)"))
    assert step_line("insert_cell", code, inserted).startswith(
        "➕ proposed a new cell below cell c-1: accepted (it held 1 hidden character"
    )
    assert step_line("delete_cell", {"cell_id": "c-2"}, deleted) == (
        "🗑 proposed to delete cell c-2: accepted"
    )
    rejected = _answer(DELETE_CELL, FakeNotebook({"outcome": "rejected"}), cell_id="c-2")
    assert rejected == "rejected: the person kept cell c-2 as it was."
    wrong = _answer(INSERT_CELL, notebook, after_cell_id="c-1", cell_type="raw", source="x")
    assert "cell_type of code or markdown" in wrong


def test_a_cell_runs_only_after_the_person_says_run_and_the_model_gets_what_it_printed() -> None:
    kernel = KernelWithNotebook(FakeNotebook({"outcome": "accepted"}), "2\nsk-secret-0000\n")
    arguments = {"cell_id": "c-2"}
    result = answer(RUN_CELL, kernel, arguments, 4000, ["sk-secret-0000"])  # type: ignore[arg-type]
    assert kernel.ran == [("x = 1\nprint(x)", "c-2")]  # shown under that cell
    assert result.startswith("ran cell c-2 (the person said Run); it printed:\n2\n")
    assert "sk-secret-0000" not in result
    assert step_line("run_cell", arguments, result) == "▶ ran cell c-2 (you said Run)"
    (change,) = kernel.notebook().proposed  # type: ignore[union-attr]
    assert (change.kind, change.old, change.lines) == (
        "run",
        "x = 1\nprint(x)",
        ((" ", "x = 1"), (" ", "print(x)")),
    )
    refused = KernelWithNotebook(FakeNotebook({"outcome": "rejected"}))
    denied = answer(RUN_CELL, refused, arguments, 4000, [])  # type: ignore[arg-type]
    assert denied == "denied: the person chose not to run cell c-2, so nothing ran."
    assert refused.ran == []
    assert step_line("run_cell", arguments, denied) == "✋ did not run cell c-2"
    markdown = answer(RUN_CELL, refused, {"cell_id": "c-1"}, 4000, [])  # type: ignore[arg-type]
    assert markdown == "Cell c-1 is a markdown cell: only code cells run."


def test_a_missing_cell_or_an_edit_to_the_same_source_asks_the_person_nothing() -> None:
    notebook = FakeNotebook()
    missing = _answer(EDIT_CELL, notebook, cell_id="c-9", source="y")
    same = _answer(EDIT_CELL, notebook, cell_id="c-2", source="x = 1\nprint(x)")
    assert "no cell 'c-9'" in missing
    assert "already holds" in same
    assert notebook.proposed == []


def test_without_a_frontend_a_notebook_tool_says_so() -> None:
    result = _answer(READ_NOTEBOOK, None)
    assert "frontend is no longer connected" in result


def test_the_diff_writes_out_hidden_characters_and_keeps_a_carriage_return_in_its_line() -> None:
    lines = diff_lines("a = 1\n", "a = 1\rb = 2\u202e\n")
    assert lines == [
        ("-", "a = 1"),
        ("+", "a = 1⟨U+000D CARRIAGE RETURN⟩b = 2⟨U+202E RIGHT-TO-LEFT OVERRIDE⟩"),
        (" ", ""),
    ]
    notebook = FakeNotebook()
    _answer(EDIT_CELL, notebook, cell_id="c-2", source="x = 1\u200b\nprint(x)")
    assert notebook.proposed[0].hidden == 1
    assert "(it held 1 hidden character, shown as ⟨…⟩)" in step_line(
        "edit_cell", {"cell_id": "c-2", "source": "x\u200b"}, "accepted: …"
    )


def test_a_long_unchanged_run_is_left_out_of_the_diff_but_for_three_lines_each_side() -> None:
    old = "\n".join(f"line {n}" for n in range(20))
    new = old.replace("line 10", "LINE 10")
    lines = diff_lines(old, new)
    assert lines[0] == ("…", "7 unchanged lines")
    assert lines[1:4] == [(" ", "line 7"), (" ", "line 8"), (" ", "line 9")]
    assert lines[4:6] == [("-", "line 10"), ("+", "LINE 10")]
    assert lines[6:9] == [(" ", "line 11"), (" ", "line 12"), (" ", "line 13")]
    assert lines[9] == ("…", "6 unchanged lines")


class FakeComm:
    """Stands in for an ipykernel comm: what the kernel sends, and the frontend's side."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.closed = False
        self.on_message: Any = None
        self.on_closed: Any = None

    def on_msg(self, callback: Any) -> None:
        self.on_message = callback

    def on_close(self, callback: Any) -> None:
        self.on_closed = callback

    def send(self, data: dict[str, Any]) -> None:
        self.sent.append(data)

    def close(self) -> None:
        self.closed = True

    def frontend_says(self, data: dict[str, Any]) -> None:
        self.on_message({"content": {"data": data}})


class AnsweringComm(FakeComm):
    """A frontend that answers each request from another thread, as a subshell does: first
    an answer to another request, then ``answer`` (or it goes away, for ``None``)."""

    def __init__(self, answer: dict[str, Any] | None) -> None:
        super().__init__()
        self.answer = answer

    def send(self, data: dict[str, Any]) -> None:
        super().send(data)
        if data.get("type") == "request":
            threading.Thread(target=self._reply, args=(data["id"],)).start()

    def _reply(self, number: int) -> None:
        self.frontend_says({"type": "answer", "id": number + 1, "answer": {"cells": [{}]}})
        if self.answer is None:
            self.on_closed({})
        else:
            self.frontend_says({"type": "answer", "id": number, "answer": self.answer})


def test_the_link_waits_for_hello_and_matches_each_answer_to_its_request() -> None:
    comm = AnsweringComm({"cells": [{"id": "c-1"}]})
    link = FrontendLink(comm)
    assert not link.answered(0.05)
    comm.frontend_says({"type": "hello", "protocol": 1})
    assert link.answered(0.05)
    assert link.cells() == [{"id": "c-1"}]
    assert comm.sent == [{"type": "request", "id": 1, "operation": "cells"}]


def test_a_frontend_that_goes_away_ends_the_wait_and_the_link_closes_its_comm() -> None:
    comm = AnsweringComm(None)
    link = FrontendLink(comm)
    comm.frontend_says({"type": "hello"})
    with pytest.raises(FrontendGone, match="closed the link"):
        link.cells()
    with pytest.raises(FrontendGone):  # nothing more is asked of a closed link
        link.cells()
    link.close()
    assert comm.closed


class PongingComm(FakeComm):
    """A frontend that answers the kernel's pings (``pongs``) and then, after ``pings`` of
    them, the request; or, with ``pongs`` False, is silent (a reloaded page)."""

    def __init__(self, pongs: bool, pings: int = 3) -> None:
        super().__init__()
        self.pongs, self.pings_before_answer, self.pinged = pongs, pings, 0
        self.request_id = 0

    def send(self, data: dict[str, Any]) -> None:
        super().send(data)
        if data.get("type") == "request":
            self.request_id = data["id"]
        elif data.get("type") == "ping" and self.pongs:
            self.pinged += 1
            self.frontend_says({"type": "pong"})
            if self.pinged == self.pings_before_answer:
                answer = {"type": "answer", "id": self.request_id, "answer": {"cells": []}}
                self.frontend_says(answer)


def test_a_frontend_that_answers_pings_is_waited_for_and_a_silent_one_is_gone() -> None:
    waited = PongingComm(pongs=True, pings=3)
    patient = FrontendLink(waited, ping_every=0.05, silent_for=0.12)  # 3 pings outlast it
    assert patient.cells() == []
    assert waited.pinged == 3
    silent = FrontendLink(PongingComm(pongs=False), ping_every=0.05, silent_for=0.12)
    with pytest.raises(FrontendGone, match="stopped answering"):
        silent.cells()


def test_an_edit_changed_by_the_person_before_accepting_and_one_applied_at_once_are_told() -> None:
    arguments = {"cell_id": "c-2", "source": "x = 2\nprint(x)"}
    changed = FakeNotebook({"outcome": "accepted", "source": "x = 5\nprint(x)", "edited": True})
    result = _answer(EDIT_CELL, changed, **arguments)
    assert result == "accepted after the person changed it: cell c-2 now holds:\nx = 5\nprint(x)"
    line = step_line("edit_cell", arguments, result)
    assert line == "✏️ proposed an edit to cell c-2: accepted with your changes"
    applied = FakeNotebook({"outcome": "applied", "source": "x = 2\nprint(x)"})
    result = _answer(EDIT_CELL, applied, **arguments)
    assert result == f"applied: cell c-2 now holds the source you proposed {APPLIED_AT_ONCE}."
    assert step_line("edit_cell", arguments, result) == "✏️ proposed an edit to cell c-2: applied"
