"""The table of operations on stored sessions: one declaration each, for every front end.

``%copilot_session --NAME ...`` in a notebook, ``copilot-magic NAME ...`` in a
terminal, their help and the README's reference are made from :data:`OPERATIONS`
(the README's table is checked against :func:`reference_table`). Opening a session
and talking to it are the magic's own (``%copilot_session ID``, ``%%copilot``);
``doctor`` and ``serve`` the command line's.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from copilot_magic.operations.grammar import Argument, Operation, Option, Preview, Request, Run
from copilot_magic.sessions.ids import validate_session_id


def _later(module: str, name: str) -> Any:
    """``copilot_magic.operations.<module>.<name>``, imported when first called: the
    implementations reach the store and the runtime, which ``%load_ext`` does not load."""

    def call(*args: Any) -> Any:
        found = importlib.import_module(f"copilot_magic.operations.{module}")
        return getattr(found, name)(*args)

    call.__name__ = name
    return call


def _run(module: str, name: str) -> Run:
    run: Run = _later(module, name)
    return run


def _preview(name: str) -> Callable[[Any, Request], Preview]:
    preview: Callable[[Any, Request], Preview] = _later("removing", name)
    return preview


def _whole(what: str, least: int) -> Callable[[str], int]:
    """A parser of whole numbers of ``what``, ``least`` or more."""

    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number of {what}") from None
        if number < least:
            raise ValueError(f"the number of {what} is {least} or more")
        return number

    return parse


_days, _count, _turn = _whole("days", 0), _whole("turns", 1), _whole("turns", 0)


def _session(name: str, what: str, *, active_default: bool = True) -> Argument:
    return Argument(name, "ID", what, validate_session_id, active_default)


_ID = "session_id"
OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "list",
        "List the stored sessions, most recently active first.",
        "Every stored session: its id, its title (its first prompt, or the one rename gave "
        "it; a ★ before a starred one, the client's name before one another client made), "
        "last active, tokens in/out and turns; starred sessions first. --search keeps the "
        "sessions whose id, title, prompts or replies contain TEXT, --client those whose "
        "client contains NAME (copilot_magic, sdk, Jupyter AI), both ignoring case. On the "
        "command line, --json prints a JSON array (id, title, created, last_active, turns, "
        "abstentions, in_use_elsewhere, damaged, starred, usage, client). Works from the "
        "files alone "
        "when the runtime cannot start.",
        _run("reading", "listing"),
        options=(
            Option("--search", "only sessions that mention TEXT", "TEXT"),
            Option("--client", "only sessions made by client NAME", "NAME"),
            Option("--json", "print JSON instead of a table", command_line_only=True),
        ),
    ),
    Operation(
        "show",
        "Show a session's transcript.",
        "Every prompt and reply with its time, the tokens the session used under the "
        "heading, abstentions marked 🛑 Copilot abstained, control characters shown as "
        "escapes. In a notebook it returns a transcript (.turns for code). Reading never "
        "changes a session; it works from the files alone when the runtime cannot start.",
        _run("reading", "show"),
        arguments=(_session(_ID, "the session to show"),),
        aliases=("history",),
    ),
    Operation(
        "usage",
        "Tokens in and out, model requests and models of a session.",
        "The sums of the usage the runtime recorded for each model request of the turns "
        "the history holds now (a rewound or replaced turn's requests go with it); a dash "
        "when there are none. Works from the files alone when the runtime cannot start.",
        _run("reading", "usage"),
        arguments=(_session(_ID, "the session to report on"),),
    ),
    Operation(
        "models",
        "List the models you can use; * marks the configured one.",
        "The models your provider's GET /models lists, or those your GitHub Copilot "
        "sign-in offers; * marks the configured model (the model setting).",
        _run("reading", "models"),
    ),
    Operation(
        "export",
        "Write a session to FILE: a notebook (.ipynb) or Markdown (.md).",
        "The notebook holds one %%copilot cell per turn, with the reply as its output, and "
        "the two cells that reconnect to the session.",
        _run("reading", "export"),
        arguments=(
            _session(_ID, "the session to export"),
            Argument("file", "FILE", "where to write it (.ipynb or .md)"),
        ),
    ),
    Operation(
        "rename",
        "Give a session a title.",
        "The title shown by list, the panel and other Copilot tools: one line of 1 to 100 "
        "characters, without control characters, kept as plain text (markup is shown as "
        "typed, never rendered).",
        _run("changing", "rename"),
        arguments=(
            _session(_ID, "the session to rename"),
            Argument("title", "TITLE", "its new title (quote it)"),
        ),
    ),
    Operation(
        "fork",
        "Start session NEW from a copy of SRC's conversation.",
        "NEW holds SRC's turns (with --at TURN, turns 1 to TURN only), so its next prompt "
        "goes on from there. SRC is only read. NEW must be an id no session has yet; in a "
        "notebook NEW becomes the active session.",
        _run("changing", "fork"),
        arguments=(
            Argument("new_id", "NEW", "the id of the new session", validate_session_id),
            Argument(
                "source_id",
                "SRC",
                "the session to copy",
                validate_session_id,
                active_default=True,
            ),
        ),
        options=(Option("--at", "keep turns 1 to TURN only (default: all)", "TURN", _turn),),
    ),
    Operation(
        "star",
        "Star a session: listed first, and kept by every clean-up.",
        "The star stays until unstar; delete still deletes a starred session.",
        _run("changing", "star"),
        arguments=(_session(_ID, "the session to star"),),
    ),
    Operation(
        "unstar",
        "Take a session's star away.",
        "Clean-ups may delete it again.",
        _run("changing", "unstar"),
        arguments=(_session(_ID, "the session to unstar"),),
    ),
    Operation(
        "compact",
        "Summarise a session's earlier conversation, to free the model's context.",
        "From the next turn on the model sees a summary in place of the older messages; "
        "the history keeps every turn. Says how many messages the summary replaced, the "
        "tokens that freed when the runtime counted any, and what the model sees now.",
        _run("changing", "compact"),
        arguments=(_session(_ID, "the session to compact"),),
    ),
    Operation(
        "rewind",
        "Remove the last N turns of a session, for good.",
        "They go from its history, from what the model sees next and from every file "
        "under the data directory. In JupyterLab and Notebook 7 the notebook changes those "
        "turns made are then offered back on their cells; on the command line they are "
        "named, and stay.",
        _run("removing", "rewind"),
        arguments=(
            _session(_ID, "the session to rewind"),
            Argument("count", "N", "how many of its last turns to remove", _count),
        ),
        preview=_preview("rewind_preview"),
        nothing_done="Nothing removed",
    ),
    Operation(
        "delete",
        "Delete a session and all its data, for good.",
        "Its history, its rows in the runtime's database, its full-text index entries and "
        "copilot_magic's records of it. A session open in another process is refused.",
        _run("removing", "delete"),
        arguments=(_session(_ID, "the session to delete", active_default=False),),
        preview=_preview("delete_preview"),
    ),
    Operation(
        "cleanup",
        "Delete the sessions idle for more than DAYS days (0: any idle one).",
        "Lists what would go, with their turns, and what stays and why: starred sessions, "
        "sessions used in the last hour, the active session and sessions open in another "
        "process are always kept. --notebook limits it to the sessions tied to that "
        "notebook.",
        _run("removing", "cleanup"),
        arguments=(Argument("days", "DAYS", "idle for more than DAYS days", _days),),
        options=(Option("--notebook", "only the sessions of this notebook", "PATH"),),
        preview=_preview("cleanup_preview"),
        plans=True,
    ),
)


def operation(name: str) -> Operation:
    """The operation called ``name`` (or one of its aliases)."""
    for candidate in OPERATIONS:
        if name == candidate.name or name in candidate.aliases:
            return candidate
    raise KeyError(name)


def options_by_flag() -> dict[str, tuple[Option, list[Operation]]]:
    """Every option, once, with the operations that take it."""
    found: dict[str, tuple[Option, list[Operation]]] = {}
    for candidate in OPERATIONS:
        for option in candidate.all_options():
            found.setdefault(option.flag, (option, []))[1].append(candidate)
    return found


def reference_table() -> str:
    """The README's table of operations, in Markdown."""
    rows = [
        "| operation | in a notebook | in a terminal | asks first | what it does |",
        "|---|---|---|---|---|",
    ]
    for op in OPERATIONS:
        magic = f"`%copilot_session {op.magic_form()}`"
        command = f"`copilot-magic {op.command_form()}`"
        asks = "yes" if op.destroys else ""
        rows.append(f"| {op.name} | {magic} | {command} | {asks} | {op.summary} {op.details} |")
    return "\n".join(rows)
