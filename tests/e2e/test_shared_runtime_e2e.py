"""One runtime per person: the shared runtime (``CopilotMagics.runtime = "shared"``).

Real kernels on one data directory, the real runtime started by the first of
them (``copilot-magic serve --idle``), the echo model. Whatever mode the rest of
the suite runs in, these kernels ask for the shared runtime, with the suite's
short idle limit, so a test's runtime stops a few seconds after its last
kernel. Figures (how long a failure took) are reported, never asserted.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from other_user import OTHER_USER, other_user, python_as_other_user
from reliability import Reliability
from runtime_support import TEST_RUNTIME_IDLE

from copilot_magic.runtime.served import (
    ServerState,
    read_server_state,
    server_folder,
    write_server_files,
)
from copilot_magic.testing.echo_model import EchoModelServer

from .cells import (
    SLOW_REPLY,
    completed_turns,
    copilot_cell,
    error_shown,
    reply_of,
    wait_for_streaming,
)
from .cli_runner import Ran
from .kernels import Kernel, gone, serving_runtimes

SHARED = {"COPILOT_MAGIC_RUNTIME": "shared"}


@pytest.fixture
def shared_kernel(kernel_with: Callable[..., Kernel]) -> Callable[..., Kernel]:
    """Start kernels on the shared runtime, with some environment variables changed."""
    return lambda **changes: kernel_with(**{**SHARED, **changes})


def _reply(kernel: Kernel, prompt: str) -> str:
    result = kernel.execute(copilot_cell(prompt))
    assert result.error is None, result.error_line
    return str(reply_of(result)["data"]["text/plain"])


def _server_of(data_dir: Path) -> ServerState:
    state = read_server_state(data_dir)
    assert state is not None, "no shared runtime serves the data directory"
    assert state.running()
    return state


def _processes_of(data_dir: Path) -> list[int]:
    """Every copilot_magic server and lifeline process, and every runtime, on ``data_dir``."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            command = " ".join(process.info["cmdline"] or [])
            uses = process.environ().get("COPILOT_HOME") == str(data_dir)
        except psutil.Error:
            continue
        ours = ("copilot_magic", "lifeline", "--headless")
        if uses and any(word in command for word in ours):
            found.append(process.pid)
    return found


@pytest.mark.reliability("Shared runtime", "Three kernels and the command line on one runtime")
def test_three_kernels_share_one_runtime_and_the_command_line_sees_their_sessions(
    shared_kernel: Callable[..., Kernel],
    run_cli: Callable[..., Ran],
    data_dir: Path,
    reliability: Reliability,
) -> None:
    reliability.tried("three kernels on one data directory, a turn each; then copilot-magic list")
    kernels = [shared_kernel() for _ in range(3)]
    for number, kernel in enumerate(kernels, start=1):
        kernel.execute(f"%copilot_session shared-{number}")
        assert f"question {number} of three" in _reply(kernel, f"question {number} of three")
    server = _server_of(data_dir)
    assert serving_runtimes(data_dir) == [server.pid]
    assert {kernel.serving_runtime() for kernel in kernels} == {server.pid}
    for number, kernel in enumerate(kernels, start=1):
        history = kernel.execute(f"%copilot_session --history shared-{number}").printed
        assert f"question {number} of three" in history
        others = {1, 2, 3} - {number}
        assert not any(f"question {other} of three" in history for other in others)
    listed = run_cli("list", "--json", env=SHARED)
    assert listed.status == 0, listed.err
    assert {"shared-1", "shared-2", "shared-3"} <= {s["id"] for s in json.loads(listed.out)}
    doctor = run_cli("doctor", env=SHARED)
    report = dict(line.split(": ", 1) for line in doctor.out.splitlines())
    assert report["runtime"] == (
        f"shared, served at {server.address} for every kernel of {data_dir}"
    ), doctor.out
    assert report["runtime answers"].startswith("OK ("), doctor.out
    assert serving_runtimes(data_dir) == [server.pid], "the command started a runtime"
    reliability.held(
        "one runtime process served the three kernels and the command line; each history "
        "holds its own kernel's turn only"
    )


