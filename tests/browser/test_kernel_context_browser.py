"""Kernel tools in a real JupyterLab (light theme), in headless Chromium: what a person sees.

A ``%%copilot`` cell asks the echo model, through the real runtime, to call the
kernel tool ``describe_variable`` for a pandas DataFrame. The reply shows one
step line ("🔎 looked at ``df``", ``div.copilot-step``) above its text, and the
text quotes what the tool returned. The test reads the rendered page only:
the step's visible text, where it sits, whether it can be read (its contrast,
from the computed styles) and that no error output appeared. Another cell asks
the model to run code: the question appears in the cell as JupyterLab's input
box under the code, the reply above it says it waits for the person, a typed
``y`` runs it, and the rest of the reply comes under what the code printed.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Locator, expect

from .conftest import KERNEL_IDLE_TIMEOUT_MS, LabPage

pytestmark = pytest.mark.browser

FRAME = "import pandas as pd\ndf = pd.DataFrame({'price': [1.5, None, 3.0], 'qty': [1, 2, 3]})"
DESCRIBE_DF = '[[echo:tool=describe_variable {"name": "df"}]]'
NOTEBOOK = [
    "%load_ext copilot_magic",
    "%copilot_session browser-tools",
    FRAME,
    f"%%copilot\nWhy does {{df}} have NaNs? {DESCRIBE_DF}",
    "%copilot_session --delete browser-tools --yes",  # the panel's tests count the sessions
]
ASKING = 3  # the %%copilot cell
STEP_TEXT = "🔎 looked at df"
STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
MIN_TEXT_CONTRAST = 4.5  # WCAG AA, normal text

# The colours of one text element as the page paints them, from its computed styles: the
# element and its ancestors, outermost first, each painting its background-color over
# what lies below, and each opacity group fading its whole content (backgrounds and text)
# over the backdrop. The text is its color (with that color's alpha) over the innermost
# background. The page's canvas is white. Returns the glyph colour, the colour beside
# the glyph, and what went into them, for a failure message.
_PAINTED_COLOURS = """(element) => {
    const parse = (value) => {
        const m = value.match(/rgba?\\(([^)]*)\\)/);
        if (!m) { throw new Error('unexpected colour ' + value); }
        const parts = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
        return {r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1};
    };
    const over = (c, below) => ({
        r: c.r * c.a + below.r * (1 - c.a),
        g: c.g * c.a + below.g * (1 - c.a),
        b: c.b * c.a + below.b * (1 - c.a),
    });
    const mix = (below, above, o) => ({
        r: below.r * (1 - o) + above.r * o,
        g: below.g * (1 - o) + above.g * o,
        b: below.b * (1 - o) + above.b * o,
    });
    const chain = [];
    for (let node = element; node; node = node.parentElement) { chain.unshift(node); }
    const styles = chain.map((node) => getComputedStyle(node));
    const paint = (i, below, withText) => {
        const style = styles[i];
        let inside = over(parse(style.backgroundColor), below);
        if (i + 1 < chain.length) {
            inside = paint(i + 1, inside, withText);
        } else if (withText) {
            inside = over(parse(style.color), inside);
        }
        return mix(below, inside, parseFloat(style.opacity));
    };
    const white = {r: 255, g: 255, b: 255};
    const background = styles.map((s, i) => [i, s.backgroundColor])
        .filter(([, c]) => parse(c).a > 0).pop();
    return {
        text: paint(0, white, true),
        background: paint(0, white, false),
        color: styles[styles.length - 1].color,
        opacities: styles.map((s) => s.opacity).filter((o) => o !== '1'),
        nearestBackground: background
            ? chain[background[0]].tagName.toLowerCase() + '.'
              + [...chain[background[0]].classList].join('.') + ' ' + background[1]
            : 'none',
    };
}"""


def _luminance(colour: dict[str, float]) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour["r"])
        + 0.7152 * channel(colour["g"])
        + 0.0722 * channel(colour["b"])
    )


def contrast_ratio(first: dict[str, float], second: dict[str, float]) -> float:
    """The WCAG contrast ratio of two opaque colours (1 to 21)."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_contrasts(container: Locator) -> list[tuple[str, float, dict[str, Any]]]:
    """Each element in ``container`` (itself included) that holds visible text of its own:
    its text, the contrast of that text as painted, and the colours that made it."""
    elements = [container, *container.locator("*").all()]
    results = []
    for element in elements:
        own = element.evaluate(
            """(node) => [...node.childNodes]
                .filter((child) => child.nodeType === Node.TEXT_NODE)
                .map((child) => child.textContent).join('').trim()"""
        )
        if not own:
            continue
        painted = element.evaluate(_PAINTED_COLOURS)
        results.append((own, contrast_ratio(painted["text"], painted["background"]), painted))
    return results


