"""The frontend extension, as installed from the package: in JupyterLab and Notebook 7.

A ``%%copilot`` cell's prompt reads as Markdown (its editor's language and what the theme draws
for Markdown: a heading, bold text); an error output offers "Ask Copilot", which inserts a
``%%copilot --error`` cell below and runs it, and the model receives the error. While a reply
runs, Copilot reads the notebook and proposes edits, each reviewed on its cell as a diff:
Accept changes the cell, Reject leaves it, and the model is told which.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from copilot_magic.kernel.notebook import WITH_FRONTEND
from copilot_magic.kernel.notebook_tools import APPLIED_AT_ONCE

from .conftest import KERNEL_IDLE_TIMEOUT_MS, LIGHT, UI_TIMEOUT_MS, LabPage
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


TARGET_ID = "plot-cell"
READ = "[[echo:tool=read_notebook]]"
EDITS = (
    "[[echo:edit=x = 1=>x = 2]] "  # by what the cell holds, as a model would
    '[[echo:tool=edit_cell {"cell_id": "plot-cell", "source": "x = 3  # \\u202e evil"}]] '
    '[[echo:tool=insert_cell {"after_cell_id": "plot-cell", "cell_type": "markdown", '
    '"source": "## Notes"}]] [[echo:tool=delete_cell {"cell_id": "old-cell"}]] '
    '[[echo:tool=run_cell {"cell_id": "plot-cell"}]]'
)


@pytest.mark.parametrize("app", APPS)
def test_an_edit_is_reviewed_as_a_legible_diff_and_accept_and_reject_reach_the_model(
    lab_page: LabPage, tmp_path: Path, app: str
) -> None:
    """The model reads the notebook, then proposes two edits to one cell (the first is
    accepted, the second, holding a right-to-left override, rejected), a Markdown cell below
    it and the deletion of another cell (both accepted), and asks to run the first (Run).
    The person edits the new Markdown cell meanwhile. (JupyterLab only: Run All in a fresh
    kernel replays the turn and changes nothing.) A new cell then rewinds the turn: the
    deleted cell and the edit are offered back and reverted, the edited cell is named and
    left as it is. JupyterLab only, as the kernel side is the same and Notebook 7 draws the
    same reviews: Edit before Accept, an edit during a review, apply mode, the panel's
    rewind."""
    prompt = f"%%copilot\nTidy the cells above. [[echo:instructions]] {READ} {EDITS}"
    sources = ["x = 1\nprint(x)", "y = 0", prompt]
    lab_page.open_notebook(_cells(tmp_path, *sources), app, ids={1: TARGET_ID, 2: "old-cell"})
    cells = lab_page.page.locator(".jp-Notebook .jp-Cell")
    target = cells.nth(1)
    lab_page.run_all()
    _the_first_edit_reads_well_and_is_accepted(lab_page, target)
    _hidden_characters_are_written_out_and_the_edit_rejected(lab_page, target)
    _a_new_cell_and_a_deletion_are_accepted(lab_page, cells)
    expect(cells).to_have_count(len(sources) + 1)  # the setup cell, + the new, - the deleted
    _the_person_edits_the_new_cell(lab_page, cells.nth(2))
    _the_cell_runs_after_run(lab_page, target)
    _the_model_heard_each_outcome(lab_page.page.locator(".copilot-reply"))
    asking = cells.last.locator(".jp-InputPrompt")  # the cell that ran it numbers it
    expect(asking).to_have_text(re.compile(r"\[\d+\]:"))
    expect(target.locator(".jp-InputPrompt")).to_have_text(asking.inner_text())
    if app == "lab":
        _run_all_in_a_fresh_kernel_replays_the_turn_and_changes_nothing(lab_page, cells)
    lab_page.append_and_run("%copilot_session --rewind 1")
    _the_rewind_says_what_goes_and_asks_in_the_notebook(lab_page, cells)
    _the_rewind_offers_back_each_change_and_names_the_edited_cell(lab_page, cells)
    # A reverted edit is the cell's own change too: its undo takes it back.
    expect(target.locator(".cm-content")).to_have_text("x = 1print(x)")
    target.locator(".cm-content").click()
    lab_page.page.keyboard.press("Control+z")
    expect(target.locator(".cm-content")).to_have_text("x = 2print(x)")
    if app != "lab":
        return
    _a_proposal_changed_before_accepting_lands_as_changed(lab_page, cells)
    _with_apply_an_edit_lands_at_once_and_undo_takes_it_back(lab_page, cells)
    _the_panel_rewind_offers_the_changes_back_too(lab_page, cells)


def _the_first_edit_reads_well_and_is_accepted(lab_page: LabPage, target: Locator) -> None:
    review = target.locator(".copilot-review")
    expect(review).to_have_count(1, timeout=UI_TIMEOUT_MS)
    expect(review).to_contain_text("Copilot proposes an edit to this cell")
    removed = review.locator(".copilot-diff-removed .copilot-diff-text")
    added = review.locator(".copilot-diff-added .copilot-diff-text")
    expect(removed).to_have_text(["x = 1"])
    expect(added).to_have_text(["x = 2"])
    expect(review.locator(".copilot-diff-context .copilot-diff-text")).to_have_text(["print(x)"])
    expect(target.locator(".cm-content")).to_have_text("x = 1print(x)")  # nothing changed yet
    for theme in THEMES:
        lab_page.set_theme(theme)
        for line in (removed, added):
            assert _contrast(line) >= 4.5, f"{_id(theme)}: a diff line is hard to read"
        tints = {
            _style(review.locator(f".copilot-diff-{kind}").first, "backgroundColor")
            for kind in ("removed", "added", "context")
        }
        assert len(tints) == 3, f"{_id(theme)}: removed, added and unchanged look alike"
        lab_page.screenshot(f"readme-review-{lab_page.app}-{_id(theme)}.png", target)
    lab_page.set_theme(LIGHT)
    review.get_by_role("button", name="Accept").click()
    expect(target.locator(".cm-content")).to_have_text("x = 2print(x)")


def _hidden_characters_are_written_out_and_the_edit_rejected(
    lab_page: LabPage, target: Locator
) -> None:
    review = target.locator(".copilot-review")
    note = review.locator(".copilot-review-note")
    expect(note).to_have_text(
        "⚠ The proposal holds 1 hidden character, written out as ⟨…⟩ below; "
        "Accept puts it in the cell as it is.",
        timeout=UI_TIMEOUT_MS,
    )
    assert _contrast(note) >= 4.5
    expect(review.locator(".copilot-diff-added")).to_contain_text(
        "x = 3  # ⟨U+202E RIGHT-TO-LEFT OVERRIDE⟩ evil"
    )
    lab_page.screenshot(f"readme-review-hidden-{lab_page.app}-light.png", target)
    review.get_by_role("button", name="Reject").click()
    expect(target.locator(".cm-content")).to_have_text("x = 2print(x)")


def _a_new_cell_and_a_deletion_are_accepted(lab_page: LabPage, cells: Locator) -> None:
    inserted = cells.nth(1).locator(".copilot-review")
    expect(inserted).to_contain_text("Copilot proposes a new cell below this one")
    expect(inserted.locator(".copilot-diff-added")).to_have_text(["+## Notes"])
    inserted.get_by_role("button", name="Accept").click()
    expect(cells.nth(2)).to_have_class(re.compile(r"jp-MarkdownCell"))
    deleted = cells.nth(3).locator(".copilot-review")
    expect(deleted).to_contain_text("Copilot proposes to delete this cell")
    expect(deleted.locator(".copilot-diff-removed")).to_have_text(["−y = 0"])
    lab_page.screenshot(f"readme-review-delete-{lab_page.app}-light.png", cells.nth(3))
    deleted.get_by_role("button", name="Accept").click()


def _the_cell_runs_after_run(lab_page: LabPage, target: Locator) -> None:
    review = target.locator(".copilot-review")
    expect(review).to_contain_text("Copilot asks to run this cell", timeout=UI_TIMEOUT_MS)
    shown = review.locator(".copilot-diff-context .copilot-diff-text")
    expect(shown).to_have_text(["x = 2", "print(x)"])
    lab_page.screenshot(f"readme-review-run-{lab_page.app}-light.png", target)
    expect(review.get_by_role("button", name="Don't run")).to_have_count(1)
    expect(target.locator(".jp-OutputArea-output")).to_have_text("1")  # Run All's
    review.get_by_role("button", name="Run", exact=True).click()
    expect(lab_page.page.locator(".copilot-review")).to_have_count(0)
    # What it printed shows under the cell that ran (not under the %%copilot cell).
    expect(target.locator(".jp-OutputArea-output")).to_have_text("2", timeout=UI_TIMEOUT_MS)


def _the_model_heard_each_outcome(reply: Locator) -> None:
    expect(reply).to_contain_text("Tool run_cell returned", timeout=UI_TIMEOUT_MS)
    expect(reply).to_contain_text(f"Instructions: «{WITH_FRONTEND}».")
    expect(reply).to_contain_text("Tool read_notebook returned: «--- cell ")
    expect(reply).to_contain_text("--- cell plot-cell (code, In [2])\nx = 1\nprint(x)\n--- output:")
    expect(reply).to_contain_text("«accepted: cell plot-cell now holds the source you proposed.»")
    expect(reply).to_contain_text("«rejected: the person kept cell plot-cell as it was.»")
    expect(reply).to_contain_text(re.compile(r"«accepted: a new markdown cell \S+ is below cell"))
    expect(reply).to_contain_text("«accepted: cell old-cell is deleted.»")
    expect(reply).to_contain_text("✏️ proposed an edit to cell plot-cell: accepted")
    expect(reply).to_contain_text("cell plot-cell: rejected (it held 1 hidden character, shown")
    expect(reply).to_contain_text("➕ proposed a new cell below cell plot-cell: accepted")
    expect(reply).to_contain_text("🗑 proposed to delete cell old-cell: accepted")
    expect(reply).to_contain_text("«ran cell plot-cell (the person said Run); it printed:\n2\n»")
    expect(reply).to_contain_text("▶ ran cell plot-cell (you said Run)")


def _the_person_edits_the_new_cell(lab_page: LabPage, notes: Locator) -> None:
    # The new cell renders once it is in: a double click before would open and close it.
    expect(notes.locator(".jp-RenderedMarkdown")).to_be_visible()
    notes.dblclick()  # a rendered Markdown cell opens its editor
    editor = notes.locator(".cm-content")
    expect(editor).to_be_visible()
    editor.click()
    lab_page.page.keyboard.press("Control+End")
    lab_page.page.keyboard.type(" (mine)")
    expect(editor).to_have_text("## Notes (mine)")


def _run_all_in_a_fresh_kernel_replays_the_turn_and_changes_nothing(
    lab_page: LabPage, cells: Locator
) -> None:
    before = cells.locator(".cm-content").all_inner_texts()
    lab_page.restart_and_run_all()
    replayed = cells.nth(3).locator(".copilot-reply")
    # A fresh kernel's first cells: the extension, the SDK and the runtime start again.
    expect(replayed).to_contain_text("↺ From the history", timeout=KERNEL_IDLE_TIMEOUT_MS)
    expect(replayed).to_contain_text("✏️ proposed an edit to cell plot-cell: accepted")
    expect(cells.nth(1).locator(".jp-OutputArea-output")).to_have_text("2")  # ran again
    expect(lab_page.page.locator(".copilot-review")).to_have_count(0)
    assert cells.locator(".cm-content").all_inner_texts() == before


def _the_rewind_says_what_goes_and_asks_in_the_notebook(lab_page: LabPage, cells: Locator) -> None:
    """What destroys asks first: the preview, then the kernel's question in the page's own
    input box, under the cell; nothing is removed before the answer."""
    rewind_cell = cells.last
    question = rewind_cell.locator(".jp-Stdin-prompt")
    expect(question).to_have_text(
        "Remove it, from the history and from disk? [y/N] ", timeout=UI_TIMEOUT_MS
    )
    said = rewind_cell.locator(".jp-OutputArea-output").first
    expect(said).to_contain_text("The last turn of ")
    expect(said).to_contain_text("In the notebook, turn 1 edited cell plot-cell, added cell ")
    expect(said).not_to_contain_text("Removed 1 turn")
    answer = rewind_cell.locator(".jp-Stdin-input")
    answer.fill("y")
    answer.press("Enter")


def _the_rewind_offers_back_each_change_and_names_the_edited_cell(
    lab_page: LabPage, cells: Locator
) -> None:
    rewind_cell = cells.last
    put_back = cells.nth(2).locator(".copilot-review")  # below the new cell, where it was
    expect(put_back).to_contain_text(
        "Rewind: put back, below this cell, the cell the rewound turn deleted",
        timeout=UI_TIMEOUT_MS,
    )
    expect(put_back.locator(".copilot-diff-added")).to_have_text(["+y = 0"])
    expect(rewind_cell).to_contain_text("Removed 1 turn from ")  # after the answer
    put_back.get_by_role("button", name="Revert").click()
    expect(cells.nth(3).locator(".cm-content")).to_have_text("y = 0")
    edit_back = cells.nth(1).locator(".copilot-review")
    expect(edit_back).to_contain_text(
        "Rewind: put this cell back as it was before the rewound turn", timeout=UI_TIMEOUT_MS
    )
    expect(edit_back.locator(".copilot-diff-removed .copilot-diff-text")).to_have_text(["x = 2"])
    expect(edit_back.locator(".copilot-diff-added .copilot-diff-text")).to_have_text(["x = 1"])
    lab_page.screenshot(f"readme-rewind-{lab_page.app}-light.png", cells.nth(1))
    edit_back.get_by_role("button", name="Revert").click()
    expect(rewind_cell).to_contain_text(
        "The kernel's variables are not rewound", timeout=UI_TIMEOUT_MS
    )
    expect(rewind_cell).to_contain_text("↩ turn 1 deleted cell old-cell: put back")
    expect(rewind_cell).to_contain_text(
        re.compile(r"↩ turn 1 added cell \S+ below cell plot-cell: left as it is: it was edited")
    )
    expect(rewind_cell).to_contain_text("↩ turn 1 edited cell plot-cell: put back")
    expect(cells.nth(2).locator(".cm-content")).to_have_text("## Notes (mine)")
    expect(lab_page.page.locator(".copilot-review")).to_have_count(0)
    lab_page.screenshot(f"readme-rewound-{lab_page.app}-light.png", rewind_cell)


def _a_proposal_changed_before_accepting_lands_as_changed(
    lab_page: LabPage, cells: Locator
) -> None:
    lab_page.append_and_run(
        "%%copilot\nA cell below y. [[echo:insert=y = 0=>w = 1]] [[echo:edit=y = 0=>y = 9]]"
    )
    review = cells.nth(3).locator(".copilot-review")  # on the cell holding y = 0
    expect(review).to_contain_text("Copilot proposes a new cell below", timeout=UI_TIMEOUT_MS)
    review.get_by_role("button", name="Edit").click()
    editor = review.get_by_role("textbox", name="Your version of the proposal")
    expect(editor).to_have_value("w = 1")
    editor.fill("w = 2")
    for theme in THEMES:
        lab_page.set_theme(theme)
        assert _contrast(editor) >= 4.5, f"{_id(theme)}: the text box is hard to read"
    lab_page.set_theme(LIGHT)
    lab_page.screenshot(f"readme-review-edit-{lab_page.app}-light.png", cells.nth(3))
    review.get_by_role("button", name="Accept").click()
    expect(cells.nth(4).locator(".cm-content")).to_have_text("w = 2")
    _a_cell_edited_during_its_review_is_not_overwritten(lab_page, cells.nth(3))
    reply = cells.last.locator(".copilot-reply")
    expect(reply).to_contain_text(
        re.compile(r"«accepted after the person changed it: a new code cell \S+ below cell "),
        timeout=UI_TIMEOUT_MS,
    )
    expect(reply).to_contain_text("proposed a new cell below cell old-cell: accepted with your")
    expect(reply).to_contain_text(
        "«not applied: cell old-cell changed while the person reviewed the change"
    )


def _a_cell_edited_during_its_review_is_not_overwritten(lab_page: LabPage, cell: Locator) -> None:
    review = cell.locator(".copilot-review")
    expect(review).to_contain_text("Copilot proposes an edit to this cell", timeout=UI_TIMEOUT_MS)
    edit_then_accept(lab_page.page, cell, review, "  # mine")
    expect(cell.locator(".cm-content")).to_have_text("y = 0  # mine")


def edit_then_accept(typist: Page, cell: Locator, review: Locator, words: str) -> None:
    """Type ``words`` at the end of ``cell`` (in the window ``typist``) while ``review`` is
    open, see the review say so, then Accept it."""
    cell.locator(".cm-content").click()
    typist.keyboard.press("Control+End")
    typist.keyboard.type(words)
    expect(review.locator(".copilot-review-note")).to_have_text(
        "⚠ This cell changed after Copilot read it: Accept will not overwrite it."
    )
    review.get_by_role("button", name="Accept").click()


def _with_apply_an_edit_lands_at_once_and_undo_takes_it_back(
    lab_page: LabPage, cells: Locator
) -> None:
    lab_page.append_and_run('%config CopilotMagics.notebook_edits = "apply"')
    lab_page.append_and_run("%%copilot\nBump w. [[echo:edit=w = 2=>w = 3]]")
    reply = cells.last.locator(".copilot-reply")
    expect(reply).to_contain_text(f"now holds the source you proposed {APPLIED_AT_ONCE}.")
    changed = cells.nth(4)
    expect(changed.locator(".cm-content")).to_have_text("w = 3")  # nobody was asked
    shown = changed.locator(".copilot-applied")
    expect(shown).to_contain_text("Copilot changed this cell")
    expect(shown.locator(".copilot-diff-removed .copilot-diff-text")).to_have_text(["w = 2"])
    expect(shown.locator(".copilot-diff-added .copilot-diff-text")).to_have_text(["w = 3"])
    lab_page.screenshot(f"readme-applied-{lab_page.app}-light.png", changed)
    shown.get_by_role("button", name="Undo").click()
    expect(changed.locator(".cm-content")).to_have_text("w = 2")
    expect(shown).to_have_count(0)


def _the_panel_rewind_offers_the_changes_back_too(lab_page: LabPage, cells: Locator) -> None:
    """Rewind both turns from the panel: the applied edit (undone since) is named as back
    already, the cell the first turn added is offered back as its removal."""
    lab_page.append_and_run("%copilot_sessions")
    panel = lab_page.page.locator(".copilot-session-browser")
    row = panel.locator("tbody tr[data-id]").first
    expect(row).to_be_visible(timeout=UI_TIMEOUT_MS)
    row.click()
    panel.get_by_role("button", name="Rewind", exact=True).click()
    expect(panel).to_contain_text("Turns 1, 2 changed notebook cells")
    panel.locator('input[type=number][max="2"]').fill("2")  # the turns to remove
    panel.get_by_role("button", name="Confirm rewind").click()
    removal = cells.nth(4).locator(".copilot-review")
    expect(removal).to_contain_text(
        "Rewind: remove this cell, which the rewound turn added", timeout=UI_TIMEOUT_MS
    )
    status = panel.locator(".copilot-status-line")
    expect(status).to_contain_text("Each is offered back on its cell, newest first")
    removal.get_by_role("button", name="Revert").click()
    expect(status).to_contain_text("The kernel's variables are not rewound", timeout=UI_TIMEOUT_MS)
    expect(status).to_contain_text(re.compile(r"↩ turn 2 edited cell \S+: left: it is as it was"))
    expect(status).to_contain_text(
        re.compile(r"↩ turn 1 added cell \S+ below cell old-cell: removed")
    )
    expect(cells.nth(4).locator(".cm-content")).not_to_have_text("w = 2")
