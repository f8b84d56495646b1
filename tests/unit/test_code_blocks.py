"""The code of a reply: Python blocks only, in order, ready to be a cell."""

from __future__ import annotations

from copilot_magic.views.code import code_blocks, code_of_reply


def test_python_and_unmarked_blocks_count_other_languages_do_not() -> None:
    reply = "Try:\n\n```python\na = 1\n```\n\n```bash\nls\n```\n\n```\nb = 2\n```\n"
    assert code_blocks(reply) == ["a = 1", "b = 2"]
    assert code_of_reply(reply) == "a = 1\n\nb = 2"


def test_a_reply_without_code_gives_nothing() -> None:
    assert code_of_reply("Just words, and `inline` code.") == ""
    assert code_of_reply("```json\n{}\n```") == ""
