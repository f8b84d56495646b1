"""The code in a reply: its fenced Python blocks, ready to become a cell.

Blocks marked ``python`` (or ``py``, ``python3``, ``ipython``) count, and so do
unmarked blocks that are valid IPython input; blocks in other languages
(``bash``, ``json``...) and unmarked text that is not code (a traceback, program
output) do not, since a cell would run them as Python. The rule is
:func:`~copilot_magic.views.markdown.is_python`, the one the highlighting
follows. Nothing here needs IPython.
"""

from __future__ import annotations

from copilot_magic.views.markdown import fence_language, is_python, markdown_renderer


def code_blocks(markdown: str) -> list[str]:
    """The Python code blocks of ``markdown``, in order, each without its fences."""
    tokens = markdown_renderer().parse(markdown)
    return [
        token.content.rstrip("\n")
        for token in tokens
        if token.type == "fence" and is_python(fence_language(token.info), token.content)
    ]


def code_of_reply(markdown: str) -> str:
    """Every Python block of a reply, as one cell ("" when there is none)."""
    return "\n\n".join(block for block in code_blocks(markdown) if block.strip())
