"""Which notebook a kernel runs, and which conversation belongs to that notebook.

A notebook finds its conversation in three places, in this order:

1. copilot_magic's records beside the runtime's data (:mod:`~copilot_magic.sessions.records`),
   which map a notebook's absolute path to the session it used last;
2. the saved notebook itself: every ``%%copilot`` output carries its session id
   in its metadata, so a notebook that was renamed, moved or copied still names
   its conversation (the last one recorded wins);
3. otherwise a new session, named from the user and the notebook.

Nothing here needs IPython.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from anyascii import anyascii

from copilot_magic.errors import DataDirUnwritable
from copilot_magic.output_metadata import session_of
from copilot_magic.sessions.ids import MAX_SESSION_ID_LENGTH
from copilot_magic.sessions.records import records_of

_NOT_ID_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]+")
_DASHES = re.compile(r"-{2,}")


def find_notebook(
    configured: str, user_ns: Mapping[str, Any], environ: Mapping[str, str]
) -> Path | None:
    """The notebook this kernel runs, if it can be known.

    In order: ``CopilotMagics.notebook_path`` (its default is ``COPILOT_MAGIC_NOTEBOOK``),
    VS Code's ``__vsc_ipynb_file__``, and the ``JPY_SESSION_NAME`` that JupyterLab and
    Notebook 7 give the kernel when it starts.
    """
    for candidate in (
        configured,
        user_ns.get("__vsc_ipynb_file__", ""),
        environ.get("JPY_SESSION_NAME", ""),
    ):
        if isinstance(candidate, str) and candidate.lower().endswith(".ipynb"):
            return Path(candidate).expanduser().absolute()
    return None


def sessions_recorded_in(notebook: Path) -> list[str]:
    """Session ids recorded in a saved notebook's outputs, in order (exports' own first).

    The notebook is read as the JSON it is (nbformat 4, what every frontend has written
    since 2015), not through nbformat: importing nbformat costs more than a second, and
    only the metadata of outputs is read here.
    """
    try:
        document = json.loads(notebook.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []  # not saved yet, or not a notebook we can read
    outputs = [output for cell in _each(document, "cells") for output in _each(cell, "outputs")]
    found = (session_of(_field(part, "metadata")) for part in (document, *outputs))
    return [session_id for session_id in found if session_id is not None]


def _field(part: object, name: str) -> dict[str, Any] | None:
    """``part[name]`` when both are JSON objects (a damaged notebook may hold anything)."""
    value = part.get(name) if isinstance(part, dict) else None
    return value if isinstance(value, dict) else None


def _each(part: object, name: str) -> list[object]:
    value = part.get(name) if isinstance(part, dict) else None
    return value if isinstance(value, list) else []


class NotebookLinks:
    """The notebook -> session map, in copilot_magic's records database (one transaction a
    change: kernels linking notebooks at once keep every link)."""

    def __init__(self, data_path: Path) -> None:
        self.records = records_of(data_path)

    def session_of(self, notebook: Path) -> str | None:
        rows = self.records.rows("SELECT session FROM notebooks WHERE path = ?", (str(notebook),))
        return str(rows[0][0]) if rows else None

    def link(self, notebook: Path, session_id: str) -> None:
        if self.session_of(notebook) != session_id:
            with self.records.changing() as db:
                db.execute(
                    "INSERT OR REPLACE INTO notebooks VALUES (?, ?)", (str(notebook), session_id)
                )

    def forget_session(self, session_id: str) -> None:
        """Drop every link to a session (it was deleted)."""
        with contextlib.suppress(DataDirUnwritable), self.records.changing(forgetting=True) as db:
            db.execute("DELETE FROM notebooks WHERE session = ?", (session_id,))


def sessions_of_notebook(notebook: Path, links: NotebookLinks) -> list[str]:
    """The sessions tied to a notebook, most recent first, without repeats."""
    found = [links.session_of(notebook), *reversed(sessions_recorded_in(notebook))]
    return list(dict.fromkeys(s for s in found if s))


def current_user(environ: Mapping[str, str]) -> str:
    """The person's name: the JupyterHub user, else the login name."""
    try:
        return environ.get("JUPYTERHUB_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "user"


def new_session_id(user: str, notebook: Path, taken: Callable[[str], bool]) -> str:
    """A readable id like ``ada-sales-analysis``, valid under the id rules, not yet taken.

    Other scripts are spelled in ASCII (``Übersicht — 分析`` gives ``Ubersicht-FenXi``);
    what is left outside the id rules becomes one dash.
    """
    spelled = _NOT_ID_CHARACTERS.sub("-", anyascii(f"{user}-{notebook.stem}"))
    base = _DASHES.sub("-", spelled).strip("-_") or "notebook"
    base = base[: MAX_SESSION_ID_LENGTH - 6].rstrip("-_") or "notebook"
    candidate, number = base, 2
    while taken(candidate):
        candidate, number = f"{base}-{number}", number + 1
    return candidate
