"""Owner-only from the first write: the folders and files copilot_magic makes, and doctor's check.

Each test runs with the umask most systems give (022), under which ``mkdir(parents=True)``
and ``open(..., "w")`` make folders 0755 and files 0644 that every user can read.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot_magic.cli.checks import data_privacy
from copilot_magic.owner_only import (
    chmod_command,
    open_to_others,
    private_file,
    private_folder,
    write_private,
)
from copilot_magic.runtime.served import ServerState, attach, start_lock, write_server_files
from copilot_magic.sessions.marks import SessionMarks
from copilot_magic.sessions.notebooks import NotebookLinks
from copilot_magic.sessions.ownership import SessionClaims
from copilot_magic.sessions.space import ensure_room


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_a_folder_and_each_missing_parent_are_made_owner_only(tmp_path: Path) -> None:
    made = private_folder(tmp_path / "a" / "b" / "c")
    assert made == tmp_path / "a" / "b" / "c"
    for folder in (tmp_path / "a", tmp_path / "a" / "b", made):
        assert _mode(folder) == 0o700, folder
    assert private_folder(made) == made  # there already: fine


def test_folders_that_exist_keep_their_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    private_folder(shared / "mine")
    assert _mode(shared) == 0o755  # perhaps shared on purpose: doctor says so, nothing else
    assert _mode(shared / "mine") == 0o700


def test_a_file_in_the_way_of_a_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("not a folder")
    with pytest.raises(FileExistsError):
        private_folder(tmp_path / "a")
    with pytest.raises(FileExistsError):
        private_folder(tmp_path / "a" / "b")


def test_files_are_born_owner_only_whether_written_or_appended(tmp_path: Path) -> None:
    write_private(tmp_path / "written", "one")
    write_private(tmp_path / "written", "two")
    with private_file(tmp_path / "appended", "a") as out:
        out.write("one")
    with private_file(tmp_path / "appended", "a") as out:
        out.write("two")
    assert (tmp_path / "written").read_text() == "two"
    assert (tmp_path / "appended").read_text() == "onetwo"
    assert _mode(tmp_path / "written") == _mode(tmp_path / "appended") == 0o600


def test_everything_copilot_magic_writes_in_a_new_data_directory_is_owner_only(
    tmp_path: Path,
) -> None:
    """Every place that makes a folder or writes a file, on a data directory that does not
    exist yet (nor its parent)."""
    top = tmp_path / "people"
    data = top / "copilot-home"
    ensure_room([data], 0)
    SessionMarks(data).star("fake-talk")
    NotebookLinks(data).link(tmp_path / "analysis.ipynb", "fake-talk")
    claims = SessionClaims(data)
    claims.claim("fake-talk")
    claims.begin_turn("fake-talk")
    with start_lock(data):
        attach(data)
    write_server_files(data, ServerState("127.0.0.1:1", os.getpid(), 0.0), "fake-token")
    made = [top, *top.rglob("*")]
    assert len(made) > 10
    assert open_to_others(top) == []
    assert {_mode(p) for p in made if p.is_dir()} == {0o700}
    assert {_mode(p) for p in made if p.is_file()} == {0o600}


def test_what_others_can_reach_is_found_and_the_command_makes_it_owner_only(
    tmp_path: Path,
) -> None:
    root = tmp_path / "data dir"  # a space: the command quotes the path
    private_folder(root / "session-state")
    (root / "session-store.db").write_text("prompts")  # 0644 under umask 022
    (root / "link").symlink_to(root / "session-store.db")  # a link's own mode means nothing
    found = open_to_others(root)
    assert [(path.name, stat.filemode(mode)) for path, mode in found] == [
        ("session-store.db", "-rw-r--r--")
    ]
    assert open_to_others(tmp_path / "missing") == []
    command = chmod_command(root)
    assert command == f"chmod -R go-rwx '{root}'"
    subprocess.run(command, shell=True, check=True)
    assert open_to_others(root) == []


def test_doctor_says_owner_only_or_warns_in_one_line_with_the_chmod(tmp_path: Path) -> None:
    data = tmp_path / "copilot-home"
    assert data_privacy(data).startswith("owner-only (no data directory yet")
    private_folder(data / "session-state")
    write_private(data / "session-store.db", "prompts")
    assert data_privacy(data) == "owner-only"
    (data / "session-store.db").chmod(0o644)
    (data / "session-state").chmod(0o755)
    warning = data_privacy(data)
    assert "\n" not in warning
    assert warning.startswith("WARNING: other users may read it: ")
    assert "-rw-r--r--" in warning or "drwxr-xr-x" in warning
    assert ", and 1 more path; " in warning
    assert warning.endswith(f"make it owner-only with: chmod -R go-rwx {data}")
    data.chmod(0o755)
    assert "the data directory itself is drwxr-xr-x, and 2 more" in data_privacy(data)
