"""Characters that can hide what code does: which count, how they are written out, how the
code Copilot asks to run is shown (plain text and HTML)."""

from __future__ import annotations

import html
import re
import unicodedata

import pytest

from copilot_magic.kernel.hidden import (
    CONTROL_NAMES,
    hiding_characters,
    made_visible,
    marker,
    name,
    pieces,
    refusal,
    refused_result,
)
from copilot_magic.views.consent import consent_html, consent_text

HIDING = {
    # Cc: every control but newline and tab
    "NUL": "\x00",
    "backspace": "\b",
    "escape (ANSI)": "\x1b",
    "carriage return": "\r",
    "vertical tab": "\x0b",
    "form feed": "\x0c",
    "DEL": "\x7f",
    "C1 next line": "\x85",
    "C1 CSI": "\x9b",
    # Cf
    "right-to-left override": "\u202e",
    "left-to-right embedding": "\u202a",
    "pop directional formatting": "\u202c",
    "right-to-left isolate": "\u2067",
    "first strong isolate": "\u2068",
    "pop directional isolate": "\u2069",
    "right-to-left mark": "\u200f",
    "Arabic letter mark": "\u061c",
    "zero-width space": "\u200b",
    "zero-width non-joiner": "\u200c",
    "zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
    "tag letter": "\U000e0041",
    # Zl, Zp, Co, Cs
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "private use": "\ue000",
    "private use (plane 15)": "\U000f0000",
    "lone surrogate": "\ud800",
    # Default_Ignorable_Code_Point outside those categories
    "Hangul filler": "\u3164",
    "halfwidth Hangul filler": "\uffa0",
    "Hangul choseong filler": "\u115f",
    "combining grapheme joiner": "\u034f",
    "Mongolian free variation selector": "\u180b",
    "variation selector 1": "\ufe00",
    "variation selector 17": "\U000e0100",
    "reserved ignorable": "\u2065",
    "reserved ignorable (plane 14)": "\U000e0fff",
}


@pytest.mark.parametrize("char", HIDING.values(), ids=HIDING.keys())
def test_each_character_that_can_hide_text_is_found_and_written_out(char: str) -> None:
    code = f"x = 1  # {char}\nprint('hello')"
    assert hiding_characters(code) == [9]
    shown = made_visible(code)
    assert char not in shown
    assert shown == f"x = 1  # {marker(char)}\nprint('hello')"
    assert re.fullmatch(r"⟨U\+[0-9A-F]{4,6} [A-Z0-9 \-]+⟩", marker(char)), marker(char)


def test_every_control_character_but_newline_and_tab_counts() -> None:
    controls = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)] if chr(c) not in "\n\t"]
    code = "".join(controls)
    assert len(hiding_characters(code)) == len(controls) == 63
    assert "\n" not in made_visible(code)
    assert hiding_characters("a\tb\nc") == []


def test_every_format_and_separator_character_counts() -> None:
    found = [
        chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) in ("Cf", "Zl", "Zp", "Cs")
    ]
    assert len(found) > 160
    assert all(hiding_characters(char) == [0] for char in found)


ORDINARY = {
    "ascii": "total = sum(x * 2 for x in range(10))\nprint(f'{total:>8}')\t# tab",
    "accents": "café = 'crème brûlée'\nnaïve = 'é'",
    "decomposed accent": "name = 'cafe\u0301'",
    "CJK": "名前 = '東京'\nprint('数据', 名前)",
    "Hebrew and Arabic letters": "print('שלום', 'مرحبا')",
    "emoji": "print('🎉 done 😀 🚀')",
    "emoji with presentation selector": "print('⚠️ careful ❤️ ✔️')",
    "keycap": "print('#️⃣')",
    "symbols": "print('→ ± × ÷ € ™ ⟨not a marker⟩')",
    "no-break space in a string": "print('10\u00a0kg')",
    "empty lines": "\n\nx = 1\n\n",
}


@pytest.mark.parametrize("code", ORDINARY.values(), ids=ORDINARY.keys())
def test_ordinary_code_in_any_script_passes_untouched(code: str) -> None:
    assert hiding_characters(code) == []
    assert made_visible(code) == code
    assert pieces(code) == ([(code, False)] if code else [])


def test_a_presentation_selector_counts_where_it_could_disguise_a_name() -> None:
    assert hiding_characters("print\ufe0f('hi')") == [5]  # print and U+FE0F: another name
    assert hiding_characters("\ufe0fx = 1") == [0]
    assert hiding_characters("x1\ufe0f = 1") == [2]
    assert hiding_characters("x = '⚠\ufe0e'") == []


