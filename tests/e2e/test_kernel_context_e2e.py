"""Copilot sees the kernel: references, the last error, kernel tools, consent, code to cells.

Real runtime, real kernels, the echo model: its reply quotes the prompt as the
model received it (attached context included) and what each tool returned, so
these tests read what the model saw from the reply.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability import Reliability

from copilot_magic.kernel.notebook import WITHOUT_FRONTEND

from .cells import (
    consent_of,
    copilot_cell,
    error_shown,
    files_containing,
    reply_of,
    reply_parts_of,
)
from .kernels import CellResult, Kernel
from .notebooks import outputs_text, run_notebook, write_notebook

FRAME = "import pandas as pd\ndf = pd.DataFrame({'price': [1.5, None, 3.0], 'qty': [1, 2, 3]})"
DESCRIBE_DF = '[[echo:tool=describe_variable {"name": "df"}]]'


def seen(result: CellResult) -> str:
    """The reply's text: what the model received, as the echo model reports it (all of it,
    when it went on under code Copilot asked to run)."""
    return "\n".join(part["data"]["text/plain"] for part in reply_parts_of(result))


def opened(start_kernel: Callable[[], Kernel], session: str, *setup: str) -> Kernel:
    kernel = start_kernel()
    for code in setup:
        ran = kernel.execute(code)
        assert ran.error is None, ran.error_line
    assert kernel.execute(f"%copilot_session {session}").error is None
    return kernel


def test_a_dataframe_named_in_the_prompt_reaches_the_model_and_the_history_names_it(
    start_kernel: Callable[[], Kernel],
) -> None:
    kernel = opened(start_kernel, "frames", FRAME)
    reply = seen(kernel.execute(copilot_cell("Why does {df} have NaNs in price? {{not this}}")))
    assert "DataFrame 3 × 2" in reply
    assert "price" in reply
    assert "qty" in reply
    assert "float64" in reply
    assert "{not this}" in reply  # doubled braces are literal
    history = kernel.execute("%copilot_session --history").printed
    prompt_part = history.split("[1] Copilot")[0]
    assert "Why does {df} have NaNs in price? {not this}" in prompt_part
    assert "(with `df`: DataFrame 3 × 2)" in prompt_part
    assert "float64" not in prompt_part  # the history names what was attached, no data


def test_cells_named_in_the_prompt_attach_their_source_and_result(
    start_kernel: Callable[[], Kernel],
) -> None:
    kernel = opened(start_kernel, "cells")
    kernel.execute("total = 40 + 2\ntotal")  # In[3], Out[3]
    reply = seen(kernel.execute(copilot_cell("Explain {In[3]} and {Out[3]}")))
    assert "total = 40 + 2" in reply
    assert "42" in reply
    line = error_shown(kernel.execute(copilot_cell("And {Out[99]}?")))
    assert line == "UsageError: {Out[99]} names no result: cells with results are 3."


def test_error_option_gives_the_model_the_last_exception(
    start_kernel: Callable[[], Kernel],
) -> None:
    kernel = opened(start_kernel, "errors")
    line = error_shown(kernel.execute(copilot_cell("What went wrong?", "--error")))
    assert (
        line
        == "UsageError: No cell has failed in this kernel yet, so --error has nothing to attach."
    )
    assert kernel.execute("def load():\n    return 1 / 0\nload()").error is not None
    reply = seen(kernel.execute(copilot_cell("What went wrong?", "--error")))
    assert "ZeroDivisionError" in reply
    assert "division by zero" in reply
    assert "load" in reply  # the traceback, as the person saw it:
    assert "Cell In[" in reply  # a cell named as the notebook names it, not by its file
    assert "], line 2, in load()" in reply
    assert "ipykernel_" not in reply
    assert "interactiveshell" not in reply  # IPython's own frame left out
    history = kernel.execute("%copilot_session --history").printed
    assert "with `last error`: ZeroDivisionError: division by zero" in history


@pytest.mark.sdk_smoke
def test_the_model_calls_the_describe_tool_and_the_cell_shows_the_look(
    start_kernel: Callable[[], Kernel],
) -> None:
    kernel = opened(start_kernel, "tools", FRAME)
    result = kernel.execute(copilot_cell(f"Look at the frame {DESCRIBE_DF}"))
    reply = seen(result)
    assert "🔎 looked at `df`" in reply
    returned = reply.split("Tool describe_variable returned: «", 1)[1]
    assert "price" in returned
    assert "float64" in returned
    assert "3 rows × 2 columns" in returned
    html = reply_of(result)["data"]["text/html"]
    assert "🔎 looked at <code>df</code>" in html
    history = kernel.execute("%copilot_session --history").printed
    assert "🔎 looked at `df`" in history


def test_kernel_tools_follow_the_settings_and_without_a_frontend_no_notebook_tool_is_offered(
    start_kernel: Callable[[], Kernel], kernel_env: dict[str, str]
) -> None:
    kernel = opened(start_kernel, "offered")
    # A cell with an id, as JupyterLab and VS Code send: the kernel asks for the notebook's
    # frontend, and none answers here (no comms): no notebook tools, and the model is told.
    asked = copilot_cell("[[echo:tools]] [[echo:instructions]]")
    for cell_id in ("cell-1", None):  # the second cell does not wait for a frontend again
        reply = seen(kernel.execute(asked, cell_id=cell_id))
        assert (
            "Tools offered: list_variables, describe_variable, read_cells, read_last_error, "
            "run_code." in reply
        )
        assert f"Instructions: «{WITHOUT_FRONTEND}»." in reply
    kernel.execute("%config CopilotMagics.kernel_tools = False")
    reply = seen(kernel.execute(copilot_cell("[[echo:tools]] [[echo:tool=list_variables]]")))
    assert "Tools offered: none." in reply
    assert "Tool list_variables was not offered." in reply
    kernel.execute("%config CopilotMagics.kernel_tools = True")
    kernel.execute("%config CopilotMagics.run_code = 'never'")
    reply = seen(kernel.execute(copilot_cell("[[echo:tools]]")))
    assert "Tools offered: list_variables, describe_variable, read_cells, read_last_error." in reply
    kernel_env["COPILOT_MAGIC_KERNEL_TOOLS"] = "0"
    other = opened(start_kernel, "offered-env")
    assert "Tools offered: none." in seen(other.execute(copilot_cell("[[echo:tools]]")))


@pytest.mark.reliability("Kernel context", "run_code asked for in a headless nbclient run")
def test_run_code_is_denied_in_a_headless_notebook_and_nothing_runs(
    kernel_env: dict[str, str], tmp_path: Path, reliability: Reliability
) -> None:
    reliability.tried("the model asks to run `x = 2` in a notebook run by nbclient (no stdin)")
    run = '[[echo:tool=run_code {"code": "x = 2\\nprint(\'ran it\')"}]]'
    path = write_notebook(
        tmp_path / "headless.ipynb",
        "%load_ext copilot_magic",
        "%copilot_session headless",
        "x = 1",
        f"%%copilot\nCheck it {run}",
        "print('x is', x)",
    )
    ran = run_notebook(path, kernel_env)
    texts = outputs_text(ran)
    assert "Tool run_code returned: «denied" in texts[3]
    assert "✋ did not run the code Copilot asked to run" in texts[3]
    printed = "".join(o.get("text", "") for o in ran.cells[3].outputs)  # streams only
    assert printed == "Not run: this frontend cannot ask (no standard input).\n"
    assert texts[4] == "x is 1\n"
    reliability.held("the model got `denied`; the namespace kept x = 1; no hang")


@pytest.mark.sdk_smoke
def test_run_code_asks_through_standard_input_and_runs_only_on_yes(
    start_kernel: Callable[[], Kernel],
) -> None:
    kernel = opened(start_kernel, "consent", "x = 1")
    run = '[[echo:tool=run_code {"code": "x = x + 1\\nprint(\'x now\', x)\\nx * 10"}]]'
    refused = kernel.execute_answering(copilot_cell(f"Check {run}"), ["n"])
    assert refused.asked == ["Run this code in the kernel? [y/N] "]
    shown = consent_of(refused)["data"]  # the person saw the code before answering
    assert shown["text/plain"] == (
        "Copilot wants to run this code in the kernel (3 lines):\n"
        "    x = x + 1\n    print('x now', x)\n    x * 10"
    )
    assert '<span class="nb">print</span>' in shown["text/html"]  # a highlighted block
    assert "x = x + 1" not in refused.stdout  # not as stream text
    assert "Tool run_code returned: «denied" in seen(refused)
    assert kernel.execute("print(x)").stdout == "1\n"
    approved = kernel.execute_answering(copilot_cell(f"Check {run}"), ["y"])
    reply = seen(approved)
    assert "x now 2" in approved.stdout  # its output is shown in the cell
    # Where it happened: the reply so far, the code, its output, then the rest of the reply.
    before, after = reply_parts_of(approved)
    shown = [
        o.get("name") or ("reply" if o in (before, after) else "code") for o in approved.outputs
    ]
    assert shown == ["reply", "code", "stdout", "reply"], shown
    assert before["metadata"]["copilot_magic"]["stage"] == "continued"
    assert "Tool run_code returned" in after["data"]["text/plain"]
    returned = reply.split("Tool run_code returned: «", 1)[1]
    assert "x now 2" in returned
    assert "Out: 20" in returned
    assert "▶ ran the code Copilot asked to run (you said yes)" in reply
    assert kernel.execute("print(x)").stdout == "2\n"


# A statement hidden behind print('hello'), and the marker that writes out what hides it.
HIDDEN_STATEMENTS = {
    "backspaces": (
        "EVIL_1 = 1 #" + "\b" * 12 + "print('hello')",  # drawn over by print('hello')
        "EVIL_1 = 1 #⟨U+0008 BACKSPACE ×12⟩print('hello')",
    ),
    "ANSI concealed": (
        "print('hello')  # \x1b[8m\nEVIL_2 = 2  # \x1b[0m",  # ESC[8m: the next line invisible
        "EVIL_2 = 2  # ⟨U+001B ESCAPE⟩[0m",
    ),
    "bidi override": (
        "'''Say hello, then \u202e''' ;EVIL_3 = 3\nprint('hello')",  # drawn as if in the string
        "'''Say hello, then ⟨U+202E RIGHT-TO-LEFT OVERRIDE⟩''' ;EVIL_3 = 3",
    ),
}


@pytest.mark.reliability("Kernel context", "run_code with a statement hidden from the person")
def test_code_hiding_a_statement_is_shown_written_out_and_refused_without_asking(
    start_kernel: Callable[[], Kernel], reliability: Reliability
) -> None:
    reliability.tried(
        "the model asks to run print('hello') with EVIL_n = n hidden by backspaces, by ANSI "
        "ESC[8m (concealed) and by a right-to-left override; the person would type y",
        times=len(HIDDEN_STATEMENTS),
    )
    kernel = opened(start_kernel, "hidden-statements")
    for number, (code, written_out) in enumerate(HIDDEN_STATEMENTS.values(), start=1):
        run = f"[[echo:tool=run_code {json.dumps({'code': code})}]]"
        result = kernel.execute_answering(copilot_cell(f"Say hello {run}"), ["y"])
        assert result.asked == []  # refused: the person was not asked
        shown = consent_of(result)["data"]
        lines = shown["text/plain"].splitlines()
        assert f"    {written_out}" in lines  # the hidden statement, visible
        assert lines[-1].startswith("Not run: the code holds ")
        assert lines[-1].endswith(" that can hide what it does (shown as ⟨…⟩ above).")
        marker = written_out[written_out.index("⟨") : written_out.index("⟩") + 1]
        assert f'<span class="copilot-hidden-char">{marker}</span>' in shown["text/html"]
        assert f"EVIL_{number} = {number}" in shown["text/html"]
        assert "hello" not in result.stdout  # nothing ran, not even print('hello')
        reply = seen(result)
        assert "Tool run_code returned: «refused: the code holds " in reply
        assert "✋ did not run the code Copilot asked to run (it held hidden characters)" in reply
        assert kernel.execute(f"print('EVIL_{number}' in dir())").stdout == "False\n"
    reliability.held(
        "3 of 3: the statement shown with the characters written out (⟨U+0008 BACKSPACE ×12⟩, "
        "⟨U+001B ESCAPE⟩, ⟨U+202E RIGHT-TO-LEFT OVERRIDE⟩), not asked, nothing ran (no EVIL_n, "
        "no hello); the model got `refused` and why"
    )


def test_code_option_puts_the_reply_code_into_the_next_cell(
    start_kernel: Callable[[], Kernel],
) -> None:
    kernel = opened(start_kernel, "code")
    say = "[[echo:say=\n\n```python\nprint('fixed')\n```\n\n```bash\nls\n```\n]]"
    result = kernel.execute(copilot_cell(f"Fix it {say}", "--code"))
    assert result.error is None, result.error_line
    assert result.next_input == "print('fixed')"
    later = kernel.execute("%copilot_code")
    assert later.next_input == "print('fixed')"
    assert "The code of turn 1 is in the next cell." in later.stdout
    assert kernel.execute(copilot_cell("No code here", "--code")).next_input is None
    line = error_shown(kernel.execute("%copilot_code 2"))
    assert line == "UsageError: The reply of turn 2 has no Python code block."


@pytest.mark.reliability("Secrets", "provider key kept in a kernel variable")
def test_a_provider_key_in_a_variable_is_masked_before_the_model_sees_it(
    start_kernel: Callable[[], Kernel], kernel_env: dict[str, str], reliability: Reliability
) -> None:
    reliability.tried("`{settings}` and describe_variable on a dict holding the provider key")
    key = kernel_env["COPILOT_MAGIC_PROVIDER_API_KEY"]
    from_env = "import os\nsettings = {'api_key': os.environ['COPILOT_MAGIC_PROVIDER_API_KEY']}"
    kernel = opened(start_kernel, "secrets", from_env + "\nsettings['rows'] = 3")
    attached = seen(kernel.execute(copilot_cell("What is in {settings}?")))
    looked = seen(
        kernel.execute(copilot_cell('[[echo:tool=describe_variable {"name": "settings"}]]'))
    )
    for reply in (attached, looked):
        assert key not in reply
        assert "'api_key': '********'" in reply
        assert "'rows': 3" in reply
    reliability.held("the model saw `********` in both; the rest of the value intact")


def test_context_tools_and_history_survive_a_resume_in_a_fresh_kernel(
    start_kernel: Callable[[], Kernel],
) -> None:
    first = opened(start_kernel, "tomorrow", FRAME)
    first.execute(copilot_cell(f"Why NaNs in {{df}}? {DESCRIBE_DF}"))
    first.shutdown()
    fresh = opened(start_kernel, "tomorrow")
    reply = seen(fresh.execute(copilot_cell("And tomorrow?")))
    assert "I received 2 user messages" in reply
    first_prompt = reply.split("Context of message 1:", 1)[1]
    assert "DataFrame 3 × 2" in first_prompt
    assert "price" in first_prompt
    history = fresh.execute("%copilot_session --history").printed
    assert "(with `df`: DataFrame 3 × 2)" in history
    assert "🔎 looked at `df`" in history


@pytest.mark.reliability("Kernel context", "interrupt while Copilot asks to run code")
def test_an_interrupt_at_the_question_runs_nothing_and_the_session_goes_on(
    start_kernel: Callable[[], Kernel], reliability: Reliability
) -> None:
    reliability.tried("interrupt the kernel instead of answering `Run this code…? [y/N]`")
    kernel = opened(start_kernel, "interrupted", "x = 1")
    run = '[[echo:tool=run_code {"code": "x = 99"}]]'
    result = kernel.execute_answering(copilot_cell(f"Check {run}"), [None])
    assert result.asked == ["Run this code in the kernel? [y/N] "]
    assert result.error is None, result.error_line  # a calm stop: one line, no error
    assert "⏹ Interrupted" in result.text()
    assert kernel.execute("print(x)").stdout == "1\n"
    reply = seen(kernel.execute(copilot_cell("And now?")))
    assert "I received 2 user messages" in reply
    reliability.held("one line; x still 1; the next cell's reply came from the same session")


@pytest.mark.reliability("Kernel context", "a value whose repr hangs or raises")
def test_a_value_whose_repr_hangs_or_raises_is_described_safely(
    start_kernel: Callable[[], Kernel], reliability: Reliability
) -> None:
    reliability.tried("`{stuck}` (repr sleeps 60 s) and `{broken}` (repr raises) in one prompt")
    objects = (
        "import time\n"
        "class Stuck:\n    def __repr__(self):\n        time.sleep(60)\n        return 'never'\n"
        "class Broken:\n    def __repr__(self):\n        raise ValueError('no repr')\n"
        "stuck, broken = Stuck(), Broken()"
    )
    kernel = opened(start_kernel, "odd-objects", objects)
    reply = seen(kernel.execute(copilot_cell("What are {stuck} and {broken}?"), timeout=30))
    assert "took longer than 1 s" in reply
    assert "ValueError: no repr" in reply
    reliability.held("the reply came; both described as what they did, within the 1 s limit")


@pytest.mark.reliability("Delete means gone", "a session that was given kernel context")
def test_deleting_a_session_removes_what_was_attached_and_looked_at(
    start_kernel: Callable[[], Kernel], data_dir: Path, reliability: Reliability
) -> None:
    reliability.tried("`{frame}` and describe_variable on a column named coelacanth_weight")
    frame = "import pandas as pd\nframe = pd.DataFrame({'coelacanth_weight': [1.5, 2.0]})"
    kernel = opened(start_kernel, "attached-then-deleted", frame)
    kernel.execute(copilot_cell("What is {frame}?"))
    kernel.execute(copilot_cell('[[echo:tool=describe_variable {"name": "frame"}]]'))
    assert files_containing(data_dir, "coelacanth_weight") != []  # it was stored
    deleted = kernel.execute("%copilot_session --delete attached-then-deleted --yes")
    assert deleted.error is None, deleted.error_line
    assert files_containing(data_dir, "coelacanth_weight") == []
    reliability.held("the column's name, stored twice, is in no file after the delete")


TERMINAL_SCRIPT = """
ip = get_ipython()
print("shell:", type(ip).__name__)
ip.run_line_magic("load_ext", "copilot_magic")
ip.run_line_magic("copilot_session", "terminal")
x = 1
ip.run_cell_magic("copilot", "", {prompt!r})
print("x is", x)
"""


def test_terminal_ipython_asks_on_its_standard_input_and_runs_on_yes(
    kernel_env: dict[str, str], tmp_path: Path
) -> None:
    run = '[[echo:tool=run_code {"code": "x = x + 1\\nprint(\'x now\', x)"}]]'
    script = tmp_path / "terminal.ipy"
    script.write_text(TERMINAL_SCRIPT.format(prompt=f"Check {run}"))
    env = {**kernel_env, "IPYTHONDIR": str(tmp_path / "ipython")}
    done = subprocess.run(
        [sys.executable, "-m", "IPython", "--no-banner", "--colors=nocolor", str(script)],
        input="y\n",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "shell: TerminalInteractiveShell" in done.stdout
    assert "Copilot wants to run this code in the kernel (2 lines):\n    x = x + 1" in done.stdout
    assert "Run this code in the kernel? [y/N] " in done.stdout
    assert "x now 2" in done.stdout  # its output, shown
    assert "▶ ran the code Copilot asked to run (you said yes)" in done.stderr
    assert "Tool run_code returned: «x now 2" in done.stdout  # the model got it
    assert done.stdout.rstrip().endswith("x is 2")
