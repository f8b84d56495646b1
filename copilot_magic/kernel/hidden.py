"""Characters that can hide what code does: found, and written out where they stand.

Before code Copilot asks to run runs in your kernel, you see it and answer y.
What you see must be exactly what runs, and some characters can make code
look like other code: a backspace or a carriage return draws over what came
before it, an ANSI escape (``ESC[8m``) makes the text after it invisible, a
right-to-left override draws the rest of a line backwards, a zero-width space
is not drawn at all. Code that holds any of them is not run, and you are not
asked: it is shown with each such character written out as a marker where it
stands, ``⟨U+0008 BACKSPACE⟩`` (a run of one character is one marker, with
the count after its name), under one line that says why nothing ran.

Which characters count (:func:`hiding_characters`):

- control characters, except newline and tab (Unicode category Cc: NUL,
  backspace, ESC, carriage return, form feed, DEL, the C1 controls...);
- format characters (Cf: the bidirectional overrides, embeddings, isolates
  and marks, the zero-width space, joiners and non-joiner, the word joiner,
  the byte order mark, the soft hyphen, the tag characters...);
- the line and paragraph separators (Zl, Zp), private-use characters (Co)
  and lone surrogates (Cs);
- the other characters Unicode lets a renderer draw as nothing (its
  Default_Ignorable_Code_Point list): the Hangul fillers (Python accepts
  them in a name), the combining grapheme joiner, the Khmer inherent vowels,
  the Mongolian free variation selectors, the code points kept free for
  future invisible characters, and the variation selectors, except that the
  emoji and text presentation selectors U+FE0F and U+FE0E are ordinary after
  a character that cannot be part of a name, such as a symbol (``⚠️`` is
  ``⚠`` and U+FE0F); after a letter or a digit they count, since there they
  would be part of the name (``print`` and U+FE0F is a name of its own that
  looks like ``print``).

Letters of every script, accents, CJK characters, symbols and emoji are
ordinary text; an emoji joined from several (``👩‍💻``) holds a zero-width
joiner, and counts. Inside a string, write such a character as an escape
(``"\\x1b"``, ``"\\u200b"``): the escape is plain text and runs the same.
Nothing here needs IPython.
"""

from __future__ import annotations

import re
import unicodedata

HIDING_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs"})
ORDINARY_CONTROLS = frozenset("\n\t")
# Default_Ignorable_Code_Point characters outside the categories above (Mn, Lo and Cn ones).
_IGNORABLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180d\u180f\u2065\u3164"
    "\ufe00-\ufe0f\uffa0\ufff0-\ufff8\U000e0000-\U000e0fff]"
)
_PRESENTATION = frozenset("\ufe0e\ufe0f")  # text and emoji presentation selectors
_SUSPECT = re.compile(r"[^\t\n -~]")  # anything but printable ASCII, newline and tab
MOST_NAMED = 10  # kinds of character the model is told of by name

_C0 = [
    "NULL",
    "START OF HEADING",
    "START OF TEXT",
    "END OF TEXT",
    "END OF TRANSMISSION",
    "ENQUIRY",
    "ACKNOWLEDGE",
    "ALERT",
    "BACKSPACE",
    "CHARACTER TABULATION",
    "LINE FEED",
    "LINE TABULATION",
    "FORM FEED",
    "CARRIAGE RETURN",
    "SHIFT OUT",
    "SHIFT IN",
    "DATA LINK ESCAPE",
    "DEVICE CONTROL ONE",
    "DEVICE CONTROL TWO",
    "DEVICE CONTROL THREE",
    "DEVICE CONTROL FOUR",
    "NEGATIVE ACKNOWLEDGE",
    "SYNCHRONOUS IDLE",
    "END OF TRANSMISSION BLOCK",
    "CANCEL",
    "END OF MEDIUM",
    "SUBSTITUTE",
    "ESCAPE",
    "INFORMATION SEPARATOR FOUR",
    "INFORMATION SEPARATOR THREE",
    "INFORMATION SEPARATOR TWO",
    "INFORMATION SEPARATOR ONE",
]
_C1 = [
    "PADDING CHARACTER",
    "HIGH OCTET PRESET",
    "BREAK PERMITTED HERE",
    "NO BREAK HERE",
    "INDEX",
    "NEXT LINE",
    "START OF SELECTED AREA",
    "END OF SELECTED AREA",
    "CHARACTER TABULATION SET",
    "CHARACTER TABULATION WITH JUSTIFICATION",
    "LINE TABULATION SET",
    "PARTIAL LINE FORWARD",
    "PARTIAL LINE BACKWARD",
    "REVERSE LINE FEED",
    "SINGLE SHIFT TWO",
    "SINGLE SHIFT THREE",
    "DEVICE CONTROL STRING",
    "PRIVATE USE ONE",
    "PRIVATE USE TWO",
    "SET TRANSMIT STATE",
    "CANCEL CHARACTER",
    "MESSAGE WAITING",
    "START OF GUARDED AREA",
    "END OF GUARDED AREA",
    "START OF STRING",
    "SINGLE GRAPHIC CHARACTER INTRODUCER",
    "SINGLE CHARACTER INTRODUCER",
    "CONTROL SEQUENCE INTRODUCER",
    "STRING TERMINATOR",
    "OPERATING SYSTEM COMMAND",
    "PRIVACY MESSAGE",
    "APPLICATION PROGRAM COMMAND",
]
# Unicode gives control characters no name, only aliases: these are the aliases.
CONTROL_NAMES = {
    **{chr(code): name for code, name in enumerate(_C0)},
    "\x7f": "DELETE",
    **{chr(0x80 + code): name for code, name in enumerate(_C1)},
}
_NAMELESS = {"Co": "PRIVATE USE", "Cs": "SURROGATE", "Cn": "UNASSIGNED"}


