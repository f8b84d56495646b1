"""A session another client of the runtime made and never used, continued here (real runtime).

jupyter-ai's Copilot chat (the runtime in ``--acp`` mode) leaves such sessions
on first use: a folder with only ``workspace.yaml`` (``client_name: Jupyter
AI``), no ``events.jsonl``, which the runtime neither lists nor resumes. The
folder is made as that runtime 1.0.102 wrote it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from runtime_support import converse

from copilot_magic.sessions.store import SessionStore
from copilot_magic.sessions.workspace import made_by

UNUSED = "0c5ad3f1-7e2a-4c1b-9d7e-2f1b6a9c4e10"
WORKSPACE = f"""id: {UNUSED}
cwd: /tmp
client_name: Jupyter AI
user_named: false
summary_count: 0
fork_count: 0
created_at: 2026-12-07T21:18:55.165Z
updated_at: 2026-12-07T21:18:55.182Z
"""


def test_an_unused_session_of_another_client_is_listed_empty_and_begun_here(
    open_store: Callable[[], SessionStore], data_dir: Path
) -> None:
    folder = data_dir / "session-state" / UNUSED
    folder.mkdir(parents=True)
    (folder / "workspace.yaml").write_text(WORKSPACE, encoding="utf-8")
    store = open_store()
    converse(store, "made-here", "hello")
    listed = {s.session_id: s for s in store.summaries()}
    assert (listed[UNUSED].turns, listed[UNUSED].damage, listed[UNUSED].client) == (
        0,
        "",
        "Jupyter AI",
    )
    assert listed["made-here"].client == "copilot_magic"  # what the runtime recorded

    reply = converse(store, UNUSED, "first words here")[0]
    assert 'I received 1 user message. The first was: "first words here"' in reply
    assert made_by(folder) == "Jupyter AI"  # the runtime keeps who made it
    assert store.summary(UNUSED).turns == 1
