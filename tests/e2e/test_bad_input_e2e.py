"""Bad input, through real kernels, the real runtime and the echo model.

Odd characters in prompts, the abstain signal in a prompt, HTML and script
payloads in replies, malformed magic arguments and session ids the runtime
would reject. Each either goes through intact or is refused with one line
(an IPython ``UsageError`` without a traceback); nothing in a reply becomes
live markup. What the magics refuse before asking the store anything (malformed
arguments, unclosed quotes, invalid ids, cells of only invisible characters) is
tested case by case in ``tests/unit/test_bad_input_fake_store.py``; here one
line of each kind runs in a real kernel.

Measured with runtime 1.0.102: the runtime passes every character of a prompt
through unchanged (NUL, C0 and C1 controls, ANSI escapes, CR, DEL, bidi
overrides, zero-width joiners, BOM, U+2028, U+FFFF): the model receives it
and ``events.jsonl`` stores it verbatim.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from reliability import Reliability
from runtime_support import converse

from copilot_magic.errors import InvalidSessionId
from copilot_magic.sessions.catalog import StoreCatalog
from copilot_magic.sessions.files import SessionFiles
from copilot_magic.sessions.ids import RULE, validate_session_id
from copilot_magic.sessions.store import SessionStore
from copilot_magic.ui.arguments import EMPTY_CELL
from copilot_magic.ui.panel import SessionBrowser
from copilot_magic.views.markdown import COPY_SCRIPT
from copilot_magic.views.styles import style_sheet

from .cells import copilot_cell, error_shown, reply_of
from .cli_runner import Ran
from .kernels import Kernel

SIGNAL = "[[POR_ABSTAIN]]"
BANNER = "🛑 Copilot abstained"


def bad_input(case: str) -> pytest.MarkDecorator:
    return pytest.mark.reliability("Bad input", case)


def runtime_started(kernel: Kernel) -> bool:
    """Whether the kernel's copilot_magic has started a runtime process."""
    shown = kernel.execute("print(get_ipython()._copilot_magics.store.bridge.runtime_pid)")
    return shown.stdout.strip() != "None"


def raw_controls(text: str) -> list[str]:
    """The control characters in ``text`` other than newline and tab, escaped."""
    return [ascii(c) for c in text if c not in "\n\t" and (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F)]


# -- 1. Control characters and unusual Unicode in a prompt ----------------------------------------
ODD_PROMPTS = {
    "NUL": "before\x00after",
    "SOH": "start\x01of heading",
    "BEL": "ding\x07dong",
    "backspace": "abc\x08d",
    "ANSI colour": "\x1b[31mred\x1b[0m text",
    "OSC window title": "\x1b]0;pwned\x07title",
    "CR": "line one\rline two",
    "DEL": "x\x7fy",
    "C1 CSI": "a\x9b31mb",
    "RTL override": "abc\u202edef",
    "zero-width joiners": "family 👨\u200d👩\u200d👧 ok",
    "zero-width space": "zero\u200bwidth",
    "byte order mark": "\ufeffbom first",
    "line separator": "a\u2028b",
    "noncharacter": "a\uffffb",
}


class _Markup(HTMLParser):
    """The elements and the visible text of an HTML fragment."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.texts: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.texts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.texts)


def visible_text(html: str) -> str:
    return _Markup(html).text


LIVE_TAGS = {
    "script",
    "iframe",
    "frame",
    "svg",
    "math",
    "style",
    "object",
    "embed",
    "form",
    "base",
    "meta",
    "link",
}
URL_ATTRIBUTES = {"href", "src", "xlink:href", "action", "formaction", "srcset", "data", "poster"}


def live_markup(html: str) -> list[str]:
    """What in ``html`` a browser would run: script-capable elements, handlers, script URLs.

    copilot_magic's own parts are not the model's: its one style sheet, and each code
    block's Copy button, whose handler is the one fixed script."""
    found = []
    for tag, attrs in _Markup(html.replace(style_sheet(), "")).elements:
        if tag in LIVE_TAGS:
            found.append(f"<{tag}>")
        for name, value in attrs:
            if name == "onclick" and tag == "button" and value == COPY_SCRIPT:
                continue
            if name.startswith("on"):
                found.append(f"<{tag} {name}>")
            if name in URL_ATTRIBUTES and value:
                url = re.sub(r"[\x00-\x20]", "", value).lower()  # browsers ignore these
                scheme = url.split("/", 1)[0]
                if ":" in scheme and not url.startswith(("http:", "https:", "mailto:")):
                    found.append(f"<{tag} {name}={url.split(':', 1)[0]}:>")
    return found


