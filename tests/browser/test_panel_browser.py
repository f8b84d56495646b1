"""The session browser (``%copilot_sessions``) in a real JupyterLab, in headless Chromium.

The sessions are made beforehand with the real runtime and the echo model,
from the test process, in the data directory the server's kernels use. Each
test opens a notebook that loads the extension and shows the panel, then
works the panel as a person would: select a session, press buttons, read.
The tests rely only on the panel's DOM contract: the CSS classes
``copilot-session-browser``, ``copilot-history``, ``copilot-abstained``,
``copilot-status-line``, ``copilot-session-list`` and ``copilot-session-details``,
the list's table rows (``tr`` with ``data-id``, cells ``cst-<column>``, the
selected row ``selected``), the text boxes' placeholders, and the buttons' labels.

The controls' tests (star, rename, fork, rewind) change sessions of their own,
so the other tests see the same sessions in any order; a fork is deleted again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, expect
from runtime_support import converse

from copilot_magic.config import Settings
from copilot_magic.sessions.marks import SessionMarks
from copilot_magic.sessions.store import SessionStore

from .conftest import UI_TIMEOUT_MS, LabDirs, LabPage, runtime_environment

pytestmark = pytest.mark.browser

PLAIN = "browser-plain"
ABSTAIN = "browser-abstain"
XSS = "browser-xss"
ABSTAINED_BANNER = "🛑 Copilot abstained"
ABSTAIN_SIGNAL = "[[POR_ABSTAIN]]"
XSS_MARKER = "XSS-MARKER"
XSS_PAYLOAD = (
    f"<script>window.__xss=1;console.log('{XSS_MARKER}')</script>"
    f"<img src=x onerror=\"window.__xss=2;console.log('{XSS_MARKER}')\">"
    '<svg onload="window.__xss=3"></svg>'
)
assert "]]" not in XSS_PAYLOAD, "the say directive ends at the first ]]"
# The controls' sessions. STAR is made first, so it is the oldest: never at the top unstarred.
STAR = "browser-star"
RENAME = "browser-rename"
FORK = "browser-fork"
FORK_HANDLE = "browser-fork-copy"
REWIND = "browser-rewind"
REWOUND_WORD = "zanzibarquokkaxyz"  # only in REWIND's second turn: nowhere once rewound
SEEDED = {
    STAR: ["browser star: a question"],
    RENAME: ["browser rename: a question"],
    FORK: ["browser fork: first question", "browser fork: second question"],
    REWIND: ["browser rewind: kept question", f"browser rewind: dropped {REWOUND_WORD} question"],
    PLAIN: ["browser plain: first question", "browser plain: second question"],
    ABSTAIN: ["browser abstain: warm-up question", "please abstain now [[echo:abstain]]"],
    XSS: [f"xss-probe [[echo:say={XSS_PAYLOAD}]]"],
}
PANEL_NOTEBOOK = ["%load_ext copilot_magic", "%copilot_sessions"]
NEW_TITLE = "Renamed in the browser"
BLANK_TITLE_REFUSED = "A title needs at least one visible character."
USAGE = re.compile(r"usage: ([\d,]+) in · ([\d,]+) out · \d+ requests?")


# -- the sessions -------------------------------------------------------------------------------
def _stored(dirs: LabDirs, session_id: str) -> bool:
    return (dirs.data_dir / "session-state" / session_id / "events.jsonl").is_file()


def _create_sessions(settings: Settings, env: dict[str, str], session_ids: list[str]) -> None:
    """Talk to each session through the real runtime, then stop it so nothing stays open."""
    with runtime_environment(env):
        store = SessionStore(settings)
        try:
            for session_id in session_ids:
                assert store.open(session_id, new=True).created
                for reply in converse(store, session_id, *SEEDED[session_id]):
                    assert reply.startswith(("I received", ABSTAIN_SIGNAL)), reply
        finally:
            store.close()


@pytest.fixture
def seeded_sessions(
    lab_settings: Settings, lab_kernel_env: dict[str, str], lab_dirs: LabDirs
) -> list[str]:
    """The three sessions, made on first use and remade if a test deleted one."""
    missing = [session_id for session_id in SEEDED if not _stored(lab_dirs, session_id)]
    if missing:
        _create_sessions(lab_settings, lab_kernel_env, missing)
    assert all(_stored(lab_dirs, session_id) for session_id in SEEDED)
    return list(SEEDED)


@pytest.fixture
def fork_deleted(
    lab_settings: Settings, lab_kernel_env: dict[str, str], lab_dirs: LabDirs
) -> Iterator[str]:
    """FORK_HANDLE, deleted after the test if the test did not delete it (it failed)."""
    yield FORK_HANDLE
    if SessionMarks(lab_dirs.data_dir).runtime_id(FORK_HANDLE) is None:
        return
    with runtime_environment(lab_kernel_env):
        store = SessionStore(lab_settings)
        try:
            store.delete(FORK_HANDLE)
        finally:
            store.close()


def _events(dirs: LabDirs, session_id: str) -> bytes:
    return (dirs.data_dir / "session-state" / session_id / "events.jsonl").read_bytes()


def _files_holding(dirs: LabDirs, word: str) -> list[Path]:
    """Every file under the data directory whose bytes contain ``word``."""
    needle = word.encode()
    found = []
    for path in sorted(dirs.data_dir.rglob("*")):
        try:
            if path.is_file() and needle in path.read_bytes():
                found.append(path)
        except FileNotFoundError:  # a temporary file of the runtime, gone since the listing
            continue
    return found


# -- the panel ----------------------------------------------------------------------------------
class Panel:
    """The session browser on the page, reached only through its DOM contract."""

    def __init__(self, lab: LabPage) -> None:
        self.lab = lab
        self.root = lab.page.locator(".copilot-session-browser")
        self.table = self.root.locator(".copilot-session-list")
        self.rows = self.table.locator("tbody tr[data-id]")
        self.history = self.root.locator(".copilot-history")
        self.turns = self.history.locator(".copilot-turn-user")
        self.status = self.root.locator(".copilot-status-line")
        self.details = self.root.locator(".copilot-session-details")

    @classmethod
    def open(cls, lab: LabPage) -> Panel:
        lab.open_notebook(PANEL_NOTEBOOK)
        lab.run_all()
        lab.wait_for_output(".copilot-session-browser")
        return cls(lab)

    def button(self, label: str) -> Locator:
        return self.root.get_by_role("button", name=label, exact=True)

    def box(self, placeholder: str) -> Locator:
        return self.root.get_by_placeholder(placeholder, exact=True)

    def row(self, session_id: str) -> Locator:
        """The table row of ``session_id``."""
        return self.table.locator(f'tbody tr[data-id="{session_id}"]')

    def cells(self) -> list[dict[str, str]]:
        """Each row's cells as shown, by column (``id``, ``title``, ``turns``...)."""
        rows: list[dict[str, str]] = self.rows.evaluate_all(
            """rows => rows.map(row => Object.fromEntries([...row.cells].map(cell =>
                [cell.className.split(' ')[0].replace('cst-', ''), cell.textContent])))"""
        )
        return rows

    def listed_ids(self) -> list[str]:
        return [row["id"] for row in self.cells()]

    def choose(self, session_id: str) -> None:
        """Click the row of ``session_id``; it becomes the selected one."""
        self.row(session_id).click()
        expect(self.row(session_id)).to_have_class(re.compile(r"\bselected\b"))

    def load(self, session_id: str) -> None:
        self.choose(session_id)
        self.button("Load").click()

    def screenshot(self, name: str) -> Path:
        self.history.scroll_into_view_if_needed()
        return self.lab.screenshot(name)


