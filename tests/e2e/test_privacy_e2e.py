"""Another local user can read nothing of your conversations.

The data directory does not exist yet, nor do its parents, and they are to be made under a
folder every user may enter (0755, outside pytest's own owner-only temporary folders, which
would hide everything by themselves); the kernel's HOME is such a folder too, as homes are
on many systems. A real kernel creates the data directory, converses with the echo model (a
titled session, an interrupted reply), and then a second Unix user tries to list and read
every path below the first folder copilot_magic made, and everything made in the HOME. The
test runs in the suite's runtime mode (shared or own; CI runs both). Creating that user
needs root: elsewhere the test is skipped, and pytest's ``-ra`` prints why.
"""

from __future__ import annotations

import contextlib
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from other_user import OTHER_USER, as_other_user, open_parent, other_user
from reliability import Reliability
from runtime_support import TEST_RUNTIME_IDLE, current_runtime_mode
from secrets_scan import remember_runtime_token

from .cells import SLOW_REPLY, copilot_cell, reply_of, wait_for_streaming
from .kernels import Kernel, gone

# The runtime mode changes what these tests prove: each runs on the shared runtime and again
# with a runtime per kernel ([shared] and [own]).
pytestmark = pytest.mark.both_runtimes

SECRET_PROMPT = "my salary is 91234 and my diagnosis is private"
SECRET_TITLE = "Letter to my doctor"
# Tries to list every folder and read every file it is given, as the second user; prints
# what it could.
TRY_EVERYTHING = """
for path in "$@"; do
  if [ -d "$path" ]; then
    ls -A -- "$path" >/dev/null 2>&1 && echo "listed $path"
  else
    cat -- "$path" >/dev/null 2>&1 && echo "read $path"
  fi
done
"""


def _made_top(parent: Path) -> Path:
    """The first folder copilot_magic is to make under ``parent``."""
    return parent / "people"


def _open_home(parent: Path) -> Path:
    """The kernel's HOME, which every user may enter."""
    return parent / "home"


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A data directory that does not exist yet, nor its two parents, in a folder every user
    may enter. At the end, once everything on it has stopped, it is removed."""
    other_user()  # skips here, before any kernel starts, where the test cannot be root
    parent = open_parent()
    path = _made_top(parent) / "ada" / "copilot-home"
    _open_home(parent).mkdir()
    _open_home(parent).chmod(0o755)
    try:
        yield path
        remember_runtime_token(path)  # a shared runtime still serves it a few seconds
        assert gone(_processes_on(path), timeout=TEST_RUNTIME_IDLE + 30)
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def _processes_on(data_dir: Path) -> list[int]:
    """Every process whose data directory is ``data_dir``: a runtime, its lifeline, a server."""
    found = []
    for process in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error):
            if process.environ().get("COPILOT_HOME") == str(data_dir):
                found.append(process.pid)
    return found


def _converse(kernel: Kernel) -> None:
    """A titled session with a whole turn, then a reply interrupted while it streams."""
    assert kernel.execute("%copilot_session private-talk").error is None
    reply = reply_of(kernel.execute(copilot_cell(SECRET_PROMPT)))
    assert "91234" in reply["data"]["text/plain"]
    renamed = kernel.execute(f'%copilot_session --rename private-talk "{SECRET_TITLE}"')
    assert renamed.error is None, renamed.error_line
    msg_id = kernel.send(copilot_cell(f"{SLOW_REPLY} the rest of my medical history"))
    wait_for_streaming(kernel, msg_id)
    kernel.interrupt()
    assert kernel.collect(msg_id, timeout=30).error is None


def _everything_under(top: Path) -> list[Path]:
    return [top, *sorted(top.rglob("*"))]


def _open_to_others(paths: list[Path]) -> list[str]:
    """The paths with any permission for group or others, with their modes (links aside: a
    symbolic link's own mode means nothing)."""
    found = []
    for path in paths:
        with contextlib.suppress(FileNotFoundError):  # a runtime's temporary file, gone
            mode = path.lstat().st_mode
            if not stat.S_ISLNK(mode) and mode & 0o077:
                found.append(f"{stat.filemode(mode)} {path}")
    return found


@pytest.mark.reliability("Secrets", "Another Unix user on the machine reads the data directory")
def test_another_user_can_read_nothing_under_a_data_directory_the_project_made(
    kernel_with: Callable[..., Kernel], data_dir: Path, reliability: Reliability
) -> None:
    top, home = _made_top(data_dir.parents[2]), _open_home(data_dir.parents[2])
    assert not top.exists()
    kernel = kernel_with(HOME=str(home))
    _converse(kernel)
    # While the kernel and its runtime still run: the database, its -wal and -shm are there.
    paths = _everything_under(top)
    names = {path.name for path in paths}
    assert "session-store.db" in names, sorted(names)
    assert "session-store.db-wal" in names, sorted(names)
    made_in_home = _everything_under(home)[1:]  # the runtime's ~/.cache, for one
    mode = current_runtime_mode()
    print(f"runtime mode {mode}: {len(paths)} paths under {top}, {len(made_in_home)} in HOME")
    paths += made_in_home
    reliability.tried(
        f"a kernel made the data directory and its 2 parents in a 0755 folder; a titled "
        f"session and an interrupted reply ({mode} runtime); user {OTHER_USER} tried "
        f"to list or read each of the {len(paths)} paths made there and in an open HOME"
    )

    open_to_others = _open_to_others(paths)
    assert not open_to_others, "open to others:\n" + "\n".join(open_to_others)
    found = as_other_user(["find", str(top)])
    assert found.stdout.split() == [str(top)], "another user listed what the folder holds"
    assert found.returncode != 0, found.stderr  # it could not enter it
    tried = as_other_user(["sh", "-c", TRY_EVERYTHING, "sh", *map(str, paths)])
    assert tried.stdout == "", "another user could list or read:\n" + tried.stdout
    for name in ("session-store.db", "session-store.db-wal"):
        (database,) = (path for path in paths if path.name == name)
        read = as_other_user(["cat", str(database)])
        assert read.returncode != 0
        assert read.stdout == ""
    reliability.held(
        f"{OTHER_USER} listed and read nothing (the database and its -wal included); "
        "no path had a permission for group or others"
    )