def test_a_kernel_tool_call_shows_a_readable_step_line_above_the_reply(
    lab_page: LabPage,
) -> None:
    page = lab_page.page
    lab_page.open_notebook(NOTEBOOK)
    assert page.evaluate("() => document.body.dataset.jpThemeLight") == "true"

    lab_page.run_all()

    cells = page.locator(".jp-NotebookPanel .jp-CodeCell")
    cell = cells.nth(ASKING)
    lab_page.wait_for_output(".copilot-reply .copilot-step")
    # Done when the last cell has its execution count: JupyterLab sets it once the
    # kernel has answered and every output has arrived.
    expect(cells.nth(len(NOTEBOOK) - 1).locator(".jp-InputPrompt")).to_have_text(
        f"[{len(NOTEBOOK)}]:", timeout=KERNEL_IDLE_TIMEOUT_MS
    )
    reply = cell.locator(".jp-OutputArea-output .copilot-reply")
    expect(reply).to_have_count(1)
    expect(reply).to_be_visible()

    # Exactly one step line, reading "🔎 looked at df" (df set as code).
    steps = reply.locator(".copilot-step")
    expect(steps).to_have_count(1)
    step = steps.first
    expect(step).to_be_visible()
    assert step.inner_text().strip() == STEP_TEXT, lab_page.outputs_text()
    expect(step.locator("code")).to_have_text("df")

    # Above the reply's first paragraph, not beside or over it.
    paragraph = reply.locator(":scope > p").first
    expect(paragraph).to_be_visible()
    step_box, paragraph_box = step.bounding_box(), paragraph.bounding_box()
    assert step_box is not None
    assert paragraph_box is not None
    assert step_box["y"] + step_box["height"] <= paragraph_box["y"] + 0.5, (
        step_box,
        paragraph_box,
    )

    # Readable: every piece of the step's text against what is painted behind it.
    contrasts = text_contrasts(step)
    assert [text for text, _, _ in contrasts] == ["🔎 looked at", "df"]
    for text, ratio, painted in contrasts:
        assert ratio >= MIN_TEXT_CONTRAST, f"{text!r}: contrast {ratio:.2f}:1 {painted}"

    # The reply quotes what the tool said about the frame (the attached {df} says
    # the same dimensions too, so read what follows the tool's result).
    expect(reply).to_contain_text("Tool describe_variable returned: «")
    returned = reply.inner_text().split("Tool describe_variable returned: «", 1)[1]
    assert "3 rows × 2 columns" in returned, returned

    # No error output anywhere in the notebook.
    expect(page.locator(STDERR_OUTPUT)).to_have_count(0)

    cell.scroll_into_view_if_needed()
    lab_page.screenshot("kernel-tools-reply.png")


CONSENT = [
    "%load_ext copilot_magic",
    "%copilot_session browser-consent",
    "x = 1",
    '%%copilot\nCheck it [[echo:tool=run_code {"code": "x = x + 1\\nprint(\'x now\', x)"}]]',
    "print('x is', x)",
    "%copilot_session --delete browser-consent --yes",  # the panel's tests count the sessions
]


def test_the_question_to_run_code_is_asked_in_the_cell_and_a_yes_runs_it(
    lab_page: LabPage,
) -> None:
    page = lab_page.page
    lab_page.open_notebook(CONSENT)
    lab_page.run_all()
    cells = page.locator(".jp-NotebookPanel .jp-CodeCell")
    asking = cells.nth(3)
    # JupyterLab shows input() as a text box in the cell, under the code it will run.
    box = asking.locator(".jp-Stdin-input")
    expect(box).to_be_visible(timeout=KERNEL_IDLE_TIMEOUT_MS)
    expect(asking.locator(".jp-Stdin-prompt")).to_have_text("Run this code in the kernel? [y/N] ")
    expect(asking.locator(".jp-OutputArea")).to_contain_text("x = x + 1")
    expect(asking.locator(".copilot-reply")).to_contain_text("Waiting for you")
    expect(asking.locator(".copilot-writing")).to_have_count(0)
    lab_page.screenshot("run-code-question.png")
    box.fill("y")
    box.press("Enter")
    expect(cells.nth(len(CONSENT) - 1).locator(".jp-InputPrompt")).to_have_text(
        f"[{len(CONSENT)}]:", timeout=KERNEL_IDLE_TIMEOUT_MS
    )
    reply = asking.locator(".copilot-reply").last  # the rest, under the code and its output
    expect(reply.locator(".copilot-step")).to_have_text(
        "▶ ran the code Copilot asked to run (you said yes)"
    )
    expect(reply).to_contain_text("Tool run_code returned: «x now 2")
    expect(asking.locator(".jp-OutputArea")).to_contain_text("x now 2")
    expect(asking.locator(".jp-OutputArea")).not_to_contain_text("Waiting for you")
    shown = asking.locator(".jp-OutputArea-output").all_inner_texts()
    code, printed, rest = (
        next(i for i, text in enumerate(shown) if words in text)
        for words in ("Copilot wants to run", "x now 2", "Tool run_code returned")
    )
    assert code < printed < rest, shown
    expect(cells.nth(4).locator(".jp-OutputArea")).to_have_text("x is 2")
    expect(page.locator(STDERR_OUTPUT)).to_have_count(0)