@pytest.mark.reliability("Shared runtime", "Five kernels start at the same moment")
def test_five_kernels_started_together_end_with_one_runtime(
    shared_kernel: Callable[..., Kernel], data_dir: Path, reliability: Reliability
) -> None:
    kernels = [shared_kernel() for _ in range(5)]
    reliability.tried("five kernels send their first %copilot_session at the same moment")
    sent = [kernel.send(f"%copilot_session together-{n}") for n, kernel in enumerate(kernels)]
    for kernel, msg_id in zip(kernels, sent, strict=True):
        opened = kernel.collect(msg_id)
        assert opened.error is None, opened.error_line
    server = _server_of(data_dir)
    assert serving_runtimes(data_dir) == [server.pid]
    assert {kernel.serving_runtime() for kernel in kernels} == {server.pid}
    reliability.held("one runtime; all five kernels use it (a lock decides who starts it)")


@pytest.mark.reliability("Shared runtime", "The shared runtime killed mid-reply")
def test_the_shared_runtime_killed_mid_reply_fails_each_waiting_cell_and_the_next_goes_on(
    shared_kernel: Callable[..., Kernel], data_dir: Path, reliability: Reliability
) -> None:
    kernels = [shared_kernel(), shared_kernel()]
    for number, kernel in enumerate(kernels):
        kernel.execute(f"%copilot_session killed-{number}")
        _reply(kernel, f"kept question {number}")
    killed = _server_of(data_dir)
    reliability.tried("SIGKILL the shared runtime while two kernels' replies stream")
    sent = [kernel.send(copilot_cell(f"lost question {SLOW_REPLY}")) for kernel in kernels]
    for kernel, msg_id in zip(kernels, sent, strict=True):
        wait_for_streaming(kernel, msg_id)
    killed_at = time.monotonic()
    os.kill(killed.pid, signal.SIGKILL)
    took = []
    for kernel, msg_id in zip(kernels, sent, strict=True):
        failed = kernel.collect(msg_id, timeout=60)
        took.append(time.monotonic() - killed_at)
        line = error_shown(failed)
        assert line.startswith("TurnFailed: The Copilot runtime stopped during the reply"), line
    assert gone([killed.pid])
    for number, kernel in enumerate(kernels):
        reply = _reply(kernel, "are you back?")
        assert f'The first was: "kept question {number}"' in reply
        history = kernel.execute("%copilot_session --history").printed
        # The lost prompt may have reached the runtime's disk before the kill, or not
        # (runtime-facts.md): the history then keeps it, marked interrupted with what the
        # cell showed, and the model has it too. Either way the two agree, and both
        # completed turns are there whole.
        header = re.match(rf"Session killed-{number}: (\d) turns", history)
        assert header is not None, history
        turns = int(header.group(1))
        assert turns in (2, 3), history
        assert f"I received {turns} user messages." in reply, (reply, history)
        assert ("[2] Copilot: (interrupted" in history) == (turns == 3), history
        assert completed_turns(data_dir, f"killed-{number}") == 2
    restarted = _server_of(data_dir)
    assert restarted.pid != killed.pid
    assert serving_runtimes(data_dir) == [restarted.pid]
    reliability.held(
        f"both cells failed in one line, {took[0]:.2f} s and {took[1]:.2f} s after the kill; "
        "the next cell started one new shared runtime and every completed turn was there"
    )


@pytest.fixture
def unrelated_process() -> Iterator[psutil.Process]:
    """A live process that is no runtime, whose pid a stale state file may name."""
    process = subprocess.Popen([sys.executable, "-c", "input()"], stdin=subprocess.PIPE)
    yield psutil.Process(process.pid)
    process.kill()
    process.wait()


@pytest.mark.reliability("Shared runtime", "A stale state file")
@pytest.mark.parametrize("stale", ["dead pid", "reused pid"])
def test_a_stale_state_file_is_replaced_and_the_process_it_names_is_left_alone(
    stale: str,
    shared_kernel: Callable[..., Kernel],
    data_dir: Path,
    unrelated_process: psutil.Process,
    reliability: Reliability,
) -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    started = unrelated_process.create_time()
    states = {
        "dead pid": ServerState("127.0.0.1:1", ended.pid, started),
        "reused pid": ServerState("127.0.0.1:1", unrelated_process.pid, started - 3600),
    }
    write_server_files(data_dir, states[stale], "a-stale-token")
    reliability.tried(f"server.json names a {stale}; a kernel opens a session")
    kernel = shared_kernel()
    kernel.execute("%copilot_session after-stale")
    assert "after the stale file" in _reply(kernel, "after the stale file")
    server = _server_of(data_dir)
    assert server.pid not in (ended.pid, unrelated_process.pid)
    assert unrelated_process.is_running()
    reliability.held("a new shared runtime started and the state file names it; nothing killed")


