"""What a %%copilot cell sends: its references, the last error, and the one redaction step."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fake_store import FakeStore
from IPython.core.interactiveshell import InteractiveShell
from shell_errors import usage_error_shown

from copilot_magic.config import Settings
from copilot_magic.errors import CellNotFound, NameNotFound, NoLastError
from copilot_magic.kernel.attachments import without_context
from copilot_magic.kernel.tool import answer
from copilot_magic.kernel.tools import READ_LAST_ERROR
from copilot_magic.ui.asking import prompt_of
from copilot_magic.ui.kernel_view import ErrorWatch, ShellKernel

KEY = "sk-fake-unit-key-never-shown-4711"


def _kernel(**names: object) -> ShellKernel:
    """A ShellKernel over a fake shell: a namespace with In and Out, as IPython keeps them."""
    user_ns: dict[str, object] = {"In": ["", "a = 1", "a + 1"], "Out": {2: 2}, **names}
    shell = SimpleNamespace(user_ns=user_ns, user_ns_hidden={}, execution_count=3)
    return ShellKernel(shell, ErrorWatch(), 4000)


def test_a_plain_prompt_is_sent_as_written() -> None:
    prompt = prompt_of("just words", _kernel(), Settings(), error=False)
    assert (prompt.sent, prompt.shown) == ("just words", None)


def test_doubled_braces_are_sent_single_and_the_history_shows_them_so() -> None:
    prompt = prompt_of("a set {{1}}", _kernel(), Settings(), error=False)
    assert (prompt.sent, prompt.shown) == ("a set {1}", "a set {1}")


def test_references_attach_descriptions_and_the_history_keeps_the_words() -> None:
    prompt = prompt_of("look at {rows} and {Out[2]}", _kernel(rows=[1, 2]), Settings(), error=False)
    assert prompt.shown == "look at {rows} and {Out[2]}"
    text, attached = without_context(prompt.sent)
    assert text == prompt.shown
    assert attached == (("rows", "list of 2"), ("Out[2]", "int"))


def test_the_provider_key_and_tokens_are_masked_in_what_is_sent() -> None:
    settings = Settings(provider_api_key=KEY)  # type: ignore[arg-type]
    prompt = prompt_of("what is {config}?", _kernel(config={"key": KEY}), settings, error=False)
    assert KEY not in prompt.sent
    assert "'key': '********'" in prompt.sent


def test_the_last_error_is_attached_or_its_absence_is_one_line() -> None:
    kernel = _kernel()
    with pytest.raises(NoLastError, match="No cell has failed in this kernel yet"):
        prompt_of("why?", kernel, Settings(), error=True)
    try:
        int("seven")
    except ValueError as error:
        kernel.errors(SimpleNamespace(error_in_exec=error))
    _, attached = without_context(prompt_of("why?", kernel, Settings(), error=True).sent)
    assert attached[0][0] == "last error"
    assert attached[0][1].startswith("ValueError: invalid literal for int()")


def test_the_last_error_is_sent_as_the_notebook_shows_it_named_by_cell_without_ipython(
    ip: InteractiveShell,
) -> None:
    errors = ErrorWatch()
    errors.register(ip)
    ip.run_cell("x = 1", store_history=True)
    number = ip.execution_count
    ip.run_cell("def half(n):\n    return n / 0\n\nhalf(x)", store_history=True)
    kernel = ShellKernel(ip, errors, 4000)
    sent = prompt_of("why?", kernel, Settings(), error=True).sent
    assert f"Cell In[{number}], line 4\n" in sent
    assert f"Cell In[{number}], line 2, in half(n)\n" in sent
    assert "----> 2     return n / 0" in sent
    assert "ZeroDivisionError: division by zero" in sent
    for ipython_own in ("run_code", "interactiveshell", "ipython-input", "File "):
        assert ipython_own not in sent
    assert answer(READ_LAST_ERROR, kernel, {}, 4000, []) in sent  # the tool reads the same


def test_a_missing_cell_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(CellNotFound, match=r"\{In\[9\]\} names no cell"):
        prompt_of("and {In[9]}", _kernel(), Settings(), error=False)


def test_a_mistyped_magic_is_not_the_last_error() -> None:
    from IPython.core.error import UsageError

    kernel = _kernel()
    failure = KeyError("price")
    kernel.errors(SimpleNamespace(error_in_exec=failure))
    kernel.errors(SimpleNamespace(error_in_exec=UsageError("unknown option")))
    kernel.errors(SimpleNamespace(error_in_exec=None))
    assert kernel.last_error() is failure


def test_the_cells_copilot_reads_leave_out_the_running_one_whatever_its_count() -> None:
    running = ["", "a = 1", "a + 1", "%%copilot\nwhat is a?"]
    for count in (3, 4):  # IPython 8 counts the running cell, IPython 9 the next one already
        shell = SimpleNamespace(user_ns={"In": running, "Out": {2: 2}}, execution_count=count)
        kernel = ShellKernel(shell, ErrorWatch(), 4000)
        assert kernel.cells() == [(1, "a = 1", None), (2, "a + 1", 2)]
        assert kernel.running() == 3


def test_a_mistyped_name_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(NameNotFound, match=r"^Nothing named dff in this kernel \(did you mean"):
        prompt_of("why NaNs in {dff}?", _kernel(df=[1, None]), Settings(), error=False)


def test_a_mistyped_name_in_a_cell_is_one_usage_error_line_and_no_turn(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    ip.run_line_magic("load_ext", "copilot_magic")
    store = FakeStore()
    ip._copilot_magics._store = store
    ip.run_line_magic("copilot_session", "typo")
    ip.user_ns["df"] = [1, None]
    shown = usage_error_shown(ip, capsys, "%%copilot\nwhy NaNs in {dff}?")
    assert shown == (
        "UsageError: Nothing named dff in this kernel (did you mean {df}?); "
        "write {{dff}} to send the braces as typed."
    )
    assert [call for call in store.calls if call[0] == "turn"] == []
