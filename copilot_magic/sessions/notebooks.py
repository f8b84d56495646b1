"""Which notebook a kernel runs, and which conversation belongs to that notebook.

A notebook finds its conversation in three places, in this order:

1. the link file beside the runtime's data (``<data dir>/copilot-magic/notebooks.json``),
   which maps a notebook's absolute path to the session it used last;
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
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from anyascii import anyascii

from copilot_magic.output_metadata import session_of
from copilot_magic.owner_only import private_folder
from copilot_magic.sessions.ids import MAX_SESSION_ID_LENGTH

LINKS_FILE = Path("copilot-magic") / "notebooks.json"
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
    """Session ids recorded in a saved notebook's outputs, in order (exports' own first)."""
    import nbformat  # about a second to import: only when a notebook is read

    try:
        document = nbformat.read(str(notebook), as_version=4)
    except (OSError, ValueError, KeyError, TypeError):
        return []  # not saved yet, or not a notebook we can read
    recorded: list[str] = []
    exported = session_of(document.metadata)
    if exported is not None:
        recorded.append(exported)
    for cell in document.cells:
        for output in cell.get("outputs", []):
            session_id = session_of(output.get("metadata"))
            if session_id is not None:
                recorded.append(session_id)
    return recorded


class NotebookLinks:
    """The notebook -> session map kept in the data directory."""

    def __init__(self, data_path: Path) -> None:
        self.path = data_path / LINKS_FILE

    def _read(self) -> dict[str, str]:
        try:
            links = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return (
            {k: v for k, v in links.items() if isinstance(v, str)}
            if isinstance(links, dict)
            else {}
        )

    def _write(self, links: dict[str, str]) -> None:
        handle, temporary = tempfile.mkstemp(
            dir=private_folder(self.path.parent), prefix=".notebooks-"
        )
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(links, out, indent=1, sort_keys=True)
        os.replace(temporary, self.path)  # atomic: a concurrent reader sees old or new

    def session_of(self, notebook: Path) -> str | None:
        return self._read().get(str(notebook))

    def link(self, notebook: Path, session_id: str) -> None:
        links = self._read()
        if links.get(str(notebook)) != session_id:
            links[str(notebook)] = session_id
            self._write(links)

    def forget_session(self, session_id: str) -> None:
        """Drop every link to a session (it was deleted)."""
        links = self._read()
        kept = {notebook: sid for notebook, sid in links.items() if sid != session_id}
        if kept != links:
            with contextlib.suppress(OSError):
                self._write(kept)


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
