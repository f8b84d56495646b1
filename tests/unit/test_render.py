"""Rendering replies to safe HTML, with banners and status notes, and the update throttle."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from copilot_magic.views.render import (
    ABSTAINED_BANNER,
    Stage,
    UpdateThrottle,
    markdown_to_safe_html,
    reply_html,
    reply_text,
)


class FakeClock:
    """A monotonic clock that moves only when the test sets ``now``."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


DANGEROUS_TAGS = {"script", "iframe", "svg", "img", "object", "embed", "style", "form", "math"}


class _Markup(HTMLParser):
    """The tags and attributes of a fragment (text excluded)."""

    def __init__(self, fragment: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(name.lower(), (value or "")) for name, value in attrs]


def test_renders_headings_code_tables_and_lists() -> None:
    html = markdown_to_safe_html(
        "# Title\n\nSome *em* and **strong** and `code`.\n\n"
        "```python\nprint('x')\n```\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "- one\n- two\n\n3. three\n4. four\n\n~~gone~~ [link](https://example.com)\n"
    )
    assert "<h1>Title</h1>" in html
    assert "<em>em</em>" in html
    assert "<strong>strong</strong>" in html
    assert "<code>code</code>" in html
    assert '<pre class="copilot-code" data-lang="python"><code>' in html
    assert "<table>" in html
    assert "<th>a</th>" in html
    assert "<td>2</td>" in html
    assert "<ul>" in html
    assert "<li>one</li>" in html
    assert '<ol start="3">' in html
    assert "<s>gone</s>" in html
    assert 'href="https://example.com"' in html
    assert "noopener" in html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "![x](javascript:alert(1))",
        "<javascript:alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        '<iframe src="https://example.com"></iframe>',
        "<svg onload=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        '<div onclick="alert(1)">x</div>',
        "text <script>alert(1)</script> in a paragraph\n\n<img src=x onerror=alert(1)>",
    ],
)
def test_untrusted_html_and_links_are_neutralised(payload: str) -> None:
    html = markdown_to_safe_html(payload)
    lowered = html.lower()
    for forbidden in ("<script", "<iframe", "<svg", "<img"):
        assert forbidden not in lowered
    markup = _Markup(html)
    assert not DANGEROUS_TAGS & set(markup.tags)
    for name, value in markup.attributes:
        assert not name.startswith("on")
        assert "javascript:" not in value.lower().replace(" ", "")


@pytest.mark.parametrize(
    "payload", ["<img src=x onerror=alert(1)>", "<svg onload=alert(1)>", "[x](javascript:1)"]
)
def test_payload_survives_only_as_visible_text(payload: str) -> None:
    html = markdown_to_safe_html(payload)
    assert "&lt;" in html or "[x]" in html


def test_abstained_reply_has_banner_and_class_but_no_marker() -> None:
    html = reply_html("I cannot tell.", Stage.DONE, abstained=True)
    assert ABSTAINED_BANNER == "🛑 Copilot abstained"
    assert ABSTAINED_BANNER in html
    assert 'class="copilot-reply copilot-abstained"' in html
    assert "[[POR_ABSTAIN]]" not in html
    assert "I cannot tell." in html


def test_plain_reply_has_no_banner() -> None:
    html = reply_html("Fine.", Stage.DONE)
    assert ABSTAINED_BANNER not in html
    assert "copilot-abstained" not in html
    assert "<p>Fine.</p>" in html


def test_waiting_note_only_without_text() -> None:
    assert "Waiting for Copilot" in reply_html("", Stage.WAITING)
    assert "Waiting for Copilot" not in reply_html("first words", Stage.WAITING)
    assert "Waiting for Copilot" not in reply_html("", Stage.STREAMING)
    assert "Waiting for Copilot" not in reply_html("", Stage.DONE)


def test_interrupted_and_failed_stages_show_their_notes() -> None:
    interrupted = reply_html("partial", Stage.INTERRUPTED)
    assert "Interrupted" in interrupted
    assert "partial" in interrupted
    failed = reply_html("partial", Stage.FAILED, error="model <b>exploded</b>")
    assert "The reply failed." in failed
    assert "model &lt;b&gt;exploded&lt;/b&gt;" in failed
    assert "<b>" not in failed
    assert "copilot-status" not in reply_html("done", Stage.DONE)


def test_notices_are_escaped() -> None:
    html = reply_html("x", Stage.STREAMING, notices=["retry <script>1</script>"])
    assert "retry &lt;script&gt;" in html
    assert "<script" not in html


def test_reply_text_forms() -> None:
    assert reply_text("", Stage.WAITING) == "⏳ Waiting for Copilot…"
    assert reply_text("hi", Stage.DONE) == "hi"
    assert reply_text("no idea", Stage.DONE, abstained=True) == f"{ABSTAINED_BANNER}\nno idea"
    assert reply_text("part", Stage.FAILED, error="boom").endswith("The reply failed. boom")
    assert reply_text("x", Stage.STREAMING, notices=["retrying"]) == "x\n↻ retrying"


def test_throttle_with_fake_clock_allows_at_most_ten_a_second(fake_clock: FakeClock) -> None:
    throttle = UpdateThrottle(10, clock=fake_clock)
    allowed = []
    for i in range(2000):
        fake_clock.now = 1000.0 + i * (1.0 / 2000)
        allowed.append(throttle.ready())
    assert allowed[0]
    assert sum(allowed) <= 11
    assert sum(allowed) >= 9