@pytest.mark.reliability("Shared runtime", "A shared runtime that runs and does not answer")
def test_a_running_shared_runtime_that_does_not_answer_is_one_line_and_never_doubled(
    shared_kernel: Callable[..., Kernel],
    data_dir: Path,
    unrelated_process: psutil.Process,
    reliability: Reliability,
) -> None:
    silent = ServerState("127.0.0.1:1", unrelated_process.pid, unrelated_process.create_time())
    write_server_files(data_dir, silent, "a-token")
    reliability.tried("server.json names a running process that accepts no connection")
    kernel = shared_kernel()
    line = error_shown(kernel.execute("%copilot_session silent-runtime"))
    assert line.startswith(
        f"RuntimeUnavailable: The shared Copilot runtime of {data_dir} "
        f"(pid {unrelated_process.pid}) runs but does not answer at 127.0.0.1:1: wait and try "
        "again, or stop it"
    ), line
    assert serving_runtimes(data_dir) == [], "a second runtime was started beside it"
    assert read_server_state(data_dir) == silent
    assert unrelated_process.is_running()
    reliability.held("one line naming the pid and what to do; no second runtime; nothing killed")


def _stopped(pids: list[int]) -> bool:
    """Whether these processes ended within the idle limit and a few seconds to stop."""
    return gone(pids, timeout=TEST_RUNTIME_IDLE + 15)


@pytest.mark.reliability("Shared runtime", "Idle stop after the last kernel ends")
@pytest.mark.parametrize("ending", ["shut down", "SIGKILL"])
def test_the_shared_runtime_stops_when_idle_after_its_last_kernel_ends(
    ending: str,
    shared_kernel: Callable[..., Kernel],
    data_dir: Path,
    reliability: Reliability,
) -> None:
    first, last = shared_kernel(), shared_kernel()
    first.execute("%copilot_session idle-first")
    _reply(first, "from the first kernel")
    server = _server_of(data_dir)
    processes = _processes_of(data_dir)
    assert server.pid in processes
    reliability.tried(
        f"two kernels; the first shuts down, the other is ended by {ending}; "
        f"COPILOT_MAGIC_RUNTIME_IDLE={TEST_RUNTIME_IDLE:g}"
    )
    last.execute("%copilot_session idle-last")  # attached before the first goes: no idle gap
    first.shutdown()
    assert "the last kernel still here" in _reply(last, "the last kernel still here")
    assert _server_of(data_dir) == server, "the runtime stopped while a kernel used it"
    if ending == "SIGKILL":
        os.kill(last.pid, signal.SIGKILL)
    else:
        last.shutdown()
    assert _stopped(processes), "the shared runtime outlived its kernels"
    assert read_server_state(data_dir) is None
    assert _processes_of(data_dir) == []
    reliability.held("the runtime, its lifeline and its server exited; no state file left")


def _token(data_dir: Path) -> str:
    return (server_folder(data_dir) / "token").read_text()


@pytest.mark.reliability("Shared runtime", "Token: owner-only, never shown")
def test_the_token_is_the_owners_alone_and_a_wrong_one_is_refused_in_one_line(
    shared_kernel: Callable[..., Kernel],
    run_cli: Callable[..., Ran],
    data_dir: Path,
    reliability: Reliability,
) -> None:
    kernel = shared_kernel()
    opened = kernel.execute("%copilot_session token-check")
    server = _server_of(data_dir)
    token_file = server_folder(data_dir) / "token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert (token_file.parent.stat().st_mode & 0o777) == 0o700
    reliability.tried("a kernel given the wrong token for the shared runtime's address")
    wrong = shared_kernel(
        COPILOT_MAGIC_RUNTIME=server.address, COPILOT_MAGIC_RUNTIME_TOKEN="not-the-token"
    )
    refused = error_shown(wrong.execute("%copilot_session token-wrong"))
    assert refused.startswith(f"TokenRefused: The Copilot runtime at {server.address} refused")
    assert "not-the-token" not in refused
    doctor = run_cli("doctor", env=SHARED)
    shown = opened.text() + refused + doctor.out + doctor.err
    assert _token(data_dir) not in shown
    assert _token(data_dir) not in kernel.execute("%config CopilotMagics").text()
    reliability.held("token file 0600 in a 0700 folder; wrong token one line; token never shown")


