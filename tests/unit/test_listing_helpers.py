"""The small helpers behind quick lists: title clipping and in-use locks read once per change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from copilot_magic.sessions.files import SessionFiles
from copilot_magic.sessions.models import NAME_LIMIT, one_line_title, stored_title


def test_a_short_title_is_kept_on_one_line() -> None:
    assert one_line_title("  plot the\n iris   data ", 60) == "plot the iris data"


def test_a_long_title_is_cut_after_a_word_with_an_ellipsis() -> None:
    title = one_line_title("word " * 30, 60)
    assert len(title) <= 60
    assert title.endswith("word…")


def test_a_title_without_spaces_is_cut_at_the_width() -> None:
    title = one_line_title("x" * 100, 60)
    assert title == "x" * 59 + "…"


def test_a_stored_title_is_whole_on_one_line_up_to_the_runtimes_name_limit() -> None:
    text = " plot\n" + "x" * 95
    assert stored_title(text) == "plot " + "x" * 95
    assert len(stored_title(text)) == NAME_LIMIT


def test_a_stored_title_without_spaces_is_cut_at_the_name_limit_without_an_ellipsis() -> None:
    assert stored_title("x" * 250) == "x" * NAME_LIMIT


def _lock(folder: Path, pid: int) -> None:
    (folder / f"inuse.{pid}.lock").write_text("")


def test_holders_read_for_a_decision_always_see_a_new_lock(tmp_path: Path) -> None:
    files = SessionFiles(tmp_path, "[[POR_ABSTAIN]]")
    folder = files.folder("s1")
    folder.mkdir(parents=True)
    assert files.holders("s1") == []
    _lock(folder, os.getpid())
    assert files.holders("s1") == [os.getpid()]


def test_holders_for_a_list_are_read_again_when_the_folder_changes(tmp_path: Path) -> None:
    files = SessionFiles(tmp_path, "[[POR_ABSTAIN]]")
    folder = files.folder("s1")
    folder.mkdir(parents=True)
    assert files.holders("s1", for_list=True) == []
    _lock(folder, os.getpid())
    changed = folder.stat().st_mtime_ns + 1_000_000_000  # a later tick, whatever the clock
    os.utime(folder, ns=(changed, changed))
    assert files.holders("s1", for_list=True) == [os.getpid()]


def test_holders_skip_other_files_and_dead_processes(tmp_path: Path) -> None:
    files = SessionFiles(tmp_path, "[[POR_ABSTAIN]]")
    folder = files.folder("s1")
    folder.mkdir(parents=True)
    for name in ("inuse.x.lock", "inuse.1.2.lock", "events.jsonl", "inuse.99999999.lock"):
        (folder / name).write_text("")
    assert files.holders("s1") == []


MAGICS_PROBE = """
import json, sys
import copilot_magic.ui.magics
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("copilot_magic.", "markdown_it")))))
"""


def test_the_magics_module_leaves_the_store_runtime_and_renderer_for_later() -> None:
    """``%load_ext`` stays quick: what a command needs is imported in the background."""
    result = subprocess.run(
        [sys.executable, "-c", MAGICS_PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(result.stdout))
    heavy = {
        "copilot_magic.sessions.store",
        "copilot_magic.runtime.bridge",
        "copilot_magic.views.render",
        "markdown_it",
    }
    assert loaded & heavy == set()
