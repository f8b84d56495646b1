"""A question asked in the middle of a reply shows where it happened (issue 26, item 8).

The cell reads in the order things happened: the reply before the tool call, the code
Copilot asks to run with the question, what the code printed, then the rest of the
reply; while the person is asked, the reply says "waiting for you", not "writing…".
The turn stays one reply.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from fake_store import FakeStore, Update
from IPython.core.interactiveshell import InteractiveShell

from copilot_magic.config import Settings
from copilot_magic.output_metadata import METADATA_KEY
from copilot_magic.sessions.inbox import ToolCall
from copilot_magic.sessions.turn import Delta
from copilot_magic.ui.conversation import Answer, converse
from copilot_magic.ui.kernel_view import QUESTION, ErrorWatch, ShellKernel
from copilot_magic.views.render import WAITING_FOR_YOU, WRITING

BEFORE = "Let me check what it prints."
AFTER = "It printed x now 2, so x is 2."
RUN = "x = x + 1\nprint('x now', x)"
HIDING = "print('hello') #\b\b\b\b"  # backspaces hide what follows: refused, nothing asked


class Cell:
    """What a notebook cell shows, in order, as the notebook keeps it: displays (an update
    replaces its display where it is), printed text, and each question asked, with what
    the reply above it said while the person was asked."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.outputs: list[dict[str, Any]] = []
        self._displays: dict[str, dict[str, Any]] = {}

    def publish(
        self,
        data: dict[str, str],
        metadata: dict[str, Any] | None = None,
        source: object = None,
        *,
        transient: dict[str, str] | None = None,
        update: bool = False,
        **ignored: object,
    ) -> None:
        display_id = (transient or {}).get("display_id")
        if update and display_id is not None:
            self._displays[display_id].update(data=data, metadata=metadata or {})
            return
        shown = {"output": "display", "data": data, "metadata": metadata or {}}
        self.outputs.append(shown)
        if display_id is not None:
            self._displays[display_id] = shown

    def write(self, text: str) -> int:
        if self.outputs and self.outputs[-1]["output"] == "printed":
            self.outputs[-1]["text"] += text
        else:
            self.outputs.append({"output": "printed", "text": text})
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False  # a terminal's output sent to a pipe: the reply is printed as plain text

    def input(self, prompt: str) -> str:
        replies = self.replies()
        above = replies[-1]["data"]["text/html"] if replies else ""
        self.outputs.append({"output": "question", "prompt": prompt, "reply above": above})
        return self.answer

    def replies(self) -> list[dict[str, Any]]:
        """The reply's displays, in order."""
        return [o for o in self.outputs if METADATA_KEY in o.get("metadata", {})]

    def read(self) -> list[str]:
        """Each output as the person reads it: a reply's or the code's plain text, what was
        printed, the question."""
        return [
            o["data"]["text/plain"] if o["output"] == "display" else o.get("text", o.get("prompt"))
            for o in self.outputs
        ]


@pytest.fixture
def fake() -> FakeStore:
    store = FakeStore()
    store.settings = Settings(kernel_tools=True, run_code="ask")
    store.sessions["demo"] = []
    return store


def _asking_to_run(code: str) -> list[Update]:
    """A reply that says BEFORE, asks to run ``code``, then says AFTER."""
    return [Delta(BEFORE), ToolCall("run_code", {"code": code}), Delta(f"{BEFORE}\n\n{AFTER}")]


def _ask(
    ip: InteractiveShell,
    monkeypatch: pytest.MonkeyPatch,
    store: FakeStore,
    answer: str = "y",
    *,
    rich: bool = True,
) -> tuple[Cell, Answer]:
    """Run a cell (``rich``: a notebook's) that gets ``store.reply``, answering ``answer``
    to each question."""
    cell = Cell(answer)
    monkeypatch.setattr(ip.display_pub, "publish", cell.publish)
    monkeypatch.setattr(sys, "stdout", cell)
    monkeypatch.setattr("builtins.input", cell.input)
    ip.user_ns["x"] = 1
    kernel = ShellKernel(ip, ErrorWatch(), 4000, rich=rich)
    answered = converse(store, "demo", "Check it", rich=rich, kernel=kernel)  # type: ignore[arg-type]
    monkeypatch.undo()
    return cell, answered