# -- the tests ----------------------------------------------------------------------------------
def test_lists_sessions_and_shows_an_abstention(
    lab_page: LabPage, seeded_sessions: list[str]
) -> None:
    panel = Panel.open(lab_page)

    expect(panel.rows).to_have_count(len(seeded_sessions))
    assert sorted(panel.listed_ids()) == sorted(seeded_sessions)
    expect(panel.root.get_by_placeholder("Filter by id, title or client")).to_be_visible()
    for label in ("Refresh", "Load", "Use here", "Delete"):
        expect(panel.button(label)).to_be_visible()
    expect(panel.status).to_have_count(1)

    panel.load(ABSTAIN)

    abstained = panel.history.locator(".copilot-abstained", has_text=ABSTAINED_BANNER)
    expect(abstained).to_have_count(1, timeout=UI_TIMEOUT_MS)
    expect(abstained).to_be_visible()
    expect(panel.history).to_contain_text("browser abstain: warm-up question")
    expect(panel.history).not_to_contain_text(ABSTAIN_SIGNAL)
    panel.screenshot("panel-abstained.png")


def test_html_in_a_reply_stays_inert(lab_page: LabPage, seeded_sessions: list[str]) -> None:
    panel = Panel.open(lab_page)

    panel.load(XSS)

    expect(panel.history).to_contain_text("xss-probe", timeout=UI_TIMEOUT_MS)
    expect(panel.history).to_contain_text("I received 1 user message")
    # The payload is shown, as text: so it reached the page, and did nothing there.
    expect(panel.history).to_contain_text(XSS_MARKER)
    expect(panel.history).to_contain_text("onerror=")
    assert panel.root.locator("script").count() == 0
    assert panel.root.locator("[onerror], [onload]").count() == 0
    assert panel.history.locator("img, svg").count() == 0
    assert panel.root.locator("img[src='x'], svg[onload]").count() == 0
    assert lab_page.page.evaluate("() => typeof window.__xss") == "undefined"
    assert lab_page.watch.dialogs == []
    assert [m for m in lab_page.watch.console if XSS_MARKER in m] == []
    panel.screenshot("panel-xss-inert.png")


