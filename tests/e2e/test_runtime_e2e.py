"""Starting the real runtime: its own process session, any path, no orphan, no send delay."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest
from reliability import Reliability
from runtime_support import settings_for_tests

from copilot_magic.runtime import sdk
from copilot_magic.runtime.bridge import RuntimeBridge
from copilot_magic.runtime.launcher import launch

from .cells import copilot_cell, reply_of
from .kernels import Kernel, gone, runtimes_on

# The runtime mode changes what these tests prove: each runs on the shared runtime and again
# with a runtime per kernel ([shared] and [own]).
pytestmark = pytest.mark.both_runtimes


def test_the_runtime_runs_in_a_process_session_of_its_own(
    runtime_path: str, data_dir: Path
) -> None:
    """A kernel interrupt goes to the kernel's process group; the runtime is not in it."""
    runtime = launch(runtime_path, str(data_dir))
    try:
        assert os.getsid(runtime.pid) != os.getsid(0)
        assert os.getpgid(runtime.pid) != os.getpgid(0)
        assert psutil.Process(runtime.pid).environ().get("COPILOT_HOME") == str(data_dir)
    finally:
        runtime.stop()
    assert gone([runtime.pid])
    assert runtime.exit_code() is not None


def test_a_runtime_path_with_quotes_dollars_and_backticks_works_and_runs_nothing(
    runtime_path: str, tmp_path: Path, data_dir: Path
) -> None:
    """The old ``setsid`` wrapper wrote the path into /bin/sh unescaped."""
    odd = tmp_path / 'it\'s a "dir" $HOME `touch pwned`'
    odd.mkdir()
    binary = odd / "copilot"
    os.symlink(runtime_path, binary)
    runtime = launch(str(binary), str(data_dir))
    try:
        assert runtime.exit_code() is None
    finally:
        runtime.stop()
    assert not (tmp_path / "pwned").exists()
    assert not Path("pwned").exists()


@pytest.mark.reliability("Faults", "A runtime path with quotes, $ and backticks")
def test_a_kernel_talks_through_a_runtime_whose_path_quotes_and_expands_nothing(
    kernel_env: dict[str, str],
    runtime_path: str,
    tmp_path: Path,
    reliability: Reliability,
) -> None:
    reliability.tried('COPILOT_CLI_PATH in a folder named it\'s a "dir" $HOME `touch pwned`')
    odd = tmp_path / 'it\'s a "dir" $HOME `touch pwned`'
    odd.mkdir()
    binary = odd / "copilot"
    os.symlink(runtime_path, binary)
    kernel = Kernel({**kernel_env, "COPILOT_CLI_PATH": str(binary)}, cwd=str(tmp_path))
    try:
        assert kernel.execute("%load_ext copilot_magic").error is None
        kernel.execute("%copilot_session odd-path")
        html = reply_of(kernel.execute(copilot_cell("hello")))["data"]["text/html"]
    finally:
        kernel.shutdown()
    assert 'I received 1 user message. The first was: "hello"' in html
    assert not list(tmp_path.rglob("pwned"))
    assert not Path("pwned").exists()
    reliability.held("the turn worked through that path, and no file `pwned` was made")


def test_a_killed_owner_leaves_no_runtime_behind(runtime_path: str, data_dir: Path) -> None:
    """Killed with SIGKILL, the owner cannot stop its runtime: the lifeline does."""
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                from copilot_magic.runtime.launcher import launch
                runtime = launch({runtime_path!r}, {str(data_dir)!r})
                print(runtime.pid, flush=True)
                input()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    pid = int(owner.stdout.readline())
    assert psutil.pid_exists(pid)
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    assert gone([pid]), "the runtime outlived the process that started it"


@pytest.mark.sdk_smoke
def test_the_connection_sends_at_once_and_reads_through_a_buffer(
    runtime_path: str, data_dir: Path
) -> None:
    """The SDK's socket had Nagle's algorithm on (about 40 ms of delay on every call) and
    was read a byte at a time (a streaming reply slowed down in a busy kernel)."""
    settings = settings_for_tests(cli_path=runtime_path, data_dir=str(data_dir))
    bridge = RuntimeBridge(lambda: settings)
    try:
        client = bridge.client()
        assert sdk.sends_at_once(client)
        connection = client._process  # the SDK's connection object, as the adapter found it
        assert isinstance(connection.stdout, io.BufferedReader)
        assert sdk.reads_buffered(client)
    finally:
        bridge.stop()


@pytest.mark.reliability("Faults", "runtime started through npm's `copilot` loader")
def test_a_runtime_started_through_npms_loader_owns_its_sessions_and_ends_with_its_kernel(
    runtime_path: str,
    kernel_env: dict[str, str],
    data_dir: Path,
    tmp_path: Path,
    reliability: Reliability,
) -> None:
    """``npm install @github/copilot`` puts a loader on the PATH that runs the real runtime as
    its child. Bugs: the child's session locks made the kernel's own session look held
    elsewhere (delete refused it), and the child ran on after its kernel ended."""
    loader = Path(runtime_path).parents[2] / ".bin" / "copilot"  # node_modules/.bin/copilot
    assert os.access(loader, os.X_OK), f"no npm loader at {loader}"
    reliability.tried("a kernel with COPILOT_CLI_PATH set to npm's loader: turn, list, delete")
    kernel = Kernel({**kernel_env, "COPILOT_CLI_PATH": str(loader)}, cwd=str(tmp_path))
    try:
        kernel.execute("%load_ext copilot_magic")
        kernel.execute("%copilot_session via-loader")
        assert (
            "I received 1 user message"
            in reply_of(kernel.execute(copilot_cell("hi")))["data"]["text/plain"]
        )
        runtimes = runtimes_on(data_dir)
        assert runtimes, "no runtime found for the data directory"
        deleted = kernel.execute("%copilot_session --delete via-loader --yes")
        assert deleted.error is None, deleted.error_line
        kernel.execute("%copilot_session via-loader-2")
        kernel.execute(copilot_cell("still here?"))
    finally:
        kernel.shutdown()
    assert gone(runtimes), "the runtime the loader started outlived its kernel"
    reliability.held("its own session deleted at once; no runtime left after the kernel ended")