def test_throttle_with_fake_clock_first_call_is_always_allowed(fake_clock: FakeClock) -> None:
    fake_clock.now = 0.0
    assert UpdateThrottle(10, clock=fake_clock).ready()
    fake_clock.now = -5.0
    assert UpdateThrottle(1, clock=fake_clock).ready()


def test_throttle_with_fake_clock_allows_again_after_interval(fake_clock: FakeClock) -> None:
    throttle = UpdateThrottle(10, clock=fake_clock)
    assert throttle.ready()
    fake_clock.now = 0.05
    assert not throttle.ready()
    fake_clock.now = 0.1
    assert throttle.ready()
    assert not throttle.ready()


def test_a_markdown_image_becomes_a_link_and_never_loads_by_itself() -> None:
    html = markdown_to_safe_html("look ![the data](https://example.invalid/leak?q=secret)")
    assert "<img" not in html
    assert '<a href="https://example.invalid/leak?q=secret"' in html
    assert ">the data</a>" in html


def test_throttle_with_fake_clock_spaces_out_slow_updates(fake_clock: FakeClock) -> None:
    """An update that took 50 ms waits two seconds for the next: updating stays under 2.5%."""
    throttle = UpdateThrottle(10, clock=fake_clock)
    fake_clock.now = 100.0
    assert throttle.ready()
    throttle.took(0.05)
    fake_clock.now = 101.5
    assert not throttle.ready()
    fake_clock.now = 102.0
    assert throttle.ready()
    throttle.took(0.001)  # quick again: back to ten a second
    fake_clock.now = 102.15
    assert throttle.ready()


PYTHON_REPLY = (
    "Here:\n\n```python\nimport pandas as pd\nx = 'a'  # why\n```\n\nAnd:\n\n```bash\nls -la\n```\n"
)


def test_code_blocks_are_highlighted_in_a_box_with_copy_and_the_code_command() -> None:
    html = markdown_to_safe_html(PYTHON_REPLY, "%copilot_code 3")
    assert html.count('<div class="copilot-code-block">') == 2
    assert '<span class="kn">import</span>' in html  # a keyword, as Pygments classes it
    assert (
        '<span class="s1">&#x27;a&#x27;</span>' in html or "<span class=\"s1\">'a'</span>" in html
    )
    assert '<span class="c1"># why</span>' in html
    assert html.count(">Copy</button>") == 2
    assert html.count("<code>%copilot_code 3</code> puts this reply's code in a new cell") == 1
    assert '<span class="copilot-code-lang">bash</span>' in html
    assert "%copilot_code" not in markdown_to_safe_html(PYTHON_REPLY)  # none named: none shown


def test_the_copy_buttons_are_the_only_script_and_a_reply_cannot_add_one() -> None:
    hostile = (
        '<button onclick="alert(1)">Copy</button> <pre class="copilot-code" data-lang="x">'
        "</pre>\n\n```python\nprint(1)\n```\n"
    )
    html = markdown_to_safe_html(hostile)
    handlers = [value for name, value in _Markup(html).attributes if name.startswith("on")]
    assert len(handlers) == 1, handlers  # the one block's Copy button
    assert handlers[0].startswith("navigator.clipboard.writeText(")
    assert "&lt;button onclick=" in html  # the reply's own markup shows as text


def test_table_alignment_is_kept_and_nothing_else_in_a_style() -> None:
    html = markdown_to_safe_html("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n")
    assert '<th style="text-align:left">a</th>' in html
    assert '<td style="text-align:center">2</td>' in html
    assert '<td style="text-align:right">3</td>' in html
    styles = [value for name, value in _Markup(html).attributes if name == "style"]
    assert all(value.startswith("text-align:") for value in styles), styles


def test_a_streaming_reply_says_it_is_writing_until_its_final_update() -> None:
    assert "✎ writing…" in reply_html("partial", Stage.STREAMING)
    for stage in (Stage.DONE, Stage.INTERRUPTED, Stage.FAILED):
        assert "✎ writing…" not in reply_html("whole", stage)


def test_the_waiting_line_goes_once_anything_else_shows() -> None:
    assert "Waiting for Copilot" in reply_html("", Stage.WAITING)
    assert "Waiting for Copilot" not in reply_html("", Stage.WAITING, notices=["Retrying..."])
    assert "Waiting for Copilot" not in reply_html("", Stage.WAITING, steps=["🔎 looked at `df`"])


def test_a_failure_is_shown_in_the_reply_only_with_its_reason() -> None:
    assert "failed" not in reply_html("partial", Stage.FAILED)  # a cell's error line says why
    exported = reply_html("", Stage.FAILED, error="Could not connect.")
    assert "⚠️ The reply failed. Could not connect." in exported


def test_every_reply_and_transcript_carries_the_theme_aware_style_sheet() -> None:
    html = reply_html("x", Stage.DONE)
    assert html.startswith("<style>")
    assert "var(--jp-mirror-editor-keyword-color," in html
    assert "var(--jp-cell-editor-background," in html
    assert "overflow-x:auto" in html
    assert "white-space:pre" in html
