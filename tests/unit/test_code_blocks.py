"""The code of a reply: Python blocks only, in order, ready to be a cell."""

from __future__ import annotations

import ast
import warnings

import pytest
from IPython.core.inputtransformer2 import TransformerManager

from copilot_magic.views.code import code_blocks, code_of_reply
from copilot_magic.views.markdown import is_python, markdown_to_safe_html


def test_python_and_unmarked_python_blocks_count_other_languages_do_not() -> None:
    reply = "Try:\n\n```python\na = 1\n```\n\n```bash\nls\n```\n\n```\nb = 2\n```\n"
    assert code_blocks(reply) == ["a = 1", "b = 2"]
    assert code_of_reply(reply) == "a = 1\n\nb = 2"


def test_a_reply_without_code_gives_nothing() -> None:
    assert code_of_reply("Just words, and `inline` code.") == ""
    assert code_of_reply("```json\n{}\n```") == ""


TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "<ipython-input-3>", line 1, in <module>\n'
    "NameError: name 'dff' is not defined"
)
ECHO = '<notebook_context attached="[]">\n### df: DataFrame 3 × 2\n</notebook_context>'
OUTPUT = "   price  qty\n0    1.5    2\n1    2.0    3"


def _unmarked(*blocks: str) -> str:
    return "\n\n".join(f"Text:\n\n```\n{block}\n```" for block in blocks)


def test_unmarked_blocks_that_are_not_python_stay_out_of_the_cell() -> None:
    reply = _unmarked(TRACEBACK, ECHO, OUTPUT, "Hello, world!", "df = df.dropna()")
    assert code_blocks(reply) == ["df = df.dropna()"]


def test_a_reply_whose_only_unmarked_block_is_a_traceback_has_no_code() -> None:
    assert code_of_reply(_unmarked(TRACEBACK)) == ""


IPYTHON_INPUT = [
    "%timeit total(df)",
    "!pip install polars",
    "files = !ls data\nprint(files)",
    "%%bash\necho hi",
    "df.head?",
    "for name in files:\n    !wc -l {name}\n    %time load(name)",
    "    x = 1\n    y = x + 1",  # indented as a whole, as IPython takes it
    "t = %timeit -o total(df)",
]
NOT_CODE = [TRACEBACK, ECHO, OUTPUT, "Hello, world!", "pip install polars", "def f(:"]


@pytest.mark.parametrize("block", IPYTHON_INPUT)
def test_unmarked_blocks_with_magics_and_shell_escapes_are_code(block: str) -> None:
    assert code_blocks(_unmarked(block)) == [block]


@pytest.mark.parametrize("block", IPYTHON_INPUT + NOT_CODE)
def test_an_unmarked_block_is_code_exactly_when_ipython_compiles_it(block: str) -> None:
    def ipython_compiles(source: str) -> bool:
        try:
            ast.parse(TransformerManager().transform_cell(source))
        except SyntaxError:
            return False
        return True

    assert is_python("", block) == ipython_compiles(block)


@pytest.mark.parametrize("mark", ["python", "py", "python3", "ipython", "ipython3", "Python"])
def test_blocks_marked_as_python_are_code_even_when_they_do_not_parse(mark: str) -> None:
    assert code_blocks(f"```{mark}\ndef f(:\n```") == ["def f(:"]


def test_the_highlighting_and_the_code_command_follow_the_same_decision() -> None:
    html = markdown_to_safe_html(_unmarked(TRACEBACK, "total = sum(rows)"), "%copilot_code 2")
    traceback_block, code_block = html.split('<div class="copilot-code-block">')[1:]
    assert '<span class="copilot-code-lang">code</span>' in traceback_block
    assert "<span class=" not in traceback_block.split("<pre")[1]  # plain text, not Python
    assert "%copilot_code" not in traceback_block
    assert '<span class="copilot-code-lang">python</span>' in code_block
    assert '<span class="nb">sum</span>' in code_block
    assert "%copilot_code 2" in code_block


def test_judging_a_block_shows_no_warning_of_python_s_own() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert is_python("", 'digits = "\\d+"  # an invalid escape, judged once')
    assert caught == []
