"""The kernel tools: what each answers, what it shows, what it never does (a fake kernel)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from copilot_magic.kernel.execution import cell_outputs, run_code, run_python
from copilot_magic.kernel.references import python_traceback
from copilot_magic.kernel.tool import answer
from copilot_magic.kernel.tools import (
    DENIED,
    DESCRIBE_VARIABLE,
    LIST_VARIABLES,
    NOT_RUN,
    READ_CELLS,
    READ_LAST_ERROR,
    RUN_CODE,
    offered,
    step_line,
)


class FakeKernel:
    """Stands in for the IPython kernel: a namespace, cells, an error, a scripted yes/no."""

    def __init__(self, says_yes: bool = False) -> None:
        self.namespace: dict[str, object] = {"df_rows": [1, 2, 3], "key": "sk-secret-0000"}
        self.says_yes = says_yes
        self.asked: list[str] = []
        self.refused: list[tuple[str, str]] = []
        self.error: BaseException | None = None

    def variables(self) -> Mapping[str, object]:
        return self.namespace

    def cells(self) -> Sequence[tuple[int, str, object | None]]:
        return [(1, "a = 1", None), (2, "a + 1", 2)]

    def last_error(self) -> BaseException | None:
        return self.error

    def traceback_of(self, error: BaseException) -> str:
        return python_traceback(error)

    def approve(self, code: str) -> bool:
        self.asked.append(code)
        return self.says_yes

    def refuse(self, code: str, reason: str) -> None:
        self.refused.append((code, reason))

    def run(self, code: str, cell_id: str | None = None) -> str:
        return run_python(code, self.namespace)

    def notebook(self) -> None:
        return None  # no frontend: the notebook tools are in tests/unit/test_notebook_tools.py


def test_offered_tools_follow_the_settings() -> None:
    names = [tool.name for tool in offered(True, "ask")]
    assert names == [
        "list_variables",
        "describe_variable",
        "read_cells",
        "read_last_error",
        "run_code",
    ]
    assert RUN_CODE not in offered(True, "never")
    assert offered(False, "ask") == ()


def test_list_and_describe_answer_with_summaries_and_mask_secrets() -> None:
    kernel = FakeKernel()
    listed = answer(LIST_VARIABLES, kernel, {}, 4000, ["sk-secret-0000"])
    assert "df_rows: list of 3" in listed
    described = answer(DESCRIBE_VARIABLE, kernel, {"name": "key"}, 4000, ["sk-secret-0000"])
    assert "sk-secret-0000" not in described
    assert "********" in described
    missing = answer(DESCRIBE_VARIABLE, kernel, {"name": "nope"}, 4000, [])
    assert missing == "The kernel has no variable 'nope'; list_variables names them."


def test_reading_does_not_change_the_namespace() -> None:
    kernel = FakeKernel()
    before = dict(kernel.namespace)
    for tool in (LIST_VARIABLES, READ_CELLS, READ_LAST_ERROR):
        answer(tool, kernel, {}, 4000, [])
    answer(DESCRIBE_VARIABLE, kernel, {"name": "df_rows"}, 4000, [])
    assert kernel.namespace == before


def test_cells_and_last_error() -> None:
    kernel = FakeKernel()
    cells = answer(READ_CELLS, kernel, {"count": 2}, 4000, [])
    assert "In [1]:\na = 1" in cells
    assert "Out[2]: 2" in cells
    assert answer(READ_LAST_ERROR, kernel, {}, 4000, []) == "No cell has failed in this kernel."
    try:
        {}["missing"]
    except KeyError as error:
        kernel.error = error
    assert "KeyError" in answer(READ_LAST_ERROR, kernel, {}, 4000, [])


def test_run_code_runs_only_after_a_yes() -> None:
    kernel = FakeKernel(says_yes=False)
    assert answer(RUN_CODE, kernel, {"code": "df_rows = 0"}, 4000, []) == DENIED
    assert kernel.asked == ["df_rows = 0"]
    assert kernel.namespace["df_rows"] == [1, 2, 3]
    kernel.says_yes = True
    ran = answer(RUN_CODE, kernel, {"code": "df_rows = 0\nprint('done')\ndf_rows + 5"}, 4000, [])
    assert ran == "done\nOut: 5\n"
    assert kernel.namespace["df_rows"] == 0


HIDING_VARIANTS = {
    "backspace": "df_rows = 0 #" + "\b" * 13 + "print('hello')",
    "ANSI hidden": "print('hello')  # \x1b[8m\ndf_rows = 0  # \x1b[0m",
    "bidi override": "'''Say hello, then \u202e''' ;df_rows = 0\nprint('hello')",
    "zero-width space": "print('hello')  # \u200b\ndf_rows = 0",
}


@pytest.mark.parametrize("code", HIDING_VARIANTS.values(), ids=HIDING_VARIANTS.keys())
def test_code_with_hidden_characters_is_refused_without_asking(code: str) -> None:
    kernel = FakeKernel(says_yes=True)  # even a person who would say yes is not asked
    result = answer(RUN_CODE, kernel, {"code": code}, 4000, [])
    assert result.startswith("refused: the code holds ")
    assert result.startswith(NOT_RUN)
    assert kernel.asked == []
    assert kernel.namespace["df_rows"] == [1, 2, 3]  # nothing ran
    ((shown, reason),) = kernel.refused
    assert shown == code
    assert reason.startswith("Not run: the code holds ")
    line = step_line("run_code", {"code": code}, result)
    assert line == "✋ did not run the code Copilot asked to run (it held hidden characters)"


@pytest.mark.parametrize("code", HIDING_VARIANTS.values(), ids=HIDING_VARIANTS.keys())
def test_each_refused_variant_is_python_that_would_run_its_hidden_statement(code: str) -> None:
    namespace: dict[str, object] = {"df_rows": [1, 2, 3]}
    assert "Error" not in run_python(code, namespace)
    assert namespace["df_rows"] == 0  # what the refusal kept from running


def test_code_with_hidden_characters_is_refused_even_when_it_cannot_be_shown() -> None:
    class Blind(FakeKernel):
        def refuse(self, code: str, reason: str) -> None:
            raise RuntimeError("no display")

    kernel = Blind(says_yes=True)
    result = answer(RUN_CODE, kernel, {"code": HIDING_VARIANTS["backspace"]}, 4000, [])
    assert result.startswith("refused: the code holds 13 characters")
    assert kernel.asked == []
    assert kernel.namespace["df_rows"] == [1, 2, 3]


def test_code_in_any_script_is_asked_about_as_usual() -> None:
    kernel = FakeKernel(says_yes=True)
    code = "label = 'café 東京 ⚠️ 🎉'\nprint(label)"
    assert answer(RUN_CODE, kernel, {"code": code}, 4000, []) == "café 東京 ⚠️ 🎉\n"
    assert kernel.asked == [code]
    assert kernel.refused == []


def test_run_code_returns_the_error_and_bounded_output() -> None:
    kernel = FakeKernel(says_yes=True)
    failed = answer(RUN_CODE, kernel, {"code": "1 / 0"}, 4000, [])
    assert "ZeroDivisionError: division by zero" in failed
    long = answer(RUN_CODE, kernel, {"code": "print('x' * 10000)"}, 300, [])
    assert len(long) <= 300
    assert long.endswith("… (clipped)")


def test_a_run_shown_under_its_cell_gives_printed_text_displays_value_and_error_in_order() -> None:
    namespace: dict[str, object] = {}
    ran = run_code("print('sk-key-1 here')\n40 + 2", namespace)
    value = ({"text/plain": "42"}, {})
    figure = ({"image/png": "sk-key-1", "text/plain": "<Figure sk-key-1>"}, {"width": 3})
    outputs = cell_outputs(ran, [figure], value, 7, lambda text: text.replace("sk-key-1", "***"))
    assert outputs == [
        {"output_type": "stream", "name": "stdout", "text": "*** here\n"},
        {
            "output_type": "display_data",
            "data": {"image/png": "sk-key-1", "text/plain": "<Figure ***>"},  # images as they are
            "metadata": {"width": 3},
        },
        {
            "output_type": "execute_result",
            "data": {"text/plain": "42"},
            "metadata": {},
            "execution_count": 7,
        },
    ]
    (error,) = cell_outputs(run_code("1 / 0", namespace), [], None, 7)
    assert (error["ename"], error["evalue"]) == ("ZeroDivisionError", "division by zero")
    assert error["traceback"][-1] == "ZeroDivisionError: division by zero"
    assert run_code("x = 1", namespace) == run_code("None", namespace)  # no value to show


def test_a_failing_tool_says_so_in_its_result() -> None:
    class Broken(FakeKernel):
        def variables(self) -> Mapping[str, object]:
            raise RuntimeError("namespace gone")

    assert answer(LIST_VARIABLES, Broken(), {}, 4000, []) == (
        "The tool failed: RuntimeError: namespace gone"
    )


def test_step_lines_say_what_copilot_did() -> None:
    assert step_line("describe_variable", {"name": "df"}, "") == "🔎 looked at `df`"
    assert step_line("run_code", {"code": "1"}, DENIED).startswith("✋ did not run")
    assert step_line("run_code", {"code": "1"}, "1").startswith("▶ ran the code")
    assert step_line("bash", {}, "") == ""


def test_what_approved_code_prints_is_masked_before_the_model_sees_it() -> None:
    kernel = FakeKernel(says_yes=True)
    ran = answer(RUN_CODE, kernel, {"code": "print(key)"}, 4000, ["sk-secret-0000"])
    assert ran == "********\n"


def test_a_secret_cut_by_clipping_is_masked_too() -> None:
    key = "sk-" + "A" * 400  # longer than a listed item's repr: cut there too
    kernel = FakeKernel()
    kernel.namespace = {"long": "x" * 170 + key, "rows": [key] * 3}
    described = answer(DESCRIBE_VARIABLE, kernel, {"name": "long"}, 200, [key])
    listed = answer(DESCRIBE_VARIABLE, kernel, {"name": "rows"}, 4000, [key])
    for text in (described, listed):
        assert "…" in text  # the key was cut
        assert "sk-AAAA" not in text