@bad_input("Control characters and invisible Unicode in a prompt")
def test_prompts_with_control_and_invisible_characters_go_through_verbatim(
    start_kernel: Callable[[], Kernel], data_dir: Path, reliability: Reliability
) -> None:
    reliability.tried(
        "send one %%copilot cell each: " + ", ".join(ODD_PROMPTS), times=len(ODD_PROMPTS)
    )
    kernel = start_kernel()
    kernel.execute("%copilot_session bi-odd")
    for turn, (name, prompt) in enumerate(ODD_PROMPTS.items(), 1):
        reply = reply_of(kernel.execute(copilot_cell(prompt)))
        assert reply["metadata"]["copilot_magic"]["stage"] == "done", name
        assert reply["metadata"]["copilot_magic"]["turn"] == turn, name
        # The model received the prompt exactly as typed: the echo quotes it.
        assert f'The last was: "{prompt}".' in reply["data"]["text/plain"], name
        html = reply["data"]["text/html"]
        assert "\x00" not in html, name
        # Rendered as CommonMark does: NUL becomes U+FFFD, a lone CR a line break.
        shown = prompt.replace("\x00", "\ufffd").replace("\r", "\n")
        assert f'The last was: "{shown}".' in visible_text(html), name

    stored = [turn.prompt for turn in SessionFiles(data_dir, SIGNAL).turns("bi-odd")]
    assert stored == list(ODD_PROMPTS.values())
    reliability.held(
        f"{len(ODD_PROMPTS)} of {len(ODD_PROMPTS)} replies rendered with no error; the model "
        f"got and the history stores all {len(stored)} prompts byte for byte; the cell HTML "
        "shows NUL as U+FFFD"
    )


@bad_input("Control characters in --history, --list and copilot-magic show")
def test_history_list_and_show_print_control_characters_as_escapes(
    start_kernel: Callable[[], Kernel],
    run_cli: Callable[..., Ran],
    reliability: Reliability,
) -> None:
    """Prompts and replies reach terminals and notebook streams as text: a control character
    in them (from the person or from the model) must not move the cursor, recolour, retitle
    or erase what is shown. Newlines and tabs stay; other controls appear as escapes."""
    controls = ["NUL", "BEL", "backspace", "ANSI colour", "OSC window title", "CR", "DEL"]
    reliability.tried(
        "print a session whose prompts and replies hold " + ", ".join(controls) + " with "
        "%copilot_session --history and --list, and copilot-magic show and list",
        times=4,
    )
    kernel = start_kernel()
    kernel.execute("%copilot_session bi-terminal")
    for name in controls:
        reply_of(kernel.execute(copilot_cell(ODD_PROMPTS[name])))
    history = kernel.execute("%copilot_session --history").printed
    listing = kernel.execute("%copilot_session --list").printed
    kernel.shutdown()
    shown = run_cli("show", "bi-terminal")
    listed = run_cli("list")

    for view, text in [
        ("--history", history),
        ("--list", listing),
        ("copilot-magic show", shown.out),
        ("copilot-magic list", listed.out),
    ]:
        assert raw_controls(text) == [], view
    assert "\\x1b[31mred\\x1b[0m text" in history
    assert "line one\\rline two" in history
    assert "\\x1b]0;pwned\\x07title" in shown.out
    assert "before\\x00after" in listing  # the title: the first prompt
    reliability.held("4 of 4 views printed every control character as an escape")


# -- 2. The abstain signal in a prompt ------------------------------------------------------------
def listed_abstentions(run_cli: Callable[..., Ran], session_id: str) -> int:
    ran = run_cli("list", "--json")
    assert ran.status == 0, ran.err
    (entry,) = [e for e in json.loads(ran.out) if e["id"] == session_id]
    return int(entry["abstentions"])


def panel_view(store: SessionStore, session_id: str) -> tuple[str, str, str]:
    """The panel's list label, transcript header and transcript HTML of a session."""
    browser = SessionBrowser(StoreCatalog(store))
    label = next(label for label, value in browser.list.options if value == session_id)
    browser.list.value = session_id
    browser.load_button.click()
    assert browser.status_text == f"Loaded {session_id}."
    return label, browser.history_header.value, browser.history.value


