"""A session is held from the moment a kernel opens it until it lets go.

The runtime's own in-use locks appear only once a message is sent, stay behind
when a process is killed, and name pids that get reused. These tests open,
take over, delete and shut down on the real runtime, and read the history the
echo model's replies prove.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability import Reliability
from runtime_support import converse

from copilot_magic.config import DEFAULT_ABSTAIN_SIGNAL
from copilot_magic.sessions.files import SessionFiles
from copilot_magic.sessions.store import SessionStore

from .cells import SLOW_REPLY, copilot_cell, error_shown, reply_of, wait_for_streaming
from .cli_runner import Ran
from .kernels import Kernel

# The runtime mode changes what these tests prove: each runs on the shared runtime and again
# with a runtime per kernel ([shared] and [own]).
pytestmark = pytest.mark.both_runtimes


def turns(data_dir: Path, session_id: str) -> list[tuple[str, str]]:
    files = SessionFiles(data_dir, DEFAULT_ABSTAIN_SIGNAL)
    return [(t.prompt, t.reply) for t in files.turns(session_id)]


def leftovers(data_dir: Path, session_id: str) -> list[str]:
    """The in-use marks of the session: the runtime's locks, and our holds and reply marks."""
    folder = data_dir / "session-state" / session_id
    found = [p.name for p in folder.iterdir() if p.name.startswith("inuse.")]
    for mark in ("owners", "turns"):
        if (data_dir / "copilot-magic" / mark / session_id).exists():
            found.append(f"copilot-magic/{mark}/{session_id}")
    return sorted(found)


@pytest.mark.reliability("Concurrency", "A session resumed but not yet used is held")
def test_a_resumed_idle_session_is_held_until_its_kernel_lets_go(
    start_kernel: Callable[[], Kernel],
    open_store: Callable[[], SessionStore],
    run_cli: Callable[..., Ran],
    data_dir: Path,
    reliability: Reliability,
) -> None:
    reliability.tried(
        "kernel A resumes a stored session and sends nothing; kernel B opens it, deletes it "
        "(magic and command line), cleans up; A writes; then its files are deleted by hand"
    )
    store = open_store()
    converse(store, "shared", "T1", "T2")
    store.close()
    first, second = start_kernel(), start_kernel()
    assert first.execute("%copilot_session shared").stdout.startswith(
        "Resumed session shared: 2 turns"
    )
    refused = error_shown(second.execute("%copilot_session shared"))
    assert refused.startswith("SessionBusy: Session 'shared' is open in another kernel")
    kept = error_shown(second.execute("%copilot_session --delete shared --yes"))
    assert "in use by another process" in kept
    cli = run_cli("delete", "shared", "--yes")
    assert cli.status != 0
    assert "in use by another process" in cli.err
    assert len(cli.err.strip().splitlines()) == 1
    plan = second.execute("%copilot_session --cleanup 0 --dry-run").printed
    assert "shared" in plan
    assert "in use" in plan
    html = reply_of(first.execute(copilot_cell("A3")))["data"]["text/html"]
    assert 'I received 3 user messages. The first was: "T1". The last was: "A3"' in html
    assert [p for p, _ in turns(data_dir, "shared")] == ["T1", "T2", "A3"]

    shutil.rmtree(data_dir / "session-state" / "shared")  # deleted behind everyone's back
    gone = error_shown(first.execute(copilot_cell("A4")))
    assert gone.startswith("UsageError: Session 'shared' was deleted")
    assert "nothing was sent" in gone
    history = error_shown(first.execute("%copilot_session --history shared"))
    assert history.startswith("UsageError: No session 'shared'")
    reliability.held(
        "B refused to open, delete (magic, command line) and clean up while A held it idle; "
        "A's turn saw T1, T2, A3; when its files were deleted behind A's back, A's next "
        "cell said so in one line at once and sent nothing"
    )


