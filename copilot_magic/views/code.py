"""The code in a reply: its fenced Python blocks, ready to become a cell.

Blocks marked ``python`` (or ``py``, ``python3``, ``ipython``) or not marked at
all count; blocks in other languages (``bash``, ``json``...) do not, since a
cell would run them as Python. Nothing here needs IPython.
"""

from __future__ import annotations

from copilot_magic.views.markdown import PYTHON_FENCES, markdown_renderer


def code_blocks(markdown: str) -> list[str]:
    """The Python code blocks of ``markdown``, in order, each without its fences."""
    tokens = markdown_renderer().parse(markdown)
    return [
        token.content.rstrip("\n")
        for token in tokens
        if token.type == "fence" and token.info.strip().split(" ")[0].lower() in PYTHON_FENCES
    ]


def code_of_reply(markdown: str) -> str:
    """Every Python block of a reply, as one cell ("" when there is none)."""
    return "\n\n".join(block for block in code_blocks(markdown) if block.strip())
