"""A full disk: refused before a turn, stopped in one line during one, nothing lost.

The data directory lives on a 2 MB tmpfs mounted for the test (this needs root,
as CI has; elsewhere the tests are skipped and pytest prints why). The runtime
alone keeps a turn it cannot write in memory and sends nothing, so a cell would
wait for the reply timeout; and a turn with a 30 KB prompt takes ~390 KB of disk.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability import Reliability

from copilot_magic.config import DEFAULT_ABSTAIN_SIGNAL
from copilot_magic.sessions.files import SessionFiles
from copilot_magic.testing.echo_model import EchoModelServer

from .cells import copilot_cell, error_shown, reply_of
from .kernels import Kernel

# The runtime mode changes what these tests prove: each runs on the shared runtime and again
# with a runtime per kernel ([shared] and [own]).
pytestmark = pytest.mark.both_runtimes

SIZE = "2m"
BIG_PROMPT = "y" * 30_000


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs, unmounted at the end."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a {SIZE} tmpfs here ({done.stderr.strip()}): needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def data_dir(small_disk: Path) -> Path:
    path = small_disk / "copilot-home"
    path.mkdir()
    return path


class Filler:
    """A file beside the data directory that takes the disk's free space."""

    def __init__(self, disk: Path) -> None:
        self.path = disk / "filler"

    def leave(self, free: int) -> int:
        """Fill the disk until about ``free`` bytes are left; returns how many are."""
        self._write(max(0, shutil.disk_usage(self.path.parent).free - free))
        return shutil.disk_usage(self.path.parent).free

    def fill(self) -> None:
        """Take every last byte."""
        self._write(None)

    def _write(self, count: int | None) -> None:
        """Append ``count`` bytes (``None``: until the disk is full), unbuffered."""
        chunk = b"x" * 4096
        with self.path.open("ab", buffering=0) as out:
            while count is None or count > 0:
                try:
                    out.write(chunk if count is None else chunk[: min(count, len(chunk))])
                except OSError:
                    return
                if count is not None:
                    count -= len(chunk)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def prompts(data_dir: Path, session_id: str) -> list[str]:
    return [t.prompt for t in SessionFiles(data_dir, DEFAULT_ABSTAIN_SIGNAL).turns(session_id)]


@pytest.mark.reliability("Faults", "A nearly full disk, before a turn and at open")
def test_a_full_disk_is_refused_in_one_line_and_leaves_nothing_behind(
    start_kernel: Callable[[], Kernel],
    small_disk: Path,
    data_dir: Path,
    reliability: Reliability,
) -> None:
    reliability.tried(
        "2 MB tmpfs: a 30 KB prompt with ~750 KB free; opening a new session with the disk "
        "full; then the space freed"
    )
    filler = Filler(small_disk)
    kernel = start_kernel()
    kernel.execute("%copilot_session full")
    reply_of(kernel.execute(copilot_cell("T1")))
    free = filler.leave(750 * 1024)
    started = time.monotonic()
    refused = error_shown(kernel.execute(copilot_cell(BIG_PROMPT)))
    seconds = time.monotonic() - started
    assert refused.startswith(f"DiskFull: The disk holding {data_dir} is full")
    assert "nothing was sent" in refused
    assert prompts(data_dir, "full") == ["T1"]

    filler.fill()
    opening = error_shown(kernel.execute("%copilot_session other"))
    assert opening.startswith(f"DiskFull: The disk holding {data_dir} is full")
    owners = data_dir / "copilot-magic" / "owners"
    assert [p.name for p in owners.iterdir()] == ["full"]  # no .claim-* file, no hold
    assert not (data_dir / "session-state" / "other").exists()

    filler.remove()
    html = reply_of(kernel.execute(copilot_cell("T2")))["data"]["text/html"]
    assert 'I received 2 user messages. The first was: "T1". The last was: "T2"' in html
    listed = kernel.execute("%copilot_session --list").printed
    assert "damaged" not in listed
    assert "other" not in listed
    assert prompts(data_dir, "full") == ["T1", "T2"]
    reliability.held(
        f"one line, nothing sent, in {seconds:.2f} s (free {free // 1024} KB); the open on "
        "a full disk was one line and left no claim file and no session; after freeing, "
        "the next turn saw T1 and T2"
    )


@pytest.fixture
def echo_model() -> Iterator[EchoModelServer]:
    """An echo model that can fill the disk at the moment the runtime asks it."""
    with EchoModelServer(on_request=_on_request) as server:
        yield server


_WHEN_ASKED: list[Callable[[dict[str, Any]], None]] = []


def _on_request(request: dict[str, Any]) -> None:
    for action in _WHEN_ASKED:
        action(request)


@pytest.mark.reliability("Faults", "The disk fills up during a reply")
def test_a_disk_that_fills_during_a_reply_stops_it_in_one_line(
    start_kernel: Callable[[], Kernel],
    small_disk: Path,
    data_dir: Path,
    reliability: Reliability,
) -> None:
    reliability.tried("the disk fills up while the model is asked (default reply timeout)")
    filler = Filler(small_disk)
    kernel = start_kernel()
    kernel.execute("%copilot_session mid")
    reply_of(kernel.execute(copilot_cell("T1")))

    def fill_once(request: dict[str, Any]) -> None:
        if "T2" in str(request.get("messages")):
            filler.fill()

    _WHEN_ASKED.append(fill_once)
    try:
        started = time.monotonic()
        failed = kernel.execute(copilot_cell("T2"))
        seconds = time.monotonic() - started
    finally:
        _WHEN_ASKED.clear()
    line = error_shown(failed)
    assert line.startswith(f"DiskFull: The disk holding {data_dir} is full")
    assert "the reply was stopped" in line
    final = kernel.updates[-1]["content"]
    assert final["metadata"]["copilot_magic"]["stage"] == "failed"

    filler.remove()
    html = reply_of(kernel.execute(copilot_cell("T3")))["data"]["text/html"]
    assert 'The first was: "T1". The last was: "T3"' in html
    stored = prompts(data_dir, "mid")
    assert stored in (["T1", "T2", "T3"], ["T1", "T3"])  # T2, if the runtime kept it, once
    reliability.held(
        f"one line after {seconds:.1f} s (not the {120} s timeout); after freeing space the "
        f"next turn worked and the history holds {', '.join(stored)}"
    )
