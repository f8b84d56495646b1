"""Terminal IPython: a reply's Markdown drawn for a real terminal (a pty), plain text in a pipe.

IPython runs a script in a pseudo-terminal (pexpect), as in a person's
terminal: the runtime, the echo model and the shared runtime are real. The
same script with its output going to a pipe prints the reply as plain text.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pexpect

from .cells import ECHO_SAYS

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
MARKDOWN = "# Plan\n\nThree steps:\n\n- load\n- clean\n\n```python\nimport pandas as pd\n```\n"
SCRIPT = """
ip = get_ipython()
ip.run_line_magic("load_ext", "copilot_magic")
ip.run_line_magic("copilot_session", "terminal-look")
ip.run_cell_magic("copilot", "", {prompt!r})
print("END OF SCRIPT")
"""


def _script(tmp_path: Path) -> Path:
    script = tmp_path / "look.ipy"
    script.write_text(SCRIPT.format(prompt=f"What is the plan? {ECHO_SAYS.format(MARKDOWN)}"))
    return script


def _command(script: Path) -> list[str]:
    return [sys.executable, "-m", "IPython", "--no-banner", "--colors=nocolor", str(script)]


def test_in_a_terminal_the_reply_is_drawn_with_headings_lists_and_coloured_code(
    kernel_env: dict[str, str], tmp_path: Path
) -> None:
    command = _command(_script(tmp_path))
    env = {**kernel_env, "IPYTHONDIR": str(tmp_path / "ipython"), "TERM": "xterm-256color"}
    terminal = pexpect.spawn(
        command[0], command[1:], env=env, cwd=str(tmp_path), dimensions=(50, 100), timeout=120
    )
    terminal.expect("END OF SCRIPT")
    shown = terminal.before.decode(errors="replace")
    terminal.expect(pexpect.EOF)
    plain = ANSI.sub("", shown)
    assert "I received 1 user message" in plain
    assert "# Plan" not in plain  # a heading, drawn as one
    assert "Plan" in plain
    assert "• load" in plain
    assert "• clean" in plain
    assert "```" not in plain
    code = shown[shown.index("import") - 20 : shown.index("import") + 40]
    assert ANSI.search(code), f"the code is not coloured: {code!r}"


def test_into_a_pipe_the_reply_is_plain_text(kernel_env: dict[str, str], tmp_path: Path) -> None:
    done = subprocess.run(
        _command(_script(tmp_path)),
        env={**kernel_env, "IPYTHONDIR": str(tmp_path / "ipython")},
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "# Plan" in done.stdout
    assert "```python\nimport pandas as pd\n```" in done.stdout
    assert not ANSI.search(done.stdout)