def test_delete_after_confirmation(
    lab_page: LabPage, seeded_sessions: list[str], lab_dirs: LabDirs
) -> None:
    panel = Panel.open(lab_page)
    expect(panel.rows).to_have_count(len(seeded_sessions))
    plain_row = panel.row(PLAIN)
    expect(plain_row).to_have_count(1)
    before = panel.rows.count()
    expect(panel.button("Confirm delete")).to_be_hidden()

    panel.choose(PLAIN)
    panel.button("Delete").click()
    expect(panel.button("Cancel")).to_be_visible()
    panel.button("Confirm delete").click()

    expect(panel.rows).to_have_count(before - 1, timeout=UI_TIMEOUT_MS)
    expect(plain_row).to_have_count(0)
    assert sorted(panel.listed_ids()) == sorted(s for s in seeded_sessions if s != PLAIN)
    expect(panel.button("Confirm delete")).to_be_hidden()
    assert not (lab_dirs.data_dir / "session-state" / PLAIN).exists()
    panel.screenshot("panel-after-delete.png")


def test_star_lists_a_session_first_and_unstar_restores(
    lab_page: LabPage, seeded_sessions: list[str]
) -> None:
    panel = Panel.open(lab_page)
    expect(panel.rows).to_have_count(len(seeded_sessions))
    before = panel.listed_ids()
    assert before[0] != STAR, f"{STAR} is the oldest session, not the first: {before}"

    panel.choose(STAR)
    expect(panel.details).to_contain_text(STAR)
    expect(panel.details).not_to_contain_text("★")
    panel.button("☆ Star").click()

    expect(panel.status).to_have_text(f"Starred {STAR}: listed first, and clean-ups keep it.")
    expect(panel.rows.first).to_have_attribute("data-id", STAR)
    assert panel.listed_ids() == [STAR, *(i for i in before if i != STAR)]
    assert [row["id"] for row in panel.cells() if row["star"] == "★"] == [STAR]
    expect(panel.rows.first).to_have_class(re.compile(r"\bselected\b"))  # still selected
    expect(panel.details).to_contain_text("★ starred")
    expect(panel.button("★ Unstar")).to_be_visible()
    panel.screenshot("panel-controls.png")

    panel.button("★ Unstar").click()

    expect(panel.status).to_have_text(f"Took the star away from {STAR}.")
    expect(panel.rows.first).to_have_attribute("data-id", before[0])
    assert panel.listed_ids() == before
    assert not any(row["star"] for row in panel.cells())
    expect(panel.details).not_to_contain_text("★")
    expect(panel.button("☆ Star")).to_be_visible()


def test_rename_shows_the_title_and_refuses_a_blank_one_in_one_line(
    lab_page: LabPage, seeded_sessions: list[str]
) -> None:
    panel = Panel.open(lab_page)
    expect(panel.rows).to_have_count(len(seeded_sessions))
    title_box = panel.box("New title")
    expect(title_box).to_be_hidden()

    panel.choose(RENAME)
    panel.button("Rename").click()
    expect(title_box).to_be_visible()
    expect(title_box).not_to_have_value("")  # the title it has, to edit
    title_box.fill(NEW_TITLE)
    panel.button("OK").click()

    expect(panel.status).to_have_text(f"Renamed {RENAME}: {NEW_TITLE}")
    expect(panel.row(RENAME)).to_contain_text(NEW_TITLE)
    expect(panel.details).to_contain_text(f"{RENAME} · {NEW_TITLE} · usage:")
    expect(title_box).to_be_hidden()

    panel.button("Rename").click()
    expect(title_box).to_have_value(NEW_TITLE)
    title_box.fill("   ")
    panel.button("OK").click()

    expect(panel.status).to_have_text(BLANK_TITLE_REFUSED)
    expect(panel.status).to_have_count(1)
    assert panel.status.inner_text().strip().splitlines() == [BLANK_TITLE_REFUSED]
    assert "Traceback" not in lab_page.outputs_text()
    assert "Error" not in lab_page.outputs_text()
    expect(title_box).to_be_visible()  # still open, to fix the title
    expect(panel.row(RENAME)).to_contain_text(NEW_TITLE)
    panel.screenshot("panel-rename-refused.png")

    panel.button("Cancel").click()  # the panel still answers
    expect(title_box).to_be_hidden()
    panel.button("Load").click()
    expect(panel.status).to_have_text(f"Loaded {RENAME}.")
    expect(panel.history).to_contain_text("browser rename: a question")
    assert "Traceback" not in lab_page.outputs_text()


