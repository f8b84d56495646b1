"""Settings and faults of issue 11, in real kernels on the real runtime with the echo model.

Each test is one of the bugs a careful read found; each failed on the code
before the fix (see the note on issue 11).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .cells import SLOW_REPLY, copilot_cell, error_shown, reply_of, wait_for_streaming
from .kernels import Kernel


def _text(kernel: Kernel, prompt: str) -> str:
    return str(reply_of(kernel.execute(copilot_cell(prompt)))["data"]["text/plain"])


def test_a_model_set_with_config_after_the_first_turn_answers_the_next_turn(
    start_kernel: Callable[[], Kernel],
) -> None:
    """Bug 1: ``%config CopilotMagics.model`` after the first command had no effect."""
    kernel = start_kernel()
    kernel.execute("%copilot_session e2e-model")
    assert "Model: echo." in _text(kernel, "first [[echo:model]]")
    assert kernel.execute('%config CopilotMagics.model = "echo-2"').error is None
    second = _text(kernel, "second [[echo:model]]")
    assert "Model: echo-2." in second
    assert "I received 2 user messages." in second  # the same conversation, resumed


def test_zero_updates_a_second_is_refused_and_the_next_turn_works(
    start_kernel: Callable[[], Kernel],
) -> None:
    """Bug 2: the prompt was sent, the cell failed with ZeroDivisionError and a traceback,
    and the session stayed locked as "already replying"."""
    kernel = start_kernel()
    kernel.execute("%copilot_session e2e-rate")
    refused = kernel.execute("%config CopilotMagics.updates_per_second = 0")
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert "CopilotMagics.updates_per_second must be a number above 0" in lines[0]
    assert "Traceback" not in refused.text()
    assert "I received 1 user message." in _text(kernel, "hello")
    assert "I received 2 user messages." in _text(kernel, "and again")


@pytest.mark.both_runtimes
def test_a_changed_data_dir_stops_with_one_line_and_creates_nothing(
    start_kernel: Callable[[], Kernel], tmp_path: Path, data_dir: Path
) -> None:
    """Bug 3: the next cell silently created an empty session of the same id there."""
    kernel = start_kernel()
    kernel.execute("%copilot_session e2e-moved")
    _text(kernel, "remember the word quince")
    elsewhere = tmp_path / "elsewhere"
    kernel.execute(f"%config CopilotMagics.data_dir = {str(elsewhere)!r}")
    line = error_shown(kernel.execute(copilot_cell("what was the word?")))
    assert line.startswith(f"UsageError: Session 'e2e-moved' is not in {elsewhere}")
    assert not (elsewhere / "session-state" / "e2e-moved").exists()
    kernel.execute(f"%config CopilotMagics.data_dir = {str(data_dir)!r}")  # back again
    assert "I received 2 user messages." in _text(kernel, "what was the word?")


@pytest.mark.both_runtimes
def test_an_interrupt_never_reaches_the_runtime_even_without_setsid(
    kernel_env: dict[str, str], tmp_path: Path
) -> None:
    """Bug 5: where ``setsid`` was missing (macOS), the wrapper did nothing and a kernel
    interrupt stopped the runtime. Here no PATH entry holds any program at all."""
    kernel = Kernel({**kernel_env, "PATH": str(tmp_path / "no-programs")}, cwd=str(tmp_path))
    try:
        assert kernel.execute("%load_ext copilot_magic").error is None
        kernel.execute("%copilot_session e2e-no-setsid")
        (runtime,) = kernel.runtime_pids()
        msg_id = kernel.send(copilot_cell(f"a long story {SLOW_REPLY}"))
        wait_for_streaming(kernel, msg_id)
        kernel.interrupt()
        stopped = kernel.collect(msg_id, timeout=30)
        assert stopped.error is None, stopped.error_line
        final = kernel.updates[-1]["content"]
        assert final["metadata"]["copilot_magic"]["stage"] == "interrupted"
        assert "I received 2 user messages." in _text(kernel, "still there?")
        assert kernel.runtime_pids() == [runtime]  # the same runtime answered
    finally:
        kernel.shutdown()