@bad_input("The abstain signal in a prompt")
def test_a_prompt_carrying_the_abstain_signal_is_not_an_abstention_but_a_reply_is(
    start_kernel: Callable[[], Kernel],
    open_store: Callable[[], SessionStore],
    run_cli: Callable[..., Ran],
    reliability: Reliability,
) -> None:
    # The echo model quotes every prompt in its reply; inside an echo directive (which it
    # leaves out of its quotes) the signal stays in the prompt but out of the reply.
    prompt = "What does the marker [[echo:quote=[[POR_ABSTAIN]] mean in a reply?"
    assert SIGNAL in prompt
    reliability.tried(
        f"a prompt containing {SIGNAL}, then a reply that abstains, in one session; "
        "checked in the cell, --history, copilot-magic list --json and the panel",
        times=2,
    )
    kernel = start_kernel()
    kernel.execute("%copilot_session bi-signal")
    reply = reply_of(kernel.execute(copilot_cell(prompt)))
    assert SIGNAL not in reply["data"]["text/plain"], "the model's reply carried the signal"
    assert BANNER not in reply["data"]["text/html"]
    assert BANNER not in reply["data"]["text/plain"]
    assert reply["metadata"]["copilot_magic"]["abstained"] is False
    history = kernel.execute("%copilot_session --history").printed
    assert prompt in history, "the prompt was not shown as typed"
    assert BANNER not in history
    assert listed_abstentions(run_cli, "bi-signal") == 0
    label, header, transcript = panel_view(open_store(), "bi-signal")
    assert "🛑" not in label
    assert "abstained" not in header
    assert "copilot-abstained" not in transcript
    assert BANNER not in transcript

    abstained = reply_of(kernel.execute(copilot_cell("Now really: [[echo:abstain]]")))
    assert BANNER in abstained["data"]["text/html"]
    assert abstained["metadata"]["copilot_magic"]["abstained"] is True
    history = kernel.execute("%copilot_session --history").printed
    assert history.count(BANNER) == 1
    assert listed_abstentions(run_cli, "bi-signal") == 1
    label, header, transcript = panel_view(open_store(), "bi-signal")
    assert "🛑 1" in label
    assert "🛑 1 abstained" in header
    assert transcript.count("copilot-abstained") == 1
    reliability.held(
        "the prompt with the signal: no banner, abstained false, 0 abstentions in "
        "--history, list --json and the panel; the abstaining reply: exactly 1 in each"
    )


# -- 3. HTML and script payloads in replies -------------------------------------------------------
FIRST_PROMPT = "<img src=x onerror=alert(7)> first question"
PAYLOAD = (
    "<script>window.__xss=1</script>"
    "<img src=x onerror=alert(1)>"
    "<svg onload=alert(1)><circle r=1></circle></svg>"
    '<a href="javascript:alert(1)">js-link</a>'
    '<iframe src="https://evil.example/frame"></iframe>'
    '<math><mi xlink:href="javascript:alert(2)">m</mi></math>'
    '<a href=" jAvA&#x73;cript:alert(3)">entity-link</a>'
    "<style>body{display:none}</style>"
    " [md-link](javascript:alert(4)) <javascript:alert(5)>"
    " [data-link](data:text/html;base64,PHNjcmlwdD5hbGVydCg2KTwvc2NyaXB0Pg==)"
)
PAYLOAD_PROMPT = f"Show me the markup [[echo:say={PAYLOAD}]]"


def make_html_session(kernel: Kernel, session_id: str) -> list[dict[str, Any]]:
    """Two turns whose replies carry markup: the quoted first prompt, then PAYLOAD."""
    assert "]]" not in PAYLOAD  # the echo model's say= ends at the first ]]
    kernel.execute(f"%copilot_session {session_id}")
    return [reply_of(kernel.execute(copilot_cell(p))) for p in (FIRST_PROMPT, PAYLOAD_PROMPT)]