def test_fork_after_confirmation_leaves_the_source_unchanged(
    fork_deleted: str, lab_page: LabPage, seeded_sessions: list[str], lab_dirs: LabDirs
) -> None:
    source = _events(lab_dirs, FORK)
    panel = Panel.open(lab_page)
    expect(panel.rows).to_have_count(len(seeded_sessions))
    before = panel.listed_ids()
    handle_box = panel.box("New session id")
    expect(handle_box).to_be_hidden()

    panel.choose(FORK)
    status = panel.status.inner_text()
    panel.button("Fork").click()
    expect(handle_box).to_have_value(f"{FORK}-fork")
    expect(panel.root).to_contain_text(f"Fork {FORK} (2 turns) into")
    panel.button("Cancel").click()

    expect(handle_box).to_be_hidden()
    expect(panel.button("Confirm fork")).to_be_hidden()
    assert panel.listed_ids() == before
    expect(panel.status).to_have_text(status)
    assert _events(lab_dirs, FORK) == source
    assert SessionMarks(lab_dirs.data_dir).runtime_id(f"{FORK}-fork") is None

    panel.button("Fork").click()
    handle_box.fill(fork_deleted)
    panel.screenshot("panel-fork-confirm.png")
    panel.button("Confirm fork").click()

    expect(panel.row(fork_deleted)).to_have_count(1, timeout=UI_TIMEOUT_MS)
    expect(panel.status).to_contain_text(f"Forked {FORK} into {fork_deleted} (all 2 turns)")
    expect(panel.row(fork_deleted)).to_contain_text("(fork)")
    expect(panel.row(fork_deleted).locator(".cst-turns")).to_have_text("2")
    expect(panel.details).to_contain_text(fork_deleted)  # the fork is selected
    expect(handle_box).to_be_hidden()
    assert sorted(panel.listed_ids()) == sorted([*before, fork_deleted])
    assert _events(lab_dirs, FORK) == source, "forking changed the source's events"
    panel.screenshot("panel-after-fork.png")

    panel.button("Delete").click()  # the other tests count the sessions
    panel.button("Confirm delete").click()
    expect(panel.row(fork_deleted)).to_have_count(0, timeout=UI_TIMEOUT_MS)
    assert SessionMarks(lab_dirs.data_dir).runtime_id(fork_deleted) is None
    assert _events(lab_dirs, FORK) == source


def test_rewind_after_confirmation_removes_the_turn_everywhere(
    lab_page: LabPage, seeded_sessions: list[str], lab_dirs: LabDirs
) -> None:
    assert _files_holding(lab_dirs, REWOUND_WORD), "the search would find nothing anyway"
    panel = Panel.open(lab_page)
    expect(panel.rows).to_have_count(len(seeded_sessions))
    panel.load(REWIND)
    expect(panel.turns).to_have_count(2)
    expect(panel.history).to_contain_text(REWOUND_WORD)

    panel.button("Rewind").click()
    expect(panel.root).to_contain_text(f"turn(s) of {REWIND} (2 turns), from its history")
    panel.screenshot("panel-rewind-confirm.png")
    panel.button("Confirm rewind").click()

    expect(panel.status).to_contain_text(f"Removed 1 turn from {REWIND} (")
    expect(panel.status).to_contain_text("1 turn left.")
    expect(panel.button("Confirm rewind")).to_be_hidden()
    expect(panel.row(REWIND).locator(".cst-turns")).to_have_text("1")
    panel.load(REWIND)
    expect(panel.status).to_have_text(f"Loaded {REWIND}.")
    expect(panel.turns).to_have_count(1)
    expect(panel.history).to_contain_text("browser rewind: kept question")
    expect(panel.history).not_to_contain_text(REWOUND_WORD)
    assert _files_holding(lab_dirs, REWOUND_WORD) == []
    panel.screenshot("panel-after-rewind.png")


def test_details_line_shows_the_usage(lab_page: LabPage, seeded_sessions: list[str]) -> None:
    panel = Panel.open(lab_page)
    expect(panel.rows).to_have_count(len(seeded_sessions))

    panel.choose(ABSTAIN)

    expect(panel.details).to_contain_text(ABSTAIN)
    expect(panel.details).to_have_text(USAGE)
    expect(panel.details).to_be_visible()
    text = panel.details.inner_text()
    found = USAGE.search(text)
    assert found, text
    tokens_in, tokens_out = (int(group.replace(",", "")) for group in found.groups())
    assert tokens_in > 0, text
    assert tokens_out > 0, text
    panel.screenshot("panel-usage.png")