def _user_prompts(requests: list[dict[str, Any]]) -> str:
    return json.dumps([m for r in requests for m in r["messages"] if m["role"] == "user"])


@pytest.mark.reliability("Shared runtime", "Two kernels, two providers, one runtime")
def test_two_kernels_with_two_providers_on_one_runtime_each_reach_their_own_model(
    shared_kernel: Callable[..., Kernel], data_dir: Path, reliability: Reliability
) -> None:
    seen: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
    with (
        EchoModelServer(on_request=seen["a"].append) as model_a,
        EchoModelServer(on_request=seen["b"].append) as model_b,
    ):
        kernel_a = shared_kernel(COPILOT_MAGIC_PROVIDER_URL=model_a.url)
        kernel_b = shared_kernel(COPILOT_MAGIC_PROVIDER_URL=model_b.url)
        reliability.tried("two kernels on one shared runtime, each with its own provider URL")
        kernel_a.execute("%copilot_session provider-a")
        kernel_b.execute("%copilot_session provider-b")
        _reply(kernel_a, "apricot for provider a")
        _reply(kernel_b, "blueberry for provider b")
        _reply(kernel_a, "avocado for provider a")
    assert kernel_a.serving_runtime() == kernel_b.serving_runtime() == _server_of(data_dir).pid
    asked_a, asked_b = _user_prompts(seen["a"]), _user_prompts(seen["b"])
    assert "apricot for provider a" in asked_a
    assert "avocado for provider a" in asked_a
    assert "blueberry for provider b" in asked_b
    assert "blueberry" not in asked_a
    assert "apricot" not in asked_b
    assert "avocado" not in asked_b
    reliability.held("each model received its own kernel's prompts and no other")


@pytest.mark.reliability("Shared runtime", "An interrupt in one kernel")
def test_an_interrupt_in_one_kernel_stops_its_turn_only(
    shared_kernel: Callable[..., Kernel], reliability: Reliability
) -> None:
    stopped, going_on = shared_kernel(), shared_kernel()
    stopped.execute("%copilot_session interrupt-stopped")
    going_on.execute("%copilot_session interrupt-going-on")
    reliability.tried("two kernels' replies stream on one runtime; one kernel is interrupted")
    to_stop = stopped.send(copilot_cell(f"the stopped story {SLOW_REPLY}"))
    to_finish = going_on.send(copilot_cell(f"the finished story {SLOW_REPLY}"))
    wait_for_streaming(stopped, to_stop)
    wait_for_streaming(going_on, to_finish)
    stopped.interrupt()
    interrupted = stopped.collect(to_stop)
    assert interrupted.error is None, interrupted.error_line
    assert stopped.updates[-1]["content"]["metadata"]["copilot_magic"]["stage"] == "interrupted"
    finished = going_on.collect(to_finish)  # its display came before, while streaming
    assert finished.error is None, finished.error_line
    history = going_on.execute("%copilot_session --history").printed
    assert history.startswith("Session interrupt-going-on: 1 turn"), history
    assert 'I received 1 user message. The first was: "the finished story' in history
    assert "interrupted" not in history.lower()
    assert "I received 2 user messages." in _reply(stopped, "still there?")
    reliability.held("the interrupted kernel's turn stopped; the other reply finished whole")


def _listening_silently() -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server


@pytest.mark.slow
@pytest.mark.reliability("Shared runtime", "A port taken by something else")
def test_a_port_held_by_something_else_is_one_line_never_a_hang(
    shared_kernel: Callable[..., Kernel], run_cli: Callable[..., Ran], reliability: Reliability
) -> None:
    with _listening_silently() as silent:
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        reliability.tried("serve --port on a taken port; a kernel pointed at a silent listener")
        taken = run_cli("serve", "--port", address.rpartition(":")[2])
        assert taken.status == 1
        assert "The Copilot runtime failed to start" in taken.error_line
        kernel = shared_kernel(
            COPILOT_MAGIC_RUNTIME=address, COPILOT_MAGIC_RUNTIME_TOKEN="some-token"
        )
        line = error_shown(kernel.execute("%copilot_session silent-port"))
    assert line.startswith(
        f"RuntimeUnavailable: Nothing at {address} answers as a Copilot runtime"
    ), line
    reliability.held("one line each: serve exits 1, the kernel's cell fails without a hang")


