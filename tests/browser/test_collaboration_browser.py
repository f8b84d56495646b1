"""Two windows on one notebook, with real-time collaboration (jupyter-collaboration): the
window that ran the ``%%copilot`` cell reviews Copilot's edits, the other sees what was
accepted, and an edit made in the other window while a review is open is never
overwritten (the review says so, and the model hears it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from .conftest import UI_TIMEOUT_MS, LabDirs, LabPage, LabServer, page_on, running_lab
from .test_look_browser import _cells
from .test_notebook_extension_browser import edit_then_accept

pytestmark = pytest.mark.browser

NOTEBOOK = "two-windows.ipynb"
PROMPT = "%%copilot\nTidy x. [[echo:edit=x = 1=>x = 2]] [[echo:edit=x = 2=>x = 3]]"


@pytest.fixture(scope="module")
def collaborative_lab(lab_dirs: LabDirs, lab_kernel_env: dict[str, str]) -> Iterator[LabServer]:
    """JupyterLab with real-time collaboration on: every window shares one document."""
    # jupyter-collaboration 5.0's shutdown hangs after "Deleting all rooms" and SIGTERM does
    # not end it either: its kernels are shut down first (page_on), so it gets 5 s a step.
    with running_lab(
        lab_dirs, lab_kernel_env, "jupyter-lab-collaborative", stop_timeout=5.0
    ) as server:
        yield server


@pytest.fixture
def two_windows(
    chromium: Browser, collaborative_lab: LabServer, lab_dirs: LabDirs
) -> Iterator[tuple[LabPage, LabPage]]:
    with (
        page_on(chromium, collaborative_lab, lab_dirs, NOTEBOOK) as mine,
        page_on(chromium, collaborative_lab, lab_dirs, NOTEBOOK) as theirs,
    ):
        yield mine, theirs


def test_the_other_window_sees_an_accepted_edit_and_its_own_edit_is_not_overwritten(
    two_windows: tuple[LabPage, LabPage], tmp_path: Path
) -> None:
    mine, theirs = two_windows
    mine.open_notebook(_cells(tmp_path, "x = 1", PROMPT), ids={1: "x-cell"})
    theirs.open_existing()
    their_cell = theirs.page.locator(".jp-Notebook .jp-Cell").nth(1)
    my_cell = mine.page.locator(".jp-Notebook .jp-Cell").nth(1)
    mine.run_all()
    review = my_cell.locator(".copilot-review")
    expect(review).to_contain_text("Copilot proposes an edit", timeout=UI_TIMEOUT_MS)
    expect(theirs.page.locator(".copilot-review")).to_have_count(0)  # only the asker reviews
    review.get_by_role("button", name="Accept").click()
    expect(their_cell.locator(".cm-content")).to_have_text("x = 2")  # through the shared model

    expect(review.locator(".copilot-diff-added")).to_have_text(["+x = 3"], timeout=UI_TIMEOUT_MS)
    edit_then_accept(theirs.page, their_cell, review, "  # theirs")  # typed in the other
    for window in (my_cell, their_cell):
        expect(window.locator(".cm-content")).to_have_text("x = 2  # theirs")
    reply = mine.page.locator(".copilot-reply")
    expect(reply).to_contain_text("«accepted: cell x-cell now holds", timeout=UI_TIMEOUT_MS)
    expect(reply).to_contain_text("«not applied: cell x-cell changed while the person reviewed")
