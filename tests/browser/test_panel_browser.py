"""The session browser (``%copilot_sessions``) in a real JupyterLab, in headless Chromium.

The sessions are made beforehand with the real runtime and the echo model,
from the test process, in the data directory the server's kernels use. Each
test opens a notebook that loads the extension and shows the panel, then
works the panel as a person would: select a session, press buttons, read.
The tests rely only on the panel's DOM contract: the CSS classes
``copilot-session-browser``, ``copilot-history``, ``copilot-abstained`` and
``copilot-status-line``, a ``<select>`` whose options start with the session
id and a space, the filter box's placeholder, and the buttons' labels.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, expect
from runtime_support import converse

from copilot_magic.config import Settings
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
SEEDED = {
    PLAIN: ["browser plain: first question", "browser plain: second question"],
    ABSTAIN: ["browser abstain: warm-up question", "please abstain now [[echo:abstain]]"],
    XSS: [f"xss-probe [[echo:say={XSS_PAYLOAD}]]"],
}
PANEL_NOTEBOOK = ["%load_ext copilot_magic", "%copilot_sessions"]


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


# -- the panel ----------------------------------------------------------------------------------
class Panel:
    """The session browser on the page, reached only through its DOM contract."""

    def __init__(self, lab: LabPage) -> None:
        self.lab = lab
        self.root = lab.page.locator(".copilot-session-browser")
        # The session list (the Sort dropdown is another <select>, hence the class).
        self.select = self.root.locator(".copilot-session-list select")
        self.options = self.select.locator("option")
        self.history = self.root.locator(".copilot-history")
        self.status = self.root.locator(".copilot-status-line")

    @classmethod
    def open(cls, lab: LabPage) -> Panel:
        lab.open_notebook(PANEL_NOTEBOOK)
        lab.run_all()
        lab.wait_for_output(".copilot-session-browser")
        return cls(lab)

    def button(self, label: str) -> Locator:
        return self.root.get_by_role("button", name=label, exact=True)

    def option_texts(self) -> list[str]:
        """The options' texts; ipywidgets writes their spaces as no-break spaces."""
        texts = self.options.evaluate_all("options => options.map(o => o.textContent)")
        return [text.replace("\xa0", " ") for text in texts]

    def listed_ids(self) -> list[str]:
        return [text.split(" ", 1)[0] for text in self.option_texts()]

    def choose(self, session_id: str) -> None:
        """Select the option of ``session_id`` (its text starts with the id and a space)."""
        texts = self.option_texts()
        matches = [i for i, text in enumerate(texts) if text.startswith(f"{session_id} ")]
        assert len(matches) == 1, f"no single option for {session_id}: {texts}"
        self.select.select_option(index=matches[0])
        expect(self.select).to_have_js_property("selectedIndex", matches[0])

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

    expect(panel.options).to_have_count(len(seeded_sessions))
    assert sorted(panel.listed_ids()) == sorted(seeded_sessions)
    expect(panel.root.get_by_placeholder("Filter by id or title")).to_be_visible()
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
    expect(panel.options).to_have_count(len(seeded_sessions))
    plain_option = panel.options.filter(has_text=re.compile(rf"^{re.escape(PLAIN)}\s"))
    expect(plain_option).to_have_count(1)
    before = panel.options.count()
    expect(panel.button("Confirm delete")).to_be_hidden()

    panel.choose(PLAIN)
    panel.button("Delete").click()
    expect(panel.button("Cancel")).to_be_visible()
    panel.button("Confirm delete").click()

    expect(panel.options).to_have_count(before - 1, timeout=UI_TIMEOUT_MS)
    expect(plain_option).to_have_count(0)
    assert sorted(panel.listed_ids()) == sorted(s for s in seeded_sessions if s != PLAIN)
    expect(panel.button("Confirm delete")).to_be_hidden()
    assert not (lab_dirs.data_dir / "session-state" / PLAIN).exists()
    panel.screenshot("panel-after-delete.png")
