"""The README's demo: two notebooks, two fresh kernels (nbclient), one conversation, and
no runtime left running once it has ended."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from runtime_support import REPO, TEST_RUNTIME_IDLE

from copilot_magic.runtime.processes import mine_in
from copilot_magic.runtime.served import read_server_state, server_folder
from copilot_magic.runtime.shared import (
    SERVING,
    shared_runtime,
    stop_shared,
    stopping_shared_started_within,
)

from .cli_runner import shared_runtime_family, stray_runtimes
from .kernels import gone


def test_the_demo_continues_the_conversation_in_a_fresh_kernel_and_stops_its_runtime(
    kernel_env: dict[str, str], runtime_path: str, data_dir: Path
) -> None:
    env = dict(kernel_env)
    for name in (
        "COPILOT_MAGIC_PROVIDER_URL",
        "COPILOT_MAGIC_MODEL",
        "COPILOT_MAGIC_PROVIDER_API_KEY",
        # As people have them: the shared runtime, which waits 30 minutes for more kernels.
        "COPILOT_MAGIC_RUNTIME",
        "COPILOT_MAGIC_RUNTIME_IDLE",
    ):
        env.pop(name)  # as on a fresh machine: the demo must choose the echo model itself
    done = subprocess.run(
        [sys.executable, str(REPO / "notebooks" / "run_demo.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("Model: the local echo model")
    assert "Created session demo-notebook" in done.stdout
    assert "(with `df`: DataFrame 3 × 3)" in done.stdout  # the history names what {df} sent
    assert "The reply has no code block, so no cell was added." in done.stdout  # --code, echo
    assert "(with `last error`: KeyError: 'petal_width')" in done.stdout  # --error
    assert "Resumed session demo-notebook: 3 turns" in done.stdout
    assert "Renamed session demo-notebook: Iris demo" in done.stdout
    assert "Checked: in the second kernel the model received all four user messages" in done.stdout
    assert "Traceback" not in done.stderr
    # Only the echo model's quotes of the traceback --error attached: no Python crash.
    assert "\nTraceback (most recent call last):" not in done.stdout
    # A shared runtime served the demo, and was asked to stop (not idle: it would wait 30 min).
    server_log = (server_folder(data_dir) / "server.log").read_text()
    assert server_log.splitlines()[-1] == "Stopped.", server_log
    # When the demo has exited, nothing of it runs: no server, no runtime on its data directory.
    assert read_server_state(data_dir) is None
    assert shared_runtime_family(data_dir) == set()
    assert mine_in(server_folder(data_dir), SERVING) == []
    assert stray_runtimes(runtime_path, data_dir) == []


def test_the_demos_stop_spares_a_shared_runtime_that_served_before_it(
    runtime_path: str, data_dir: Path
) -> None:
    """Your own kernels' runtime on the demo's data directory is not the demo's to stop."""
    yours = shared_runtime(data_dir, lambda: runtime_path, TEST_RUNTIME_IDLE)
    assert yours is not None
    servers = mine_in(server_folder(data_dir), SERVING)
    family = [*servers, *shared_runtime_family(data_dir)]
    try:
        with stopping_shared_started_within(data_dir):
            pass  # the demo, run while yours serves: its kernels use yours and start none
        state = read_server_state(data_dir)
        assert state is not None
        assert (state.pid, state.started) == (yours.pid, yours.started)
        assert state.serves_here()
        assert stop_shared(data_dir)  # not spared: stopped, and waited for
    finally:
        yours.stop()
    assert len(servers) == 1
    assert yours.pid in family
    assert read_server_state(data_dir) is None
    assert gone(family, timeout=0)
