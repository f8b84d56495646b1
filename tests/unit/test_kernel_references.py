"""References in a prompt, the context block they become, and the last error as an attachment."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot_magic.errors import (
    CellNotFound,
    CopilotMagicError,
    NameNotFound,
    NoLastError,
    PersonsMistake,
)
from copilot_magic.kernel.attachments import (
    MARKER,
    Attachment,
    attached_line,
    with_context,
    without_context,
)
from copilot_magic.kernel.clipping import CLIPPED
from copilot_magic.kernel.describe import describe
from copilot_magic.kernel.references import Expanded, error_attachment, expand

NAMESPACE: dict[str, object] = {"df": [1, 2, 3], "name": "Ada", "In": ["", "x = 1"]}
INPUTS = ["", "import pandas", "df = load()\ndf.head()", "x = 1", "x"]
OUTPUTS: dict[int, object] = {2: {"a": 1}, 4: 1}


def _expand(prompt: str) -> Expanded:
    return expand(prompt, NAMESPACE, INPUTS, OUTPUTS)


def test_a_prompt_without_braces_is_unchanged() -> None:
    assert _expand("explain this") == Expanded("explain this", ())


def test_doubled_braces_are_literal_and_their_inside_is_no_reference() -> None:
    expanded = _expand("a {{df}} and {{ and }}")
    assert expanded == Expanded("a {df} and { and }", ())


def test_tripled_braces_are_braces_around_an_escape() -> None:
    assert _expand("{{{df}}}") == Expanded("{{df}}", ())


def test_pasted_code_keeps_every_brace() -> None:
    code = 'd = {"a": {"b": {"c": 1}}}; f"{x!r}"; s = {1, 2}; }} {{'
    assert _expand(code) == Expanded(code, ())


def test_a_known_name_attaches_its_description_and_stays_as_typed() -> None:
    expanded = _expand("sum {df} please")
    assert expanded.text == "sum {df} please"
    described = describe(NAMESPACE["df"])
    assert expanded.attachments == (Attachment("df", described.summary, described.text),)


@pytest.mark.parametrize(
    "prompt",
    [
        "{ df }",
        "{df.head()}",
        "{1 + 2}",
        "{In[x]}",
        "{In[ 1 ]}",
        "{Out[]}",
        "{}",
        "a lone { brace",
        "a lone } brace",
        "{df",
        "def f(): return {'a': 1}",
    ],
)
def test_anything_else_in_braces_stays_as_typed_and_attaches_nothing(prompt: str) -> None:
    assert _expand(prompt) == Expanded(prompt, ())


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        (
            "sum {dff} please",
            "Nothing named dff in this kernel (did you mean {df}?); "
            "write {{dff}} to send the braces as typed.",
        ),
        (
            "{df} and {price_list}",
            "Nothing named price_list in this kernel; write {{price_list}} to send the braces "
            "as typed.",
        ),
    ],
)
def test_a_name_the_kernel_does_not_have_is_refused_in_one_line(prompt: str, message: str) -> None:
    with pytest.raises(NameNotFound) as raised:
        _expand(prompt)
    assert str(raised.value) == message
    assert isinstance(raised.value, PersonsMistake)


@pytest.mark.parametrize(
    "prompt",
    [
        "{None} {True} {lambda}",  # keywords: a set literal, not a name
        "{len} and {print}",  # builtins exist, though not in the kernel's namespace
        "why does `f'{title}'` fail?",
        "``{x}``",
        "what is wrong here?\n```python\nprint(f'{total:.2f} {unit}')\n```",
    ],
)
def test_unknown_names_in_backticks_and_braces_that_are_no_name_stay_as_typed(
    prompt: str,
) -> None:
    assert _expand(prompt) == Expanded(prompt, ())


def test_an_unknown_name_in_doubled_braces_is_sent_as_its_text() -> None:
    assert _expand("{{dff}}") == Expanded("{dff}", ())


def test_in_n_attaches_the_source_of_cell_n() -> None:
    (attachment,) = _expand("why {In[2]}?").attachments
    assert attachment == Attachment("In[2]", "cell 2, 2 lines", "df = load()\ndf.head()")


def test_a_one_line_cell_says_one_line() -> None:
    (attachment,) = _expand("{In[3]}").attachments
    assert attachment.summary == "cell 3, 1 line"


def test_a_long_cell_source_is_clipped_to_the_limit() -> None:
    expanded = expand("{In[1]}", {}, ["", "y" * 5000], {}, limit=100)
    assert len(expanded.attachments[0].text) == 100
    assert expanded.attachments[0].text.endswith(CLIPPED)


def test_out_n_attaches_the_description_of_result_n() -> None:
    (attachment,) = _expand("{Out[2]}").attachments
    assert attachment.name == "Out[2]"
    assert attachment.summary == "dict of 1 key"
    assert attachment.text == describe(OUTPUTS[2]).text


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("{In[0]}", "{In[0]} names no cell: this kernel has run cells 1 to 4."),
        ("{In[-1]}", "{In[-1]} names no cell: this kernel has run cells 1 to 4."),
        ("{In[9]}", "{In[9]} names no cell: this kernel has run cells 1 to 4."),
        ("{Out[0]}", "{Out[0]} names no result: cells with results are 2, 4."),
        ("{Out[-2]}", "{Out[-2]} names no result: cells with results are 2, 4."),
        ("{Out[7]}", "{Out[7]} names no result: cells with results are 2, 4."),
        ("{Out[3]}", "{Out[3]} names no result: cells with results are 2, 4."),  # no result
    ],
)
def test_a_cell_that_does_not_exist_raises_cell_not_found_in_one_line(
    reference: str, message: str
) -> None:
    with pytest.raises(CellNotFound) as raised:
        _expand(f"look at {reference}")
    assert str(raised.value) == message
    assert len(str(raised.value).splitlines()) == 1
    assert isinstance(raised.value, CopilotMagicError)


def test_a_kernel_without_cells_or_results_says_so() -> None:
    with pytest.raises(CellNotFound, match="has run no cells yet"):
        expand("{In[1]}", {}, [""], {})
    with pytest.raises(CellNotFound, match="no cell has a result yet"):
        expand("{Out[1]}", {}, [""], {})


def test_an_escaped_cell_reference_never_raises() -> None:
    assert _expand("{{Out[99]}}") == Expanded("{Out[99]}", ())


def test_each_name_is_attached_once_in_order_of_first_appearance() -> None:
    expanded = _expand("{name} {Out[4]} {df} {name} {In[1]} {df} {Out[4]}")
    assert [a.name for a in expanded.attachments] == ["name", "Out[4]", "df", "In[1]"]


def test_in_alone_is_a_variable_like_any_other() -> None:
    (attachment,) = _expand("{In}").attachments
    assert attachment.summary == "list of 2"


# the context block


ATTACHMENTS = [
    Attachment("df", "DataFrame 1,000 × 5", "pandas DataFrame ..."),
    Attachment("In[3]", 'cell 3, "4" lines & <more>', "x = 1\n"),
]


def test_no_attachments_leave_the_text_unchanged() -> None:
    assert with_context("hi", []) == "hi"


def test_the_block_follows_a_blank_line_and_carries_the_names_and_summaries() -> None:
    sent = with_context("hi", ATTACHMENTS)
    prompt, block = sent.split("\n\n", 1)
    lines = block.splitlines()
    assert prompt == "hi"
    assert lines[0] == (
        '<notebook_context attached="[[&quot;df&quot;, &quot;DataFrame 1,000 × 5&quot;], '
        '[&quot;In[3]&quot;, &quot;cell 3, \\&quot;4\\&quot; lines &amp; &lt;more&gt;&quot;]]">'
    )
    assert "Jupyter kernel" in lines[1]
    assert "### df: DataFrame 1,000 × 5" in lines
    assert "pandas DataFrame ..." in lines
    assert lines[-1] == "</notebook_context>"


def test_without_context_reads_back_the_prompt_and_the_pairs() -> None:
    sent = with_context("hi", ATTACHMENTS)
    assert without_context(sent) == ("hi", tuple((a.name, a.summary) for a in ATTACHMENTS))


@pytest.mark.parametrize(
    "content",
    [
        "plain text",
        "hi\n\n<notebook_context>",
        'hi\n\n<notebook_context attached="not json">',
        'hi\n\n<notebook_context attached="[[1, 2]]">',
        'hi\n\n<notebook_context attached="[[&quot;a&quot;]]">',
        'hi\n\n<notebook_context attached="[]',
        'hi\n\n<notebook_context attached="[]" extra>',
    ],
)
def test_without_context_leaves_unreadable_content_unchanged(content: str) -> None:
    assert without_context(content) == (content, ())


@settings(max_examples=300, deadline=None)
@given(
    text=st.text().filter(lambda t: MARKER not in t),
    attachments=st.lists(st.builds(Attachment, st.text(), st.text(), st.text()), max_size=5),
)
def test_without_context_inverts_with_context(text: str, attachments: list[Attachment]) -> None:
    pairs = tuple((a.name, a.summary) for a in attachments)
    assert without_context(with_context(text, attachments)) == (text, pairs)


def test_attached_line_lists_each_name_and_summary() -> None:
    line = attached_line([("df", "DataFrame 1,000 × 5"), ("In[3]", "cell 3, 4 lines")])
    assert line == "with `df`: DataFrame 1,000 × 5; `In[3]`: cell 3, 4 lines"


def test_attached_line_of_nothing_is_empty() -> None:
    assert attached_line([]) == ""


# the last error


def _fail_loudly() -> None:
    raise ValueError("the column 'price' is missing " + "and more " * 20)


def _caught() -> ValueError:
    try:
        _fail_loudly()
    except ValueError as error:
        return error
    raise AssertionError("unreachable")


def test_the_last_error_gives_its_type_message_and_traceback() -> None:
    attachment = error_attachment(_caught())
    assert attachment.name == "last error"
    assert attachment.summary.startswith("ValueError: the column 'price' is missing")
    assert len(attachment.summary) <= len("ValueError: ") + 60
    assert "_fail_loudly" in attachment.text
    assert attachment.text.rstrip().endswith("and more")


def test_a_long_traceback_keeps_its_end() -> None:
    attachment = error_attachment(_caught(), limit=120)
    assert len(attachment.text) <= 120
    assert attachment.text.startswith(CLIPPED)
    assert attachment.text.rstrip().endswith("and more")


class UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no message")


def _fail_unprintably() -> None:
    raise UnprintableError


def test_an_error_whose_message_fails_still_attaches() -> None:
    try:
        _fail_unprintably()
    except UnprintableError as error:
        attachment = error_attachment(error)
    assert attachment.summary.startswith("UnprintableError")
    assert "_fail_unprintably" in attachment.text


def test_no_last_error_is_a_one_line_error_of_its_own() -> None:
    assert issubclass(NoLastError, CopilotMagicError)
    assert NoLastError.__doc__ == "There is no last error to attach."
