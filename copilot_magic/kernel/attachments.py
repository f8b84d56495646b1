"""The wire format of the context sent with a prompt, and reading it back from a history.

The prompt goes first, then one ``<notebook_context>`` block holding each
attachment under a ``### name: summary`` header. The block's first line also
carries the names and summaries as JSON in an attribute, so a stored history
can show "with `xs`: list of 12" without parsing the descriptions::

    <prompt>

    <notebook_context attached="[[&quot;xs&quot;, &quot;list of 12&quot;]]">
    ...
    ### xs: list of 12
    <description>
    </notebook_context>
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass

MARKER = '\n\n<notebook_context attached="'
CLOSING = "</notebook_context>"
PREAMBLE = (
    "These are descriptions of objects in the person's Jupyter kernel, "
    "which the prompt refers to as {name}."
)


@dataclass(frozen=True, slots=True)
class Attachment:
    """One piece of context: a variable, a cell's source, a cell's result, or the last error.

    ``name`` is how the prompt refers to it (``df``, ``In[3]``, ``Out[3]``,
    ``last error``), ``summary`` one line for people, ``text`` what the model gets.
    """

    name: str
    summary: str
    text: str


def with_context(text: str, attachments: Sequence[Attachment]) -> str:
    """The prompt ``text`` followed by the block of ``attachments``; ``text`` alone if none."""
    if not attachments:
        return text
    pairs = json.dumps([[a.name, a.summary] for a in attachments], ensure_ascii=False)
    lines = [f'<notebook_context attached="{html.escape(pairs, quote=True)}">', PREAMBLE]
    for attachment in attachments:
        lines += [f"### {attachment.name}: {attachment.summary}", attachment.text]
    lines.append(CLOSING)
    return f"{text}\n\n" + "\n".join(lines)


def without_context(content: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The prompt of a sent message, and the (name, summary) of what was attached.

    A message without a readable block comes back whole, with nothing attached.
    """
    start = content.find(MARKER)
    if start < 0:
        return content, ()
    value_start = start + len(MARKER)
    value_end = content.find('"', value_start)
    if value_end < 0 or not content.startswith('">', value_end):
        return content, ()
    try:
        parsed = json.loads(html.unescape(content[value_start:value_end]))
    except ValueError:
        return content, ()
    if not isinstance(parsed, list) or not all(_is_pair(p) for p in parsed):
        return content, ()
    return content[:start], tuple((name, summary) for name, summary in parsed)


def attached_line(attached: Sequence[tuple[str, str]]) -> str:
    """``with `xs`: list of 12; `In[3]`: cell 3, 4 lines``, or ``""`` for nothing."""
    if not attached:
        return ""
    return "with " + "; ".join(f"`{name}`: {summary}" for name, summary in attached)


def _is_pair(item: object) -> bool:
    return (
        isinstance(item, list)
        and len(item) == 2
        and isinstance(item[0], str)
        and isinstance(item[1], str)
    )
