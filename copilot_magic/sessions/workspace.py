"""Which program made a session, as the runtime records it in the session's ``workspace.yaml``.

Every client of the runtime writes to the same session store. When a client
creates a session the runtime writes ``client_name`` into
``session-state/<id>/workspace.yaml``: the name an SDK program gives
(copilot_magic gives :data:`~copilot_magic.sessions.models.OUR_CLIENT`; an SDK
program that gives none is recorded as ``sdk``), or the name an ACP client
sends (jupyter-ai's Copilot chat: ``Jupyter AI``). A later resume by another
client does not change it. Measured with runtime 1.0.102.
"""

from __future__ import annotations

import json
from pathlib import Path

WORKSPACE_FILE = "workspace.yaml"
_KEY = "client_name:"


def made_by(folder: Path) -> str:
    """The client that made the session in ``folder``, or ``""`` when none is recorded."""
    try:
        with (folder / WORKSPACE_FILE).open(encoding="utf-8", errors="replace") as lines:
            found = next((line for line in lines if line.startswith(_KEY)), "")
    except OSError:
        return ""
    return _scalar(found[len(_KEY) :].strip())


def _scalar(text: str) -> str:
    """A one-line YAML scalar as written by the runtime: plain, "double" or 'single' quoted."""
    if text.startswith('"'):
        try:
            return str(json.loads(text))
        except ValueError:
            return text.strip('"')
    if text.startswith("'") and text.endswith("'") and len(text) > 1:
        return text[1:-1].replace("''", "'")
    return text