def _hides(code: str, at: int) -> bool:
    """Whether the character at ``at`` of ``code`` can hide or disguise text."""
    char = code[at]
    if char in ORDINARY_CONTROLS:
        return False
    if unicodedata.category(char) in HIDING_CATEGORIES:
        return True
    if char in _PRESENTATION:  # ordinary after a symbol (the emoji it selects), not in a name
        # "a" + the character before: a name only if that character can continue one
        return at == 0 or f"a{code[at - 1]}".isidentifier()
    return _IGNORABLE.match(char) is not None


def hiding_characters(code: str) -> list[int]:
    """Where ``code`` holds a character that can hide what it does: every index, in order
    (empty for code that is shown exactly as it runs)."""
    return [found.start() for found in _SUSPECT.finditer(code) if _hides(code, found.start())]


def name(char: str) -> str:
    """A character as a person can read it: ``U+0008 BACKSPACE``, ``U+202E RIGHT-TO-LEFT
    OVERRIDE``, ``U+E000 PRIVATE USE``."""
    called = CONTROL_NAMES.get(char) or unicodedata.name(char, "")
    called = called or _NAMELESS.get(unicodedata.category(char), "CONTROL")
    return f"U+{ord(char):04X} {called}"


def marker(char: str, times: int = 1) -> str:
    """What stands in for ``times`` of ``char`` in a row: ``⟨U+0008 BACKSPACE⟩``, with
    the count after the name for a run of them."""
    return f"⟨{name(char)}{f' ×{times}' if times > 1 else ''}⟩"


def pieces(code: str) -> list[tuple[str, bool]]:
    """``code`` cut into what is shown: ``(text, False)`` is ordinary text, shown as it is;
    ``(marker, True)`` stands for a run of one hiding character. Joined, the texts are
    :func:`made_visible`."""
    parts: list[tuple[str, bool]] = []
    plain_from = 0
    for at in hiding_characters(code):
        if at < plain_from:
            continue  # in the run just written out
        end = at + 1
        while end < len(code) and code[end] == code[at]:
            end += 1
        if at > plain_from:
            parts.append((code[plain_from:at], False))
        parts.append((marker(code[at], end - at), True))
        plain_from = end
    if plain_from < len(code):
        parts.append((code[plain_from:], False))
    return parts


def made_visible(code: str) -> str:
    """``code`` with every character that can hide text written out as its marker."""
    return "".join(text for text, _ in pieces(code))


def refusal(count: int) -> str:
    """The one line under code that did not run because it holds ``count`` hiding
    characters."""
    characters = "1 character" if count == 1 else f"{count} characters"
    return f"Not run: the code holds {characters} that can hide what it does (shown as ⟨…⟩ above)."


REFUSED = "refused"  # how the model's result for refused code begins


def refused_result(code: str) -> str:
    """What the model is told when its code is refused for its hiding characters (begins
    with :data:`REFUSED`, so the cell's line says the code did not run)."""
    found = hiding_characters(code)
    kinds = list(dict.fromkeys(code[at] for at in found))
    named = ", ".join(name(char) for char in kinds[:MOST_NAMED])
    if len(kinds) > MOST_NAMED:
        named += f" and {len(kinds) - MOST_NAMED} more kinds"
    characters = "1 character" if len(found) == 1 else f"{len(found)} characters"
    return (
        f"{REFUSED}: the code holds {characters} that can hide what it does from the person "
        f"({named}), so it did not run and the person was not asked. Send it without them; "
        'inside a string, write an escape such as "\\x1b" or "\\u200b" instead.'
    )