@bad_input("HTML and script in a reply: cell, panel, exported notebook")
def test_markup_in_replies_is_inert_in_the_cell_the_panel_and_the_exported_notebook(
    start_kernel: Callable[[], Kernel],
    open_store: Callable[[], SessionStore],
    tmp_path: Path,
    reliability: Reliability,
) -> None:
    reliability.tried(
        "replies with <script>, <img onerror>, <svg onload>, javascript: links (also "
        "entity-encoded, and as Markdown links and autolinks), <iframe>, <math>, <style>, a "
        "data: link; looked for live markup in the cell, the panel and an exported .ipynb",
        times=3,
    )
    kernel = start_kernel()
    replies = make_html_session(kernel, "bi-html")
    for reply in replies:
        assert live_markup(reply["data"]["text/html"]) == []
    shown = visible_text(replies[1]["data"]["text/html"])
    assert "<script>window.__xss=1</script><img src=x onerror=alert(1)>" in shown, (
        "the markup does not appear as text"
    )

    _label, header, transcript = panel_view(open_store(), "bi-html")
    assert live_markup(header) == []
    assert live_markup(transcript) == []
    assert "<script>window.__xss=1</script>" in visible_text(transcript)

    path = tmp_path / "bi-html.ipynb"
    exported = kernel.execute(f"%copilot_session --export bi-html {path}")
    assert exported.error is None, exported.error_line
    notebook = nbformat.read(str(path), as_version=4)
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    htmls = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert len(htmls) == 2
    for html in htmls:
        assert live_markup(html) == []
    assert "<script>window.__xss=1</script>" in visible_text(htmls[1])
    reliability.held(
        "no <script>, <iframe>, <svg>, <math>, <style>, on* handler or javascript:/data: URL "
        f"in 2 cell outputs, the panel transcript or the {len(htmls)} exported outputs; the "
        "markup shows as text"
    )


@bad_input("HTML in the first prompt: the exported notebook's header")
def test_the_exported_notebook_header_shows_markup_in_the_title_as_text(
    start_kernel: Callable[[], Kernel], tmp_path: Path, reliability: Reliability
) -> None:
    """The title (the first prompt) goes into the header's Markdown cell. Jupyter renders
    a Markdown cell's HTML, and runs it in a trusted notebook: the title must stay text."""
    reliability.tried(f"export a session whose first prompt is {FIRST_PROMPT!r}")
    kernel = start_kernel()
    kernel.execute("%copilot_session bi-title")
    reply_of(kernel.execute(copilot_cell(FIRST_PROMPT)))
    path = tmp_path / "bi-title.ipynb"
    assert kernel.execute(f"%copilot_session --export bi-title {path}").error is None
    header = nbformat.read(str(path), as_version=4).cells[0]
    assert header.cell_type == "markdown"

    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(header.source)
    assert live_markup(rendered) == []
    assert FIRST_PROMPT in visible_text(rendered)
    reliability.held("the header renders the title as text, with no live markup")


@bad_input("HTML and script in a reply: Markdown export")
def test_the_markdown_export_keeps_markup_in_replies_as_written_text(
    start_kernel: Callable[[], Kernel], tmp_path: Path, reliability: Reliability
) -> None:
    """The .md export holds Copilot's Markdown as written (README, Export). A .md file runs
    nothing; a renderer that passes raw HTML through would, so it carries the payload as
    the reply had it, not sanitised and not dropped."""
    reliability.tried("export a session whose reply carries the script payload to .md")
    kernel = start_kernel()
    make_html_session(kernel, "bi-markdown")
    path = tmp_path / "bi-markdown.md"
    exported = kernel.execute(f"%copilot_session --export bi-markdown {path}")
    assert exported.error is None, exported.error_line
    markdown = path.read_text(encoding="utf-8")
    assert PAYLOAD in markdown
    assert FIRST_PROMPT in markdown
    assert path.suffix == ".md"
    reliability.held("the .md carries the payload verbatim, as Markdown text (no .html written)")


# -- 4. Malformed arguments, unclosed quotes, invalid ids and invisible cells ---------------------
# Each kind is refused in the magics before the store is asked anything; every case of each kind
# is tested in tests/unit/test_bad_input_fake_store.py, in an IPython shell over a fake store.
# Here one line of each kind runs in one real kernel, on the real runtime.
KERNEL_REFUSALS = [
    ("%%copilot --bogus\nhello", "UsageError: unrecognized arguments: --bogus"),
    (
        '%copilot_session --export some-id "notes.ipynb',
        'UsageError: No closing quotation in the arguments: --export some-id "notes.ipynb',
    ),
    ("%copilot_session a\x01b", f"UsageError: Invalid session id 'a\\x01b': {RULE}."),
    ("%%copilot --session bi-blank\n\u200b\ufeff\n\u00a0", f"UsageError: {EMPTY_CELL}"),
]


