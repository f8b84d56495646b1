"""A session another client of the runtime made and never used, continued here (real runtime).

jupyter-ai's Copilot chat (the runtime in ``--acp`` mode) leaves such sessions
on first use: a folder with only ``workspace.yaml`` (``client_name: Jupyter
AI``), no ``events.jsonl``, which the runtime neither lists nor resumes. The
folder is made as that runtime 1.0.102 wrote it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from runtime_support import converse

from copilot_magic.runtime import disk
from copilot_magic.runtime.disk import made_by
from copilot_magic.runtime.processes import alive_since
from copilot_magic.sessions.store import SessionStore

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
    _the_runtime_writes_the_formats_the_adapter_reads(data_dir, data_dir / "session-state")

    reply = converse(store, UNUSED, "first words here")[0]
    assert 'I received 1 user message. The first was: "first words here"' in reply
    assert made_by(folder) == "Jupyter AI"  # the runtime keeps who made it
    assert store.summary(UNUSED).turns == 1


def _the_runtime_writes_the_formats_the_adapter_reads(data_dir: Path, state: Path) -> None:
    """The contract of :mod:`copilot_magic.runtime.disk` on the pinned runtime (see
    tests/unit/test_runtime_disk_contract.py): history lines, in-use locks, the store."""
    folder = state / "made-here"
    assert disk.state_folder(data_dir) == str(state)
    lines = Path(disk.history_path(folder)).read_bytes().splitlines()
    assert lines, "the runtime wrote no history"
    assert all(line.startswith(disk.TYPED) for line in lines), lines[0][:80]
    for kind in (b"session.start", b"user.message", b"assistant.message"):
        assert any(line.startswith(disk.line_prefix(kind)) for line in lines), kind
    locks = [disk.lock_pid(name) for name in os.listdir(folder)]
    held = [pid for pid in locks if pid is not None]
    assert held, f"no in-use lock while the session is open: {sorted(os.listdir(folder))}"
    assert all(alive_since(pid, time.time()) for pid in held)
    columns = disk.store_columns(data_dir)
    for table, wanted in disk.STORE_COLUMNS.items():
        assert set(wanted) <= columns.get(table, set()), (table, columns.get(table))
