"""What a person sees, in JupyterLab and Notebook 7, in light and dark themes.

Each test writes a notebook whose first cell points the kernel at a data
directory of the test's own (so the panel tests' sessions are not touched),
runs it in the real frontend, and asserts what is on screen from the rendered
page itself: colours read with ``getComputedStyle`` and turned into WCAG
contrast ratios, positions from ``getBoundingClientRect``, texts as shown. The
screenshots go to ``artifacts/screenshots/``; ``make screenshots`` copies the
README's from there.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from playwright.sync_api import Locator, expect

from .conftest import DARK, LIGHT, UI_TIMEOUT_MS, LabPage

pytestmark = pytest.mark.browser

SLOW = "[[echo:chunks=60]] [[echo:delay=0.05]]"  # about 3 s of streaming
CODE_REPLY = (
    "Here is the summary.\n\n```python\nimport pandas as pd\n\n"
    "def summarise(df: pd.DataFrame) -> pd.DataFrame:\n"
    '    """Total and mean of ``amount`` per region."""\n'
    "    out = df.groupby('region').amount.agg(total='sum', mean='mean', orders='count')  "
    "# a line long enough that it must scroll sideways rather than wrap in the middle of a "
    "string, as a wide table's code often does\n"
    "    return out.sort_values('total', ascending=False)\n```\n\n"
    "| region | total | share |\n|:--|--:|--:|\n| North | 1,204 | 31 % |\n| West | 763 | 20 % |\n\n"
    "See [the pandas guide](https://pandas.pydata.org/docs/) and `df.groupby`.\n"
)
# WCAG 2 contrast ratio of an element's text against what is behind it, from the page's own
# computed colours (backgrounds with alpha are laid over each other, up to the page; a
# color-mix() is computed as a color(srgb ...)).
CONTRAST = """(el) => {
  const parse = (c) => {  // rgb(a) or, for a color-mix(), color(srgb r g b / a) in 0..1
    const srgb = c.startsWith('color(srgb');
    const p = c.match(/\\(([^)]+)\\)/)[1].replace('srgb', '').split(/[ ,\\/]+/)
      .filter(Boolean).map(Number);
    const k = srgb ? 255 : 1;
    return {r: p[0] * k, g: p[1] * k, b: p[2] * k, a: p.length > 3 ? p[3] : 1};
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a), a: 1});
  const layers = [];
  for (let node = el; node; node = node.parentElement) {
    const colour = parse(getComputedStyle(node).backgroundColor);
    if (colour.a > 0) { layers.push(colour); if (colour.a >= 1) break; }
  }
  let back = {r: 255, g: 255, b: 255, a: 1};
  while (layers.length) back = over(layers.pop(), back);
  const text = over(parse(getComputedStyle(el).color), back);
  const lum = (c) => ['r', 'g', 'b'].map((k) => {
    const v = c[k] / 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  }).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const [hi, lo] = [lum(text), lum(back)].sort((a, b) => b - a);
  return (hi + 0.05) / (lo + 0.05);
}"""
APPS = ["lab", "notebook"]
THEMES = (LIGHT, DARK)


def _id(value: object) -> str:
    return {LIGHT: "light", DARK: "dark"}.get(str(value), str(value))


def _cells(data_dir: Path, *sources: str) -> list[str]:
    """The notebook: its own data directory, the extension, then ``sources``."""
    return [
        f"%load_ext copilot_magic\n%config CopilotMagics.data_dir = {str(data_dir)!r}",
        *sources,
    ]


def _contrast(element: Locator) -> float:
    return float(element.evaluate(CONTRAST))


def _style(element: Locator, name: str) -> str:
    return str(element.evaluate(f"(el) => getComputedStyle(el)['{name}']"))


def _shot(lab: LabPage, name: str, theme: str) -> None:
    lab.screenshot(f"{name}-{lab.app}-{_id(theme)}.png")


@pytest.mark.parametrize("app", APPS)
def test_a_reply_with_code_a_table_and_a_link_reads_well(
    lab_page: LabPage, tmp_path: Path, app: str
) -> None:
    """Run once, then looked at in the light theme and again in the dark one."""
    cell = f"%%copilot\nShow me the summary code. [[echo:say=\n\n{CODE_REPLY}]]"
    lab_page.open_notebook(_cells(tmp_path, "%copilot_session look-code", cell), app)
    lab_page.run_all()
    reply = lab_page.page.locator(".copilot-reply").last
    block = reply.locator(".copilot-code-block")
    expect(block).to_have_count(1, timeout=UI_TIMEOUT_MS)
    expect(reply.locator(".copilot-writing")).to_have_count(0, timeout=UI_TIMEOUT_MS)
    output = lab_page.page.locator(".jp-OutputArea-output").filter(has=reply)
    for theme in THEMES:
        lab_page.set_theme(theme)
        _a_reply_reads_well(lab_page, reply, output, theme)

    lab_page.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    block.locator("button.copilot-copy").click()
    expect(block.locator("button.copilot-copy")).to_have_text("Copied")
    copied = lab_page.page.evaluate("() => navigator.clipboard.readText()")
    assert copied.startswith("import pandas as pd\n")
    assert "return out.sort_values('total', ascending=False)" in copied


def _a_reply_reads_well(lab: LabPage, reply: Locator, output: Locator, theme: str) -> None:
    """The code block, table, link and text of ``reply`` as ``theme`` shows them."""
    block = reply.locator(".copilot-code-block")
    assert _style(block, "backgroundColor") != _style(output, "backgroundColor"), (
        f"{_id(theme)}: the code block has no background of its own"
    )
    code = block.locator("pre.copilot-code")
    default = _style(code, "color")
    keyword, string = code.locator(".kn, .k").first, code.locator(".s1, .s2, .sd").first
    assert _style(keyword, "color") != default, f"{_id(theme)}: keywords are not highlighted"
    assert _style(string, "color") not in (default, _style(keyword, "color"))
    assert _style(code, "whiteSpace") == "pre"
    assert code.evaluate("(el) => el.scrollWidth > el.clientWidth"), "the long line wrapped"
    assert code.evaluate("(el) => getComputedStyle(el).overflowX") == "auto"
    expect(block.locator("button.copilot-copy")).to_have_text("Copy")
    expect(block.locator(".copilot-code-hint")).to_contain_text("%copilot_code 1")
    assert _contrast(reply.locator("p").first) >= 4.5, _id(theme)

    header = reply.locator("th").first
    assert float(_style(header, "borderBottomWidth").removesuffix("px")) >= 1
    assert _style(reply.locator("td").nth(1), "textAlign") == "right"
    link = reply.locator("a")
    assert _style(link, "color") != _style(reply.locator("p").first, "color")
    assert "underline" in _style(link, "textDecorationLine")
    inline = reply.locator("p code")
    assert _style(inline, "backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")

    reply.scroll_into_view_if_needed()
    cell = lab.page.locator(".jp-Notebook .jp-Cell").filter(has=reply)  # the prompt with it
    lab.screenshot(f"readme-reply-{lab.app}-{_id(theme)}.png", cell)
    _shot(lab, "reply", theme)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
@pytest.mark.parametrize("app", ["lab"])
def test_a_refused_connection_shows_one_retry_line_and_one_failure_line(
    lab_page: LabPage, tmp_path: Path, app: str
) -> None:
    """In JupyterLab only: the runtime retries for about 24 s before the failure line, and
    Notebook 7 draws the same output area (its replies, notices and stderr are looked at in
    the tests above and below)."""
    down = f"http://127.0.0.1:{_closed_port()}/v1"
    sources = [
        "%copilot_session look-down",
        f"%config CopilotMagics.provider_url = {down!r}",
        "%%copilot\nanyone there?",
    ]
    lab_page.open_notebook(_cells(tmp_path, *sources), app)
    lab_page.run_all()
    page = lab_page.page
    failure = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    expect(failure).to_have_count(1, timeout=90_000)  # the runtime retries for about 24 s
    lines = failure.inner_text().strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("TurnFailed: Copilot could not reply: Could not connect")
    assert "Check that the service is running" in lines[0]
    reply = page.locator(".copilot-reply").last
    notices = reply.locator(".copilot-notice")
    expect(notices).to_have_count(1)
    expect(notices).to_have_text(re.compile(r"^↻ .+ \(\d+ times in \d+ s\)$"))
    expect(reply).not_to_contain_text("Waiting for Copilot")
    expect(reply).not_to_contain_text("failed")
    failure.scroll_into_view_if_needed()
    _shot(lab_page, "failure", LIGHT)
    cell = lab_page.page.locator(".jp-CodeCell").filter(has=failure)
    lab_page.screenshot(f"readme-failure-{lab_page.app}-light.png", cell)


@pytest.mark.parametrize("app", APPS)
def test_a_streaming_reply_says_writing_until_it_ends(
    lab_page: LabPage, tmp_path: Path, app: str
) -> None:
    sources = ["%copilot_session look-stream", f"%%copilot\na slow story {SLOW}"]
    lab_page.open_notebook(_cells(tmp_path, *sources), app)
    lab_page.run_all()
    reply = lab_page.page.locator(".copilot-reply").last
    writing = reply.locator(".copilot-writing")
    expect(writing).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(writing).to_have_text("✎ writing…")
    expect(reply).to_contain_text("I received 1 user message")  # text came, still writing
    expect(writing).to_have_count(0, timeout=UI_TIMEOUT_MS)
    expect(reply).to_contain_text('The last was: "a slow story".')


@pytest.mark.parametrize("app", APPS)
def test_an_interrupt_is_one_calm_line_under_the_partial_reply(
    lab_page: LabPage, tmp_path: Path, app: str
) -> None:
    sources = ["%copilot_session look-stop", f"%%copilot\na long story {SLOW} {SLOW}"]
    lab_page.open_notebook(_cells(tmp_path, *sources, "print('the next cell ran')"), app)
    lab_page.run_all()
    page = lab_page.page
    reply = page.locator(".copilot-reply").last
    expect(reply.locator(".copilot-writing")).to_be_visible(timeout=UI_TIMEOUT_MS)
    # Interrupted only once more than the reply's first word has shown (at the first
    # piece alone, "I", there is no partial text to keep beyond it).
    partial = reply.locator("p").first
    expect(partial).to_have_text(re.compile(r"^I \w"), timeout=UI_TIMEOUT_MS)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:interrupt-kernel')")
    status = reply.locator(".copilot-status")
    expect(status).to_have_text(re.compile(r"^⏹ Interrupted: .* ready for the next cell\.$"))
    assert _contrast(status) >= 4.5
    stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    expect(stderr).to_have_count(0)
    expect(partial).to_have_text(re.compile(r"^I \w"))  # the partial text, kept
    # Run All goes on after a calm stop: the next cell ran.
    ran = page.locator(".jp-OutputArea-output pre", has_text="the next cell ran")
    expect(ran).to_be_visible(timeout=UI_TIMEOUT_MS)
    _shot(lab_page, "interrupted", LIGHT)


# -- the session browser ------------------------------------------------------------------------
LONG_TITLE = (
    "A title long enough that the table cuts it, with the whole of it shown on hover, "
    "as real titles are"
)
PANEL_SESSIONS = [
    "%copilot_session look-plain\n",
    "%%copilot\nfirst question of the plain one",
    "%copilot_session look-abstain",
    "%%copilot\nplease abstain [[echo:abstain]]",
    "%copilot_session look-with-a-rather-long-name-for-a-session",
    "%%copilot\nanother question",
    f"%copilot_session --rename look-with-a-rather-long-name-for-a-session {LONG_TITLE!r}",
]


def _panel(lab: LabPage, data_dir: Path, app: str, *more: str, theme: str = LIGHT) -> Locator:
    lab.open_notebook(_cells(data_dir, *PANEL_SESSIONS, *more, "%copilot_sessions"), app)
    if theme != LIGHT:
        lab.set_theme(theme)
    lab.run_all()
    lab.wait_for_output(".copilot-session-browser")
    return lab.page.locator(".copilot-session-browser")


@pytest.mark.parametrize("app", APPS)
def test_abstentions_read_well_in_the_table_and_the_transcript(
    lab_page: LabPage, tmp_path: Path, app: str
) -> None:
    """Run once, then looked at in the light theme and again in the dark one."""
    panel = _panel(lab_page, tmp_path, app)
    row = panel.locator('tbody tr[data-id="look-abstain"]')
    badge = row.locator(".cst-badge")
    expect(badge).to_have_text("1")
    for theme in THEMES:  # the row as the table shows it, not selected
        lab_page.set_theme(theme)
        assert _contrast(badge) >= 4.5, _id(theme)
        for cell in ("cst-id", "cst-title", "cst-last", "cst-turns"):
            assert _contrast(row.locator(f".{cell}")) >= 4.5, f"{_id(theme)}: {cell}"
    row.click()
    panel.get_by_role("button", name="Load", exact=True).click()
    history = panel.locator(".copilot-history")
    pill = history.locator(".copilot-badge")
    expect(pill).to_contain_text("Copilot abstained")
    for theme in THEMES:  # the transcript it loads
        lab_page.set_theme(theme)
        assert _contrast(pill) >= 4.5, _id(theme)
        assert _contrast(history.locator(".copilot-turn-user div").nth(1)) >= 4.5, _id(theme)
        heading = panel.locator(".widget-html-content", has_text="🛑 1 abstained").locator("span")
        assert _contrast(heading) >= 4.5, _id(theme)
        _shot(lab_page, "panel", theme)
        lab_page.screenshot(f"readme-panel-{lab_page.app}-{_id(theme)}.png", panel)


@pytest.mark.parametrize("app", APPS)
def test_the_table_lines_up_and_a_delete_selects_a_neighbour(
    lab_page: LabPage, tmp_path: Path, app: str
) -> None:
    panel = _panel(lab_page, tmp_path, app, "%copilot_session look-plain")  # active: plain
    rows = panel.locator("tbody tr[data-id]")
    expect(rows).to_have_count(3)
    lefts = panel.locator("table").evaluate(
        """(table) => [...table.rows].map((row) =>
            [...row.cells].map((cell) => Math.round(cell.getBoundingClientRect().left)))"""
    )
    assert all(line == lefts[0] for line in lefts), f"columns out of line: {lefts}"
    title = panel.locator('tr[data-id="look-with-a-rather-long-name-for-a-session"] .cst-title')
    expect(title).to_have_attribute("title", LONG_TITLE)
    assert title.evaluate("(el) => el.scrollWidth > el.clientWidth"), "the title was not cut"
    expect(panel.locator('tr[data-id="look-plain"] .cst-last')).to_have_attribute(
        "title", re.compile(r"^last active \d{4}-\d\d-\d\d \d\d:\d\d")
    )
    ids = rows.evaluate_all("(rows) => rows.map((row) => row.dataset.id)")
    selected = panel.locator("tr.selected")
    shown = panel.locator(".copilot-history-header")
    expect(selected).to_have_attribute("data-id", "look-plain")  # it opens on the active one
    expect(shown).to_contain_text("look-plain")
    panel.locator(f'tr[data-id="{ids[0]}"]').click()
    for key, expected in (("End", ids[-1]), ("Home", ids[0]), ("ArrowDown", ids[1])):
        panel.locator(".cst-scroll").press(key)  # the keys move the selection
        expect(selected).to_have_attribute("data-id", expected)
    active = ids.index("look-plain")
    doomed = ids[active - 1] if active else ids[active + 1]  # a row beside the active one
    at = ids.index(doomed)
    around = [*ids[at + 1 :], *reversed(ids[:at])]
    neighbour = next(i for i in around if i != "look-plain")
    panel.locator(f'tr[data-id="{doomed}"]').click()
    expect(selected).to_have_attribute("data-id", doomed)
    expect(shown).to_contain_text(doomed)  # the transcript follows the selection
    panel.get_by_role("button", name="Delete", exact=True).click()
    panel.get_by_role("button", name="Confirm delete", exact=True).click()
    expect(rows).to_have_count(2, timeout=UI_TIMEOUT_MS)
    expect(selected).to_have_attribute("data-id", neighbour)
    expect(shown).to_contain_text(neighbour)
    _shot(lab_page, "panel-after-delete", LIGHT)
    panel.get_by_role("button", name="Rewind", exact=True).click()
    expect(panel.locator(".copilot-rewind-preview")).to_contain_text("turn 1: “")
    _shot(lab_page, "panel-rewind-asks", LIGHT)


@pytest.mark.parametrize("app", APPS)
def test_a_reopened_notebook_shows_the_saved_list_and_no_widget_error(
    lab_page: LabPage, tmp_path: Path, app: str
) -> None:
    panel = _panel(lab_page, tmp_path, app)
    expect(panel.locator("tbody tr[data-id]")).to_have_count(3)
    snapshot = lab_page.page.locator(".copilot-panel-static")
    expect(snapshot).to_be_hidden()  # the live browser is there
    lab_page.save()
    lab_page.server.shutdown_notebook_kernels(lab_page.notebook)
    lab_page.reopen()
    expect(snapshot).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(snapshot).to_contain_text("3 sessions")
    expect(snapshot.locator("tbody tr")).to_have_count(3)
    expect(snapshot).to_contain_text("look-abstain")
    expect(lab_page.page.get_by_text("Error displaying widget")).to_be_hidden()
    assert "Error displaying widget" not in lab_page.page.locator("body").inner_text()
    snapshot.scroll_into_view_if_needed()
    _shot(lab_page, "reopened", LIGHT)