@bad_input("An unknown option, an unclosed quote, an invalid id, an invisible cell: real kernel")
def test_bad_lines_in_a_real_kernel_are_one_line_usage_errors_and_start_no_runtime(
    start_kernel: Callable[[], Kernel], data_dir: Path, reliability: Reliability
) -> None:
    reliability.tried(
        "run in one kernel: " + "; ".join(ascii(line) for line, _ in KERNEL_REFUSALS),
        times=len(KERNEL_REFUSALS),
    )
    kernel = start_kernel()
    for line, expected in KERNEL_REFUSALS:
        assert error_shown(kernel.execute(line)) == expected, line
    assert not runtime_started(kernel)
    assert not (data_dir / "session-state").exists()
    reliability.held(
        f"{len(KERNEL_REFUSALS)} of {len(KERNEL_REFUSALS)}: the one-line UsageError, no "
        "traceback; the runtime never started; nothing on disk"
    )


@bad_input("Export to a path that cannot be written")
def test_export_to_a_path_that_cannot_be_written_gives_one_line(
    start_kernel: Callable[[], Kernel],
    open_store: Callable[[], SessionStore],
    run_here: Callable[..., Ran],
    tmp_path: Path,
    reliability: Reliability,
) -> None:
    (tmp_path / "a-folder.ipynb").mkdir()
    targets = [tmp_path / "no-such-folder" / "out.ipynb", tmp_path / "a-folder.ipynb"]
    reliability.tried(
        "%copilot_session --export and copilot-magic export to a missing folder and to a "
        "folder named like a notebook",
        times=2 * len(targets),
    )
    store = open_store()  # the session on disk; the magic and the command export it
    converse(store, "bi-export", "hello")
    store.close()
    kernel = start_kernel()
    for target in targets:
        shown = error_shown(kernel.execute(f"%copilot_session --export bi-export {target}"))
        assert "cannot write" in shown.lower()
        assert str(target) in shown
    kernel.shutdown()
    for target in targets:
        ran = run_here("export", "bi-export", str(target))
        assert ran.status == 1
        assert "cannot write" in ran.error_line.lower()
        assert str(target) in ran.error_line
    reliability.held("4 of 4: one line naming the path (ExportFailed; exit status 1), no traceback")


@bad_input("Export to a quoted path with spaces")
def test_a_quoted_export_path_with_spaces_is_written(
    start_kernel: Callable[[], Kernel],
    open_store: Callable[[], SessionStore],
    tmp_path: Path,
    reliability: Reliability,
) -> None:
    target = tmp_path / "my notes.ipynb"
    reliability.tried(f'%copilot_session --export bi-spaces "{target}"')
    store = open_store()  # the session on disk; the magic's quoting is what is tried
    converse(store, "bi-spaces", "hello")
    store.close()
    kernel = start_kernel()
    done = kernel.execute(f'%copilot_session --export bi-spaces "{target}"')
    assert done.error is None, done.error_line
    assert done.stdout.strip() == f"Exported session bi-spaces to {target}"
    nbformat.validate(nbformat.read(str(target), as_version=4))
    reliability.held("written to the path inside the quotes")


@bad_input("Export suffix in capitals (.IPYNB, .Md)")
def test_an_export_suffix_in_capitals_is_a_notebook_or_markdown(
    start_kernel: Callable[[], Kernel],
    open_store: Callable[[], SessionStore],
    run_here: Callable[..., Ran],
    tmp_path: Path,
    reliability: Reliability,
) -> None:
    reliability.tried(
        "%copilot_session --export to x.IPYNB and x.Md, copilot-magic export to y.IpYnB and y.MD",
        times=4,
    )
    store = open_store()  # the session on disk; the magic and the command export it
    converse(store, "bi-caps", "hello in capitals")
    store.close()
    kernel = start_kernel()
    for name in ("x.IPYNB", "x.Md"):
        done = kernel.execute(f"%copilot_session --export bi-caps {tmp_path / name}")
        assert done.error is None, done.error_line
    kernel.shutdown()
    for name in ("y.IpYnB", "y.MD"):
        ran = run_here("export", "bi-caps", str(tmp_path / name))
        assert (ran.status, ran.err) == (0, "")
    for name in ("x.IPYNB", "y.IpYnB"):
        notebook = nbformat.read(str(tmp_path / name), as_version=4)
        nbformat.validate(notebook)
        assert "%%copilot\nhello in capitals" in [cell.source for cell in notebook.cells]
    for name in ("x.Md", "y.MD"):
        assert "hello in capitals" in (tmp_path / name).read_text(encoding="utf-8")
    reliability.held(
        "4 of 4 written: the two notebooks valid nbformat, the two Markdown files text"
    )