def test_the_code_question_and_output_show_between_the_reply_before_the_call_and_its_rest(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch, fake: FakeStore
) -> None:
    fake.reply = _asking_to_run(RUN)
    cell, _ = _ask(ip, monkeypatch, fake)
    assert cell.read() == [
        BEFORE,
        "Copilot wants to run this code in the kernel (2 lines):\n"
        "    x = x + 1\n    print('x now', x)",
        QUESTION,
        "x now 2\n",
        f"▶ ran the code Copilot asked to run (you said yes)\n{AFTER}",
    ]
    first, rest = cell.replies()
    assert first["metadata"][METADATA_KEY]["stage"] == "continued"
    assert (rest["metadata"][METADATA_KEY]["stage"], rest["metadata"][METADATA_KEY]["part"]) == (
        "done",
        2,
    )
    assert "part" not in first["metadata"][METADATA_KEY]
    assert AFTER not in first["data"]["text/html"]
    assert BEFORE not in rest["data"]["text/html"]


def test_while_the_person_is_asked_the_reply_says_waiting_for_you_not_writing(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch, fake: FakeStore
) -> None:
    fake.reply = _asking_to_run(RUN)
    cell, _ = _ask(ip, monkeypatch, fake, answer="n")
    (question,) = [o for o in cell.outputs if o["output"] == "question"]
    assert WAITING_FOR_YOU in question["reply above"]
    assert WRITING not in question["reply above"]
    assert BEFORE in question["reply above"]
    first = cell.replies()[0]["data"]
    assert WAITING_FOR_YOU not in first["text/html"] + first["text/plain"]  # answered
    assert cell.read()[3:] == [
        "Not run.\n",
        f"✋ did not run the code Copilot asked to run\n{AFTER}",
    ]


def test_refused_code_shows_between_the_reply_before_the_call_and_its_rest(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch, fake: FakeStore
) -> None:
    fake.reply = _asking_to_run(HIDING)
    cell, _ = _ask(ip, monkeypatch, fake)
    reading = cell.read()
    assert reading[0] == BEFORE
    assert reading[1].startswith("Copilot wants to run this code in the kernel (1 line):")
    assert reading[1].splitlines()[-1].startswith("Not run: the code holds ")
    assert reading[2:] == [
        "✋ did not run the code Copilot asked to run (it held hidden characters)\n" + AFTER
    ]


def test_the_turn_stays_one_reply_however_many_displays_show_it(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch, fake: FakeStore
) -> None:
    fake.reply = _asking_to_run(RUN)
    cell, answered = _ask(ip, monkeypatch, fake)
    assert len(cell.replies()) == 2
    assert answered == Answer(f"{BEFORE}\n\n{AFTER}", 1)
    assert [(call[0], call[1]) for call in fake.calls] == [
        ("turn", "Check it"),
        ("turn ended", "demo"),
    ]


def test_in_a_terminal_the_code_and_question_begin_on_a_line_under_the_reply_before(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch, fake: FakeStore
) -> None:
    fake.reply = _asking_to_run(RUN)
    cell, _ = _ask(ip, monkeypatch, fake, rich=False)
    assert cell.read() == [
        f"{BEFORE}\nCopilot wants to run this code in the kernel (2 lines):\n"
        "    x = x + 1\n    print('x now', x)\n",
        QUESTION,
        f"x now 2\n\n{AFTER}\n",
    ]


def test_each_question_of_a_reply_shows_where_it_was_asked(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch, fake: FakeStore
) -> None:
    middle = "Once more."
    fake.reply = [
        Delta(BEFORE),
        ToolCall("run_code", {"code": RUN}),
        Delta(f"{BEFORE}\n\n{middle}"),
        ToolCall("run_code", {"code": RUN}),
        Delta(f"{BEFORE}\n\n{middle}\n\n{AFTER}"),
    ]
    cell, _ = _ask(ip, monkeypatch, fake)
    ran = "▶ ran the code Copilot asked to run (you said yes)"
    reading = cell.read()
    assert [reading[0], *reading[2:5], *reading[6:]] == [
        BEFORE,
        QUESTION,
        "x now 2\n",
        f"{ran}\n{middle}",
        QUESTION,
        "x now 3\n",
        f"{ran}\n{AFTER}",
    ]
    assert reading[1] == reading[5]  # the code, each time
    parts = [r["metadata"][METADATA_KEY].get("part", 1) for r in cell.replies()]
    assert parts == [1, 2, 3]
