"""Holds: a session is held from open until let go, and no leftover names a live holder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from copilot_magic.errors import DiskFull, SessionBusy
from copilot_magic.runtime.processes import alive_since, started_at
from copilot_magic.sessions.files import SessionFiles
from copilot_magic.sessions.ownership import SessionClaims, live_pid


def _exited_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


def test_a_hold_taken_later_by_another_holder_makes_ours_stale_and_names_it(
    tmp_path: Path,
) -> None:
    ours, theirs = SessionClaims(tmp_path), SessionClaims(tmp_path)
    ours.claim("s")
    assert not ours.stale("s")
    assert ours.held_by_others() == set()
    theirs.claim("s")
    assert ours.stale("s")
    assert ours.other_holder("s") == os.getpid()
    assert theirs.other_holder("s") is None
    assert ours.held_by_others() == {"s"}
    ours.release("s")  # not ours any more: it stays theirs
    assert theirs.other_holder("s") is None
    assert not theirs.stale("s")
    theirs.release("s")
    assert not (tmp_path / "copilot-magic" / "owners" / "s").exists()


def test_a_hold_of_an_exited_process_counts_for_nothing(tmp_path: Path) -> None:
    owners = tmp_path / "copilot-magic" / "owners"
    owners.mkdir(parents=True)
    (owners / "s").write_text(f"{_exited_pid()} 123.00 abc")
    claims = SessionClaims(tmp_path)
    assert claims.stale("s")  # our context may lack its turns: reload
    assert claims.other_holder("s") is None
    assert claims.held_by_others() == set()


def test_a_hold_whose_pid_now_names_a_younger_process_counts_for_nothing(tmp_path: Path) -> None:
    started = started_at(os.getpid())
    assert started is not None
    assert live_pid(f"{os.getpid()} {started:.2f} abc") == os.getpid()
    assert live_pid(f"{os.getpid()} {started - 3600:.2f} abc") is None  # the pid was reused
    assert live_pid("garbage") is None
    assert live_pid(None) is None


def test_a_runtime_lock_whose_pid_was_reused_is_not_a_holder(tmp_path: Path) -> None:
    files = SessionFiles(tmp_path, "")
    folder = files.folder("s")
    folder.mkdir(parents=True)
    with subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    ) as other:
        lock = folder / f"inuse.{other.pid}.lock"
        lock.write_text(str(other.pid))
        assert files.holders("s") == [other.pid]  # written while it runs: a holder
        written_before = (started_at(other.pid) or 0) - 3600
        os.utime(lock, (written_before, written_before))  # the lock is older than the process
        assert files.holders("s") == []
        assert not alive_since(other.pid, written_before)
        other.communicate(b"")


def test_release_all_removes_only_what_this_holder_wrote(tmp_path: Path) -> None:
    ours, theirs = SessionClaims(tmp_path), SessionClaims(tmp_path)
    ours.claim("a")
    ours.claim("b")
    ours.begin_turn("a")
    theirs.claim("b")  # taken over: b is theirs now
    ours.release_all()
    owners = tmp_path / "copilot-magic" / "owners"
    assert sorted(p.name for p in owners.iterdir()) == ["b"]
    assert theirs.other_holder("b") is None
    assert not theirs.stale("b")
    assert list((tmp_path / "copilot-magic" / "turns").iterdir()) == []


def test_a_takeover_waits_until_the_other_holders_reply_ends(tmp_path: Path) -> None:
    holder, taker = SessionClaims(tmp_path), SessionClaims(tmp_path)
    holder.claim("s")
    holder.begin_turn("s")
    seen: list[int | None] = []
    look = taker.replying

    def replying(session_id: str) -> int | None:
        seen.append(look(session_id))
        if len(seen) == 2:  # the holder's reply ends while the takeover waits
            assert holder.stale(session_id)  # the takeover's hold came first
            holder.end_turn(session_id)
        return seen[-1]

    taker.replying = replying  # type: ignore[method-assign]
    waited = taker.take("s", wait_limit=30)
    assert seen == [os.getpid(), os.getpid(), None]
    assert waited > 0
    assert not taker.stale("s")
    assert holder.stale("s")


def test_a_takeover_that_waits_too_long_gives_the_hold_back(tmp_path: Path) -> None:
    holder, taker = SessionClaims(tmp_path), SessionClaims(tmp_path)
    holder.claim("s")
    holder.begin_turn("s")
    with pytest.raises(SessionBusy, match="still replying in another kernel"):
        taker.take("s", wait_limit=0.2)
    assert not (tmp_path / "copilot-magic" / "owners" / "s").exists()  # nobody's: reload


def test_a_hold_that_cannot_be_written_leaves_no_file_and_says_why(tmp_path: Path) -> None:
    claims = SessionClaims(tmp_path)
    owners = tmp_path / "copilot-magic" / "owners"
    owners.mkdir(parents=True)
    real_replace = os.replace

    def full_disk(*_: object) -> None:
        raise OSError(28, "No space left on device")

    os.replace = full_disk  # type: ignore[assignment]
    try:
        with pytest.raises(DiskFull, match="is full"):
            claims.claim("s")
    finally:
        os.replace = real_replace
    assert list(owners.iterdir()) == []
