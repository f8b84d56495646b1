"""A reply drawn for a terminal: each Markdown block once, as it completes, escapes inert."""

from __future__ import annotations

import io
import re

from copilot_magic.views.terminal import TerminalMarkdown

REPLY = (
    "# Plan\n\nSome *text* here.\n\n- one\n- two\n\n```python\nimport os\nprint(os.getcwd())\n"
    "```\n\nDone \x1b]0;pwned\x07."
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _streamed(reply: str) -> tuple[str, list[int]]:
    out = io.StringIO()
    drawn = TerminalMarkdown(out, width=60)
    sizes = []
    for end in range(1, len(reply) + 1):
        drawn.feed(reply[:end])
        sizes.append(len(out.getvalue()))
    drawn.finish(reply)
    return out.getvalue(), sizes


def test_each_block_is_drawn_once_with_headings_lists_and_coloured_code() -> None:
    drawn, _ = _streamed(REPLY)
    plain = ANSI.sub("", drawn)
    assert plain.count("Plan") == 1
    assert "# Plan" not in plain  # a heading, drawn as one
    assert plain.count("Some text here.") == 1
    assert " • one" in plain
    assert " • two" in plain
    assert "```" not in plain
    assert plain.count("print(os.getcwd())") == 1
    code = drawn[drawn.index("import") - 12 : drawn.index("print")]
    assert ANSI.search(code), "the code block is not coloured"
    assert all(line == line.rstrip() for line in drawn.split("\n"))  # no padding


def test_blocks_come_out_while_the_reply_streams_not_only_at_its_end() -> None:
    _, sizes = _streamed(REPLY)
    assert sizes[REPLY.index("Some")] > 0  # the heading, once the paragraph began
    assert sizes[REPLY.index("```python") + 3] > sizes[REPLY.index("- two")]


def test_control_characters_in_a_reply_never_reach_the_terminal() -> None:
    drawn, _ = _streamed(REPLY)
    assert "\x07" not in drawn
    assert "\x1b]" not in drawn
    assert "\\x1b]0;pwned\\x07" in drawn