@pytest.mark.reliability("Shared runtime", "A runtime that will not start")
def test_a_shared_runtime_that_will_not_start_is_one_line(
    shared_kernel: Callable[..., Kernel], data_dir: Path, tmp_path: Path, reliability: Reliability
) -> None:
    broken = tmp_path / "copilot"
    broken.write_text("#!/bin/sh\necho 'no runtime here' >&2\nexit 3\n")
    broken.chmod(0o755)
    kernel = shared_kernel(COPILOT_CLI_PATH=str(broken))
    reliability.tried("the runtime binary exits at once with status 3")
    line = error_shown(kernel.execute("%copilot_session will-not-start"))
    assert line.startswith("RuntimeUnavailable: The Copilot runtime failed to start"), line
    assert read_server_state(data_dir) is None
    assert _processes_of(data_dir) == []
    reliability.held("one line; no server, state file or process left behind")


@pytest.mark.reliability("Shared runtime", "A kernel killed while it holds a session")
def test_a_session_of_a_killed_kernel_opens_in_another_kernel_with_every_turn(
    shared_kernel: Callable[..., Kernel], data_dir: Path, reliability: Reliability
) -> None:
    killed, next_one = shared_kernel(), shared_kernel()
    killed.execute("%copilot_session orphaned")
    _reply(killed, "the orphaned question")
    reliability.tried("SIGKILL a kernel holding a session open on the shared runtime")
    os.kill(killed.pid, signal.SIGKILL)
    assert gone([killed.pid])
    opened = next_one.execute("%copilot_session orphaned")
    assert opened.error is None, opened.error_line
    assert opened.stdout.startswith("Resumed session orphaned: 1 turn"), opened.stdout
    reply = _reply(next_one, "picked up elsewhere")
    assert 'I received 2 user messages. The first was: "the orphaned question"' in reply
    assert _server_of(data_dir).pid == next_one.serving_runtime()
    reliability.held("the other kernel resumed it at once, on the same runtime, with its turn")


def _damage(data_dir: Path, damage: str) -> None:
    folder = server_folder(data_dir)
    token, state = folder / "token", folder / "server.json"
    if damage == "token deleted":
        token.unlink()
    elif damage == "token emptied":
        token.write_text("")
    elif damage == "token garbled":
        token.write_bytes(token.read_bytes()[:20] + b"\xff\xfe\x00")
    elif damage == "token of another runtime":
        token.write_text(secrets.token_urlsafe(32))
    else:
        state.write_text(state.read_text()[:30])


@pytest.mark.slow
@pytest.mark.reliability("Shared runtime", "Damaged state files")
def test_damaged_state_files_end_in_a_working_session_and_list_and_show_need_no_runtime(
    shared_kernel: Callable[..., Kernel],
    run_here: Callable[..., Ran],
    data_dir: Path,
    reliability: Reliability,
) -> None:
    first = shared_kernel()
    first.execute("%copilot_session damaged-state")
    _reply(first, "before the damage")
    damages = [
        "token deleted",
        "token emptied",
        "token garbled",
        "token of another runtime",
        "server.json cut short",
    ]
    reliability.tried(
        f"while the shared runtime serves a kernel: {', '.join(damages)}; then a new kernel "
        "(and copilot-magic list and show after the first three)",
        times=len(damages),
    )
    for number, damage in enumerate(damages):
        orphan, processes = _server_of(data_dir), _processes_of(data_dir)
        _damage(data_dir, damage)
        if damage in ("token deleted", "token emptied", "token garbled"):
            listed = run_here("list", "--json", env=SHARED)
            assert listed.status == 0, f"{damage}: {listed.err}"
            assert "damaged-state" in {s["id"] for s in json.loads(listed.out)}, damage
            shown = run_here("show", "damaged-state", env=SHARED)
            assert shown.status == 0, f"{damage}: {shown.err}"
            assert "before the damage" in shown.out, damage
        kernel = shared_kernel()
        kernel.execute(f"%copilot_session damaged-{number}")
        assert f"after the {damage}" in _reply(kernel, f"after the {damage}")
        server = _server_of(data_dir)
        assert server.pid != orphan.pid, damage
        assert gone(processes), f"{damage}: the runtime no kernel could reach still runs"
        assert serving_runtimes(data_dir) == [server.pid], damage
    reply = _reply(first, "and the first kernel?")
    assert 'I received 2 user messages. The first was: "before the damage"' in reply
    reliability.held(
        "each time a new kernel worked on a new shared runtime, the unreachable one was "
        "stopped, list and show exited 0, and the first kernel went on with its turns"
    )


