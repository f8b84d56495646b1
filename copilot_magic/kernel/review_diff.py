"""The diff a person reviews before a change Copilot proposes lands in a cell.

Lines are split at newlines only, so a carriage return or a line separator stays in
its line; every character that can hide text is written out as its marker
(:func:`~copilot_magic.kernel.hidden.made_visible`). Nothing here needs IPython.
"""

from __future__ import annotations

import difflib

from copilot_magic.kernel.hidden import made_visible
from copilot_magic.values import plural

CONTEXT_LINES = 3  # unchanged lines a diff shows on each side of a change
DiffLine = tuple[str, str]  # (" ", "-", "+" or "…", the line with hidden characters written out)


def diff_lines(old: str, new: str) -> list[DiffLine]:
    """The lines of the diff from ``old`` to ``new``: removed ("-"), added ("+"), unchanged
    (" ") near a change, and "…" for a run of unchanged lines left out. Lines are split at
    newlines only, so a carriage return or a line separator stays in its line, written out
    as a marker with every other character that can hide text."""
    before, after = old.split("\n"), new.split("\n")
    found: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, start, end, new_start, new_end in matcher.get_opcodes():
        if tag != "equal":
            found += [("-", line) for line in before[start:end]]
            found += [("+", line) for line in after[new_start:new_end]]
            continue
        same = before[start:end]
        head = same[:CONTEXT_LINES] if found else []
        tail = same[-CONTEXT_LINES:] if end < len(before) else []
        if len(head) + len(tail) >= len(same):
            found += [(" ", line) for line in same]
            continue
        left_out = len(same) - len(head) - len(tail)
        found += [(" ", line) for line in head]
        found.append(("…", plural(left_out, "unchanged line")))
        found += [(" ", line) for line in tail]
    return [(kind, made_visible(text)) for kind, text in found]
