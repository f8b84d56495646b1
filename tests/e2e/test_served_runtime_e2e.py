"""One runtime for many kernels: ``copilot-magic serve`` and ``CopilotMagics.runtime``.

The server is the real runtime under ``copilot-magic serve`` (a subprocess, as an
administrator starts it); the kernels are real kernels whose ``runtime`` setting
is its address, on the same data directory, so they read its token file.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from copilot_magic.runtime.served import server_folder

from .cells import SLOW_REPLY, copilot_cell, error_shown, reply_of, wait_for_streaming
from .cli_runner import Ran
from .kernels import Kernel


class Server:
    """``copilot-magic serve`` running in the background on a data directory."""

    def __init__(self, env: dict[str, str], cwd: Path, *options: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "copilot_magic", "serve", *options],
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.said = [self.process.stdout.readline(), self.process.stdout.readline()]
        assert self.said[1].startswith("Kernels: COPILOT_MAGIC_RUNTIME="), self.said
        self.address = self.said[1].split("=", 1)[1].split(" ", 1)[0]

    def runtime_pid(self, data_dir: Path) -> int:
        state = json.loads((server_folder(data_dir) / "server.json").read_text())
        assert state["address"] == self.address
        return int(state["pid"])

    def stop(self) -> tuple[int, str, str]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.ended()

    def ended(self) -> tuple[int, str, str]:
        """How it ended, once it ends by itself (within a minute)."""
        out, err = self.process.communicate(timeout=60)
        return self.process.returncode, out, err


@pytest.fixture
def serve(kernel_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(*options: str) -> Server:
        server = Server(kernel_env, tmp_path, *options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def served_kernel(
    kernel_with: Callable[..., Kernel],
) -> Callable[[str, dict[str, str] | None], Kernel]:
    """Start kernels whose runtime is the one served at an address."""
    return lambda address, extra: kernel_with(COPILOT_MAGIC_RUNTIME=address, **(extra or {}))


def test_kernels_on_a_served_runtime_start_none_of_their_own_and_share_its_sessions(
    serve: Callable[..., Server],
    served_kernel: Callable[[str, dict[str, str] | None], Kernel],
    run_cli: Callable[..., Ran],
    data_dir: Path,
) -> None:
    server = serve()
    kernels = [served_kernel(server.address, None) for _ in range(3)]
    for number, kernel in enumerate(kernels, start=1):
        kernel.execute(f"%copilot_session served-{number}")
        reply = reply_of(kernel.execute(copilot_cell(f"question {number} to the server")))
        assert f"question {number} to the server" in reply["data"]["text/plain"]
        assert kernel.runtime_pids() == []  # no kernel started a runtime
    history = kernels[1].execute("%copilot_session --history served-2").printed
    assert "question 2 to the server" in history
    assert "question 1" not in history
    listed = run_cli("list", "--json", env={"COPILOT_MAGIC_RUNTIME": server.address})
    assert listed.status == 0, listed.err
    assert {"served-1", "served-2", "served-3"} <= {s["id"] for s in json.loads(listed.out)}
    doctor = run_cli("doctor", env={"COPILOT_MAGIC_RUNTIME": server.address})
    report = dict(line.split(": ", 1) for line in doctor.out.splitlines())
    assert report["runtime"] == f"served at {server.address} (COPILOT_MAGIC_RUNTIME)"
    assert report["runtime answers"].startswith("OK ("), doctor.out
    token_file = server_folder(data_dir) / "token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_text()
    assert token not in doctor.out + doctor.err
    assert token
    assert all(token not in line for line in server.said)
    status, out, err = server.stop()
    assert (status, err) == (0, ""), err
    assert token not in out
    assert not token_file.exists()


def test_a_wrong_token_or_no_server_is_one_line_and_the_next_cell_can_go_on(
    serve: Callable[..., Server],
    served_kernel: Callable[[str, dict[str, str] | None], Kernel],
    data_dir: Path,
) -> None:
    server = serve()
    wrong = served_kernel(server.address, {"COPILOT_MAGIC_RUNTIME_TOKEN": "not-the-token"})
    refused = wrong.execute("%copilot_session served-wrong-token")
    assert refused.error_line.startswith(
        f"TokenRefused: The Copilot runtime at {server.address} refused this kernel"
    ), refused.error_line
    assert "not-the-token" not in refused.error_line
    pid = server.runtime_pid(data_dir)
    assert psutil.pid_exists(pid)
    server.stop()
    gone = served_kernel(server.address, None).execute("%copilot_session served-no-server")
    assert gone.error_line == (
        f"RuntimeUnavailable: No Copilot runtime answers at {server.address}: start it with "
        "`copilot-magic serve`, or set the runtime setting to shared or own. Set it with "
        "%config CopilotMagics.runtime = … (or COPILOT_MAGIC_RUNTIME)."
    )
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    left = set(os.listdir(server_folder(data_dir)))
    assert not left & {"server.json", "token"}, left  # start.lock and kernels/ may stay


def test_a_served_runtime_killed_mid_reply_fails_the_cell_and_a_restarted_one_keeps_every_turn(
    serve: Callable[..., Server],
    served_kernel: Callable[[str, dict[str, str] | None], Kernel],
    data_dir: Path,
) -> None:
    server = serve()
    kernel = served_kernel(server.address, None)
    kernel.execute("%copilot_session served-killed")
    reply_of(kernel.execute(copilot_cell("the kept question")))
    pid = server.runtime_pid(data_dir)
    msg_id = kernel.send(copilot_cell(f"the lost question {SLOW_REPLY}"))
    wait_for_streaming(kernel, msg_id)
    os.kill(pid, signal.SIGKILL)
    failed = kernel.collect(msg_id, timeout=30)
    assert error_shown(failed).startswith(
        "TurnFailed: The Copilot runtime stopped during the reply"
    ), failed.error_line
    status, _, err = server.ended()  # its runtime ended: so does it (a SIGTERM could cross)
    assert status == 1
    assert "The Copilot runtime ended" in err
    port = server.address.rpartition(":")[2]
    again = serve("--port", port)
    assert again.address == server.address
    history = kernel.execute("%copilot_session --history").printed
    assert "the kept question" in history
    # The lost prompt may have reached the runtime's history before the kill: then it is kept,
    # marked interrupted with what the cell showed, never as a whole turn; the model agrees.
    lost_kept = "the lost question" in history
    if lost_kept:
        assert "(interrupted at" in history
    reply = reply_of(kernel.execute(copilot_cell("after the restart")))
    text = reply["data"]["text/plain"]
    assert "after the restart" in text
    assert f"I received {3 if lost_kept else 2} user messages" in text