def test_a_run_of_one_character_is_one_marker_with_its_count() -> None:
    code = "EVIL = 1 #" + "\b" * 10 + "print('hello')"
    assert pieces(code) == [
        ("EVIL = 1 #", False),
        ("⟨U+0008 BACKSPACE ×10⟩", True),
        ("print('hello')", False),
    ]
    assert made_visible("\u200b\u200d\u200b") == (
        "⟨U+200B ZERO WIDTH SPACE⟩⟨U+200D ZERO WIDTH JOINER⟩⟨U+200B ZERO WIDTH SPACE⟩"
    )


def test_names_are_unicode_names_and_aliases() -> None:
    assert name("\x1b") == "U+001B ESCAPE"
    assert name("\u202e") == "U+202E RIGHT-TO-LEFT OVERRIDE"
    assert name("\ue000") == "U+E000 PRIVATE USE"
    assert name("\ud800") == "U+D800 SURROGATE"
    assert name("\u2065") == "U+2065 UNASSIGNED"
    assert name("\U000e0041") == "U+E0041 TAG LATIN CAPITAL LETTER A"
    for char, alias in CONTROL_NAMES.items():  # each is Unicode's own alias for it
        assert unicodedata.lookup(alias) == char


def test_the_refusal_line_and_the_model_result_say_why() -> None:
    assert refusal(1) == (
        "Not run: the code holds 1 character that can hide what it does (shown as ⟨…⟩ above)."
    )
    assert refusal(3).startswith("Not run: the code holds 3 characters")
    result = refused_result("x = 1 #\b\b\u202e")
    assert result.startswith("refused: the code holds 3 characters")
    assert "(U+0008 BACKSPACE, U+202E RIGHT-TO-LEFT OVERRIDE)" in result
    many = refused_result("".join(chr(c) for c in range(1, 14) if chr(c) not in "\n\t"))
    assert "and 1 more kinds" in many


BACKSPACED = "EVIL = 1 #" + "\b" * 10 + "print('hello')"


def test_the_plain_form_shows_every_line_indented_under_the_count() -> None:
    code = "x = x + 1\n\nprint('x now', x)\n"
    assert consent_text(code) == (
        "Copilot wants to run this code in the kernel (3 lines):\n"
        "    x = x + 1\n"
        "\n"
        "    print('x now', x)"
    )
    refused = consent_text(BACKSPACED, refusal(10))
    assert "\b" not in refused
    assert refused.splitlines() == [
        "Copilot wants to run this code in the kernel (1 line):",
        "    EVIL = 1 #⟨U+0008 BACKSPACE ×10⟩print('hello')",
        refusal(10),
    ]


def _code_text(page: str) -> str:
    """The text of the code block of a consent display, as the browser shows it."""
    code = page.split("<code>", 1)[1].split("</code>", 1)[0]
    return html.unescape(re.sub(r"<[^>]+>", "", code))


def test_the_html_form_shows_the_whole_code_highlighted() -> None:
    code = "\n".join(f"row_{i} = '{'x' * 300}'  # é 中 😀\t<b>&amp;</b>" for i in range(400))
    page = consent_html(code)
    assert _code_text(page) == f"{code}\n"  # whole: no line cut, none left out
    assert "Copilot wants to run this code in the kernel (400 lines):" in page
    assert '<span class="n">row_0</span>' in page  # highlighted by Pygments
    body = page.split("</style>", 1)[1]
    assert "<b>" not in body  # the code's markup is text
    assert body.startswith('<div class="copilot-consent">')
    assert "copilot-consent-refused" not in body
    fenced = consent_html("s = '````'\nprint(s)")  # backticks cannot close the block
    assert _code_text(fenced) == "s = '````'\nprint(s)\n"


def test_the_html_form_sets_each_hidden_character_apart_with_the_refusal() -> None:
    code = "print('hello')  # \x1b[8m\nEVIL = 2  # \x1b[0m<script>"
    page = consent_html(code, refusal(2))
    assert "\x1b" not in page
    assert _code_text(page) == made_visible(code)
    assert page.count('<span class="copilot-hidden-char">⟨U+001B ESCAPE⟩</span>') == 2
    assert "EVIL = 2" in page
    assert "<script>" not in page
    assert f'<div class="copilot-consent-refused">{html.escape(refusal(2))}</div>' in page
