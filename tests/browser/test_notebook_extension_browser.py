"""The frontend extension, as installed from the package: in JupyterLab and Notebook 7.

A ``%%copilot`` cell's prompt reads as Markdown (its editor's language and what the theme draws
for Markdown: a heading, bold text); an error output offers "Ask Copilot", which inserts a
``%%copilot --error`` cell below and runs it, and the model receives the error.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, expect

from .conftest import LIGHT, UI_TIMEOUT_MS, LabPage
from .test_look_browser import APPS, THEMES, _cells, _contrast, _id, _style

pytestmark = pytest.mark.browser

PROMPT = "%%copilot\n# Tidy the plots\nPlease make the **axes** readable and keep `plot_sales`."
PYTHON = "# Tidy the plots\nemphasis = 2 ** 3  # **axes**"


def _editor(lab: LabPage, index: int) -> Locator:
    return lab.page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".cm-content")


def _weight(element: Locator) -> int:
    return int(_style(element, "fontWeight"))


@pytest.mark.parametrize("app", APPS)
def test_prompts_read_as_markdown_and_an_error_asks_copilot_in_a_new_cell_that_runs(
    lab_page: LabPage, tmp_path: Path, app: str
) -> None:
    """One notebook: a failing cell, then a prompt and a Python cell that Run All never
    reaches (it stops at the error). No %copilot_session: the question that Ask Copilot
    inserts goes to the notebook's own session, which it opens."""
    failing = "def load():\n    return 1 / 0\nload()"
    sources = [failing, "x = 1", PROMPT, PYTHON]
    lab_page.open_notebook(_cells(tmp_path, *sources), app)
    page = lab_page.page
    cells = page.locator(".jp-Notebook .jp-Cell")
    prompt, python = _editor(lab_page, 3), _editor(lab_page, 4)
    expect(prompt).to_have_attribute("data-language", "markdown", timeout=UI_TIMEOUT_MS)
    expect(python).to_have_attribute("data-language", "python")
    lab_page.run_all()
    failed = cells.nth(1)
    ask = failed.get_by_role("button", name="Ask Copilot")
    expect(ask).to_have_count(1, timeout=UI_TIMEOUT_MS)
    expect(page.get_by_role("button", name="Ask Copilot")).to_have_count(1)  # one error, one
    error = failed.locator(".jp-OutputArea-output").first
    button, output = ask.bounding_box(), error.bounding_box()
    assert button is not None
    assert output is not None
    assert abs(button["x"] - output["x"]) <= 1, "the button is not under the error's left edge"
    assert button["y"] >= output["y"] + output["height"], "the button is not under the error"

    for theme in THEMES:
        lab_page.set_theme(theme)
        assert _contrast(ask) >= 4.5, _id(theme)
        heading = prompt.locator(".cm-line").nth(1).locator("span").first
        expect(heading).to_have_text(re.compile(r"#"))
        assert _weight(heading) >= 600, f"{_id(theme)}: the heading is not drawn as one"
        bold = prompt.locator("span", has_text=re.compile(r"^\*\*axes\*\*$|^axes$")).first
        assert _weight(bold) >= 600, f"{_id(theme)}: **axes** is not drawn bold"
        assert _contrast(bold) >= 4.5, _id(theme)
        comment = python.locator("span", has_text="**axes**").first
        assert _weight(comment) < 600, f"{_id(theme)}: the Python comment is drawn as Markdown"
        lab_page.screenshot(f"readme-prompt-{app}-{_id(theme)}.png", cells.nth(3))
    lab_page.set_theme(LIGHT)
    lab_page.screenshot(f"readme-ask-copilot-{app}-light.png", failed)

    # Editing a prompt into Python (and back) changes its language at once.
    prompt.click()
    page.keyboard.press("Control+Home")
    page.keyboard.press("Delete")  # "%%copilot" -> "%copilot": a line magic, Python
    expect(prompt).to_have_attribute("data-language", "python")
    page.keyboard.type("%")
    expect(prompt).to_have_attribute("data-language", "markdown")

    ask.click()
    expect(cells).to_have_count(len(sources) + 2)  # the setup cell, the sources, the question
    question = cells.nth(2)
    expect(question.locator(".cm-content")).to_contain_text("%%copilot --error")
    opened = question.locator(".jp-OutputArea-output pre").first
    expect(opened).to_have_text(
        re.compile(r"^Created session \S+-test_prompts_read"), timeout=UI_TIMEOUT_MS
    )
    reply = question.locator(".copilot-reply")
    expect(reply).to_contain_text("ZeroDivisionError", timeout=UI_TIMEOUT_MS)
    expect(reply).to_contain_text("division by zero")
    expect(cells.nth(3).locator(".cm-content")).to_have_text("x = 1")  # below, not instead
    lab_page.screenshot(f"readme-asked-copilot-{app}-light.png", question)
