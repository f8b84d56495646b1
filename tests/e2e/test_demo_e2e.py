"""The README's demo: two notebooks, two fresh kernels (nbclient), one conversation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from runtime_support import REPO


def test_the_demo_continues_the_conversation_in_a_fresh_kernel(
    kernel_env: dict[str, str], tmp_path: Path
) -> None:
    env = dict(kernel_env)
    for name in (
        "COPILOT_MAGIC_PROVIDER_URL",
        "COPILOT_MAGIC_MODEL",
        "COPILOT_MAGIC_PROVIDER_API_KEY",
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
    assert "Resumed session demo-notebook: 2 turns" in done.stdout
    assert "Checked: in the second kernel the model received all three user messages" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