SQUATTER = """
import selectors, socket, sys
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
print(server.getsockname()[1], flush=True)
selector = selectors.DefaultSelector()
selector.register(server, selectors.EVENT_READ)
selector.register(sys.stdin, selectors.EVENT_READ)
connections, received = [], bytearray()

def drain(connection):
    connection.setblocking(False)
    while True:
        try:
            chunk = connection.recv(65536)
        except BlockingIOError:
            return
        received.extend(chunk)
        if not chunk:
            return

stopping = False
while not stopping:
    for key, _ in selector.select():
        if key.fileobj is sys.stdin:
            stopping = True
        elif key.fileobj is server:
            connections.append(server.accept()[0])
            selector.register(connections[-1], selectors.EVENT_READ)
        else:
            selector.unregister(key.fileobj)
            drain(key.fileobj)
server.setblocking(False)
while True:  # the connections not taken yet, and what is still unread
    try:
        connections.append(server.accept()[0])
    except BlockingIOError:
        break
for connection in connections:
    drain(connection)
print(len(connections), received.hex(), flush=True)
"""


@contextlib.contextmanager
def _squatter() -> Iterator[tuple[int, Callable[[], tuple[int, bytes]]]]:
    """Another user's listener on a free port of 127.0.0.1: its port, and what stops it and
    says how many connections it had and every byte it received."""
    process = python_as_other_user(
        SQUATTER, imports=("selectors", "socket"), stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert process.stdout is not None

    def stop() -> tuple[int, bytes]:
        said, _ = process.communicate("stop\n", timeout=30)
        connections, _, received = said.split("\n")[-2].partition(" ")
        return int(connections), bytes.fromhex(received)

    try:
        yield int(process.stdout.readline()), stop
    finally:
        process.kill()
        process.wait()


@pytest.mark.reliability("Shared runtime", "Another user's listener on the runtime's port")
def test_another_users_listener_at_the_runtimes_address_receives_nothing(
    shared_kernel: Callable[..., Kernel],
    run_cli: Callable[..., Ran],
    data_dir: Path,
    unrelated_process: psutil.Process,
    reliability: Reliability,
) -> None:
    other = other_user()  # skips where this is not root
    token = secrets.token_urlsafe(32)
    with _squatter() as (port, stop):
        address = f"127.0.0.1:{port}"
        reliability.tried(
            f"user {OTHER_USER} listens at {address}, which server.json names (with a live "
            "process of ours), then a kernel and a command given it as HOST:PORT with a token"
        )
        recorded = ServerState(address, unrelated_process.pid, unrelated_process.create_time())
        write_server_files(data_dir, recorded, token)
        kernel = shared_kernel()
        kernel.execute("%copilot_session squatted")
        assert "my own runtime only" in _reply(kernel, "for my own runtime only")
        assert _server_of(data_dir).address != address
        assert unrelated_process.is_running()
        kernel.execute(f"%config CopilotMagics.runtime = '{address}'")
        kernel.execute(f"%config CopilotMagics.runtime_token = '{token}'")
        line = error_shown(kernel.execute(copilot_cell("for nobody else")))
        listed = run_cli(
            "list", env={"COPILOT_MAGIC_RUNTIME": address, "COPILOT_MAGIC_RUNTIME_TOKEN": token}
        )
        connections, received = stop()
    assert line == (
        f"RuntimeNotYours: The port {address} belongs to another user, {OTHER_USER} (uid "
        f"{other.pw_uid}), not to you: nothing was sent to it (no token, key or prompt). Point "
        "the runtime setting at a runtime of your own, or set it to shared or own. Set it with "
        "%config CopilotMagics.runtime = … (or COPILOT_MAGIC_RUNTIME)."
    )
    assert listed.status == 0, listed.err
    assert "squatted" in listed.out
    assert received == b"", f"{OTHER_USER} received {received!r}"
    assert connections == 0
    reliability.held(
        "the kernel started a runtime of its own user on another port and worked; given the "
        f"address, it refused in one line naming the port and {OTHER_USER}; list read the "
        f"files; {OTHER_USER} got no connection and no byte"
    )
