"""Two kernels and one session: never two diverging contexts in one history.

The runtime lets two processes resume one session, each with its own copy of
the context, and appends both conversations to one file. copilot_magic lets
one kernel write at a time: a second kernel is refused unless it takes the
session over, and the kernel that was taken over from is refused from then on.
The echo model's replies show exactly which turns each kernel's context held.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from reliability import Reliability
from runtime_support import converse

from copilot_magic.config import DEFAULT_ABSTAIN_SIGNAL
from copilot_magic.sessions.files import SessionFiles
from copilot_magic.sessions.store import SessionStore

from .cells import copilot_cell, error_shown, reply_of
from .kernels import Kernel

# The runtime mode changes what these tests prove: each runs on the shared runtime and again
# with a runtime per kernel ([shared] and [own]).
pytestmark = pytest.mark.both_runtimes


def prompts(data_dir: Path, session_id: str) -> list[str]:
    return [t.prompt for t in SessionFiles(data_dir, DEFAULT_ABSTAIN_SIGNAL).turns(session_id)]


@pytest.mark.reliability("Concurrency", "Second kernel, then a takeover and back")
def test_after_a_takeover_only_the_new_holder_writes_and_taking_back_reloads(
    start_kernel: Callable[[], Kernel], data_dir: Path, reliability: Reliability
) -> None:
    reliability.tried(
        "kernel A holds a session; kernel B resumes it, takes it over; A writes, takes it "
        "back; B writes"
    )
    first, second = start_kernel(), start_kernel()
    first.execute("%copilot_session shared")
    reply_of(first.execute(copilot_cell("A1")))

    refused = error_shown(second.execute("%copilot_session shared"))
    assert refused.startswith("SessionBusy: Session 'shared' is open in another kernel")
    assert "%copilot_session shared --takeover" in refused
    assert second.execute("%copilot_session shared --takeover").stdout.startswith(
        "Resumed session shared: 1 turn"
    )
    html = reply_of(second.execute(copilot_cell("B2")))["data"]["text/html"]
    assert 'I received 2 user messages. The first was: "A1". The last was: "B2"' in html

    taken = error_shown(first.execute(copilot_cell("A3")))
    assert taken.startswith("SessionTakenOver: Session 'shared' was taken over by another kernel")
    assert "%copilot_session shared --takeover" in taken
    assert first.execute("%copilot_session shared --takeover").stdout.startswith(
        "Resumed session shared: 2 turns"
    )
    html = reply_of(first.execute(copilot_cell("A4")))["data"]["text/html"]
    assert 'I received 3 user messages. The first was: "A1". The last was: "A4"' in html

    error_shown(second.execute(copilot_cell("B5")))
    assert prompts(data_dir, "shared") == ["A1", "B2", "A4"]
    reliability.held(
        "B refused until --takeover; A then refused in one line; A's takeover reloaded B's "
        "turn (the model saw A1, B2, A4); history holds exactly A1, B2, A4"
    )


@pytest.mark.slow
@pytest.mark.reliability("Concurrency", "Two kernels resume one session at once")
def test_two_kernels_resuming_at_once_never_both_write(
    start_kernel: Callable[[], Kernel],
    open_store: Callable[[], SessionStore],
    data_dir: Path,
    reliability: Reliability,
) -> None:
    rounds = 3
    reliability.tried(
        "two kernels send `%copilot_session ID` at the same moment, then a cell each at the "
        "same moment",
        times=rounds,
    )
    store = open_store()
    expected = []
    for number in range(rounds):
        session_id = f"race-{number}"
        converse(store, session_id, "before the race")
        expected.append(["before the race"])
    store.close()

    writers = 0
    for number in range(rounds):
        session_id = f"race-{number}"
        kernels = [start_kernel(), start_kernel()]
        opening = [k.send(f"%copilot_session {session_id}") for k in kernels]
        for kernel, msg_id in zip(kernels, opening, strict=True):
            kernel.collect(msg_id)
        asking = [k.send(copilot_cell(f"from kernel {i}")) for i, k in enumerate(kernels)]
        results = [k.collect(m) for k, m in zip(kernels, asking, strict=True)]
        replied = [i for i, r in enumerate(results) if r.error is None]
        assert len(replied) == 1, [r.error_line for r in results]
        loser = results[1 - replied[0]]
        assert error_shown(loser)
        expected[number].append(f"from kernel {replied[0]}")
        assert prompts(data_dir, session_id) == expected[number]
        writers += 1
        for kernel in kernels:
            kernel.shutdown()
    reliability.held(
        f"{writers}/{rounds} races: exactly one kernel wrote, the other got one line; "
        "each history holds only the winner's turn"
    )