@pytest.mark.reliability("Concurrency", "A takeover while the holder streams a reply")
def test_a_takeover_during_a_reply_waits_for_it_and_the_holder_is_told(
    start_kernel: Callable[[], Kernel],
    open_store: Callable[[], SessionStore],
    data_dir: Path,
    reliability: Reliability,
) -> None:
    reliability.tried("kernel B runs --takeover while kernel A streams a ~4 s reply")
    store = open_store()
    converse(store, "shared", "T1")
    store.close()
    first, second = start_kernel(), start_kernel()
    first.execute("%copilot_session shared")
    asking = first.send(copilot_cell(f"{SLOW_REPLY} A2"))
    wait_for_streaming(first, asking)
    taken = second.execute("%copilot_session shared --takeover")
    assert taken.error is None, taken.error_line
    assert taken.stdout.startswith("Waited ")
    assert "Resumed session shared: 2 turns" in taken.stdout
    held = first.collect(asking)
    assert held.error is None, held.error_line
    final = first.updates[-1]["content"]
    assert final["metadata"]["copilot_magic"]["stage"] == "done"
    shown = final["data"]["text/html"]
    assert 'I received 2 user messages. The first was: "T1"' in shown
    assert "was taken over by another kernel or process" in shown
    assert shown.count("taken over") == 1
    html = reply_of(second.execute(copilot_cell("B3")))["data"]["text/html"]
    assert 'I received 3 user messages. The first was: "T1". The last was: "B3"' in html
    history = turns(data_dir, "shared")
    assert [p.split()[-1] for p, _ in history] == ["T1", "A2", "B3"]
    for number, (_, reply) in enumerate(history, start=1):
        assert reply.startswith(f"I received {number} user message"), reply[:80]
    assert error_shown(first.execute(copilot_cell("A4"))).startswith(
        "SessionTakenOver: Session 'shared' was taken over"
    )
    reliability.held(
        "B waited for A's reply to end; A's cell ended with its whole reply and one line "
        "saying it was taken over; history T1, A2, B3, each reply to its own prompt"
    )


@pytest.mark.reliability("Faults", "In-use marks after a clean shutdown and a reused pid")
def test_no_mark_outlives_its_kernel_and_a_reused_pid_holds_nothing(
    start_kernel: Callable[[], Kernel],
    data_dir: Path,
    reliability: Reliability,
) -> None:
    reliability.tried(
        "a kernel writes a turn and shuts down cleanly; then a lock and a hold name the pid "
        "of a live unrelated program that started after they were written"
    )
    kernel = start_kernel()
    kernel.execute("%copilot_session left")
    reply_of(kernel.execute(copilot_cell("one")))
    assert leftovers(data_dir, "left") != []  # held while the kernel runs
    kernel.shutdown()
    assert [mark for mark in leftovers(data_dir, "left") if mark.startswith("copilot-magic")] == []
    # The runtime removes its own in-use files once it has closed the session, which the
    # kernel asked for as it exited: on a loaded machine that can come just after.
    deadline = time.monotonic() + 15
    while leftovers(data_dir, "left"):
        assert time.monotonic() < deadline, leftovers(data_dir, "left")
        time.sleep(0.05)  # polling the runtime's files: no event tells when they go

    with subprocess.Popen([sys.executable, "-c", "input()"], stdin=subprocess.PIPE) as other:
        folder = data_dir / "session-state" / "left"
        lock, hold = folder / f"inuse.{other.pid}.lock", folder / f"inuse.{other.pid}.hold"
        lock.write_text(f"{other.pid}\n")
        hold.write_text("")
        owners = data_dir / "copilot-magic" / "owners"
        owners.mkdir(parents=True, exist_ok=True)
        (owners / "left").write_text(f"{other.pid} 1000.00 leftover")
        an_hour_ago = os.stat(lock).st_mtime - 3600
        os.utime(lock, (an_hour_ago, an_hour_ago))  # written before the program started
        again = start_kernel()
        assert again.execute("%copilot_session left").stdout.startswith("Resumed session left")
        html = reply_of(again.execute(copilot_cell("two")))["data"]["text/html"]
        assert "I received 2 user messages" in html
        again.execute("%copilot_session other")  # let go of it, then delete it
        assert again.execute("%copilot_session --delete left --yes").error is None
        other.communicate(b"\n")
    assert not folder.exists()
    reliability.held(
        "no lock, hold or reply mark left after a clean shutdown; a lock and a hold naming "
        "a reused pid neither refused the session nor its deletion"
    )


