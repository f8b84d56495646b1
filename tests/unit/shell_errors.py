"""What an in-process IPython shell or ``copilot-magic`` showed for a mistake: one line.

IPython shows a ``UsageError`` as one line on stderr, ``UsageError: ...``, without a
traceback; ``tests/e2e/cells.py`` (``error_shown``) checks the same in a real kernel. The
command line prints ``copilot-magic: error: ...``, one line.
"""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell


def usage_error_shown(ip: InteractiveShell, capsys: pytest.CaptureFixture[str], cell: str) -> str:
    """Run ``cell`` as a cell; the line IPython showed, failing unless it is one UsageError
    line on stderr and nothing printed a traceback."""
    capsys.readouterr()
    result = ip.run_cell(cell)
    captured = capsys.readouterr()
    assert isinstance(result.error_in_exec, UsageError), result.error_in_exec
    assert "Traceback" not in captured.out + captured.err
    shown = captured.err.strip()
    assert "\n" not in shown, shown
    assert shown.startswith("UsageError: "), shown
    return shown


def error_line(stderr: str) -> str:
    """The single line an error printed; fails on a traceback or several lines."""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("copilot-magic: error: "), stderr
    return lines[0]