# -- 5. Session ids at the limits of what the runtime takes ------------------------------------
@bad_input("Session id of 250 characters, the longest allowed")
def test_the_longest_allowed_id_is_created_listed_and_resumed(
    start_kernel: Callable[[], Kernel], reliability: Reliability
) -> None:
    """The runtime takes ids of up to 250 characters, but session names of only 100."""
    session_id = "long-" + "x" * 245
    reliability.tried(f"create, list and resume a {len(session_id)}-character id")
    kernel = start_kernel()
    created = kernel.execute(f"%copilot_session {session_id}")
    assert created.error is None, created.error_line
    assert created.stdout.strip() == f"Created session {session_id}"
    reply_of(kernel.execute(copilot_cell("remember the word quokka")))
    kernel.shutdown()

    fresh = start_kernel()
    resumed = fresh.execute(f"%copilot_session {session_id}").stdout
    assert resumed.startswith(f"Resumed session {session_id}: 1 turn")
    (row,) = fresh.execute("%copilot_session --list").printed.splitlines()[1:]
    assert row.startswith(f"{session_id}  remember the word quokka  ")
    html = reply_of(fresh.execute(copilot_cell("which word?")))["data"]["text/html"]
    assert 'I received 2 user messages. The first was: "remember the word quokka"' in html
    reliability.held("created, listed with its first prompt as title, resumed with its history")


ALLOWED = string.ascii_letters + string.digits + "-_"
candidate_ids = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{1,250}", fullmatch=True),
    st.text(max_size=300),
    st.builds(
        lambda head, bad, tail: head + bad + tail,
        st.text(ALLOWED, max_size=30),
        st.characters(exclude_characters=ALLOWED),
        st.text(ALLOWED, max_size=30),
    ),
    st.text(ALLOWED, min_size=251, max_size=260),
)


@bad_input("Any id: the validator and the runtime agree")
def test_property_ids_the_validator_accepts_the_runtime_creates_and_others_never_reach_it(
    open_store: Callable[[], SessionStore],
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    reliability: Reliability,
) -> None:
    store = open_store()
    store.bridge.client()  # started once, before any example
    calls: list[str] = []
    for name in ("call", "run", "client"):
        original = getattr(store.bridge, name)

        def spy(*args: Any, _original: Any = original, _name: str = name, **kw: Any) -> Any:
            calls.append(_name)
            return _original(*args, **kw)

        monkeypatch.setattr(store.bridge, name, spy)
    folders = data_dir / "session-state"
    accepted: set[str] = set()
    rejected: set[str] = set()

    @settings(max_examples=25, deadline=None, database=None)
    @given(candidate_ids)
    @example("")
    @example("-")
    @example("--x")
    @example("_")
    @example("x" * 250)
    @example("x" * 251)
    @example("../x")
    @example("a b")
    @example("café")
    @example("a\tb")
    @example("a\x00b")
    @example(".")
    def check(session_id: str) -> None:
        try:
            validate_session_id(session_id)
        except InvalidSessionId:
            before = sorted(folders.iterdir()) if folders.exists() else []
            calls.clear()
            for attempt in (store.open, store.exists, store.history, store.delete):
                with pytest.raises(InvalidSessionId):
                    attempt(session_id)
            assert calls == [], f"{session_id!a} reached the runtime: {calls}"
            assert (sorted(folders.iterdir()) if folders.exists() else []) == before
            rejected.add(session_id)
            return
        opened = store.open(session_id)
        assert opened.session_id == session_id
        assert store.summary(session_id).session_id == session_id  # the runtime's metadata
        assert (folders / session_id).is_dir()
        accepted.add(session_id)

    check()
    reliability.tried(
        "generated ids (valid ones, any text, a valid id with one bad character, 251+ "
        "characters) and 12 edge cases through SessionStore on the real runtime",
        times=len(accepted) + len(rejected),
    )
    assert accepted, "no valid id was tried"
    assert rejected, "no invalid id was tried"
    reliability.held(
        f"{len(accepted)} accepted ids all created by the runtime under that id; "
        f"{len(rejected)} rejected ids refused by open, exists, history and delete with 0 "
        "calls to the runtime and nothing on disk"
    )