@pytest.mark.reliability("Faults", "Kernel killed (kill -9) during a reply")
def test_a_kernel_killed_mid_reply_leaves_an_interrupted_turn_and_no_hold(
    start_kernel: Callable[[], Kernel],
    data_dir: Path,
    reliability: Reliability,
) -> None:
    reliability.tried("SIGKILL to the kernel while it streams; a new kernel opens the session")
    kernel = start_kernel()
    kernel.execute("%copilot_session killed")
    reply_of(kernel.execute(copilot_cell("T1")))
    asking = kernel.send(copilot_cell(f"{SLOW_REPLY} T2"))
    wait_for_streaming(kernel, asking)
    os.kill(kernel.pid, signal.SIGKILL)
    kernel.shutdown()
    again = start_kernel()
    assert again.execute("%copilot_session killed").stdout.startswith(
        "Resumed session killed: 2 turns"
    )
    history = again.execute("%copilot_session --history killed").printed
    second = history.split("[2] You")[1]
    assert re.search(
        r"\[2\] Copilot: \(interrupted at \d{4}-\d\d-\d\d \d\d:\d\d, no reply\)", second
    )
    assert "never" not in history
    html = reply_of(again.execute(copilot_cell("T3")))["data"]["text/html"]
    assert "I received 3 user messages" in html
    reliability.held(
        "the new kernel opened it at once (no leftover hold); its history shows turn 2 as "
        "interrupted with the time, not an empty reply; the next turn saw all 3 prompts"
    )


def test_a_fork_while_the_source_streams_is_refused_in_one_line_and_later_holds_whole_turns(
    start_kernel: Callable[[], Kernel],
    open_store: Callable[[], SessionStore],
    run_cli: Callable[..., Ran],
    data_dir: Path,
) -> None:
    store = open_store()
    converse(store, "streaming", "T1")
    store.close()
    kernel = start_kernel()
    kernel.execute("%copilot_session streaming")
    # The reply waits, as long as it takes, for the person to answer whether the code the
    # model asks to run may run: a reply running at the fork on any machine, however loaded
    # (a reply streaming for 20 s once ended before the command below had started).
    asking = kernel.send(copilot_cell('[[echo:tool=run_code {"code": "1"}]] T2'), allow_stdin=True)
    question = kernel.client.get_stdin_msg(timeout=60)
    assert question["content"]["prompt"] == "Run this code in the kernel? [y/N] "
    assert (data_dir / "copilot-magic" / "turns" / "streaming").exists()  # the reply's mark
    refused = run_cli("fork", "streaming-fork", "streaming")
    assert refused.status != 0
    (line,) = refused.err.strip().splitlines()
    assert "Session 'streaming' is replying to a prompt in another kernel or process" in line
    assert "not forked" in line
    assert not run_cli("show", "streaming-fork").out.startswith("Session streaming-fork")
    kernel.client.input("n")
    assert kernel.collect(asking).error is None
    forked = run_cli("fork", "streaming-fork", "streaming")
    assert forked.status == 0, forked.err
    assert turns(data_dir, "streaming")[1][1], "the source's second turn has its reply"
    shown = run_cli("show", "streaming-fork").out
    assert shown.startswith("Session streaming-fork: 2 turns")
    assert "(interrupted" not in shown
