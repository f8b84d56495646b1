"""Figures of the notebook tools, in JupyterLab in headless Chromium, beside the kernel tools.

One notebook, one kernel, one Run All. A ``%%copilot`` cell makes the echo
model call ``describe_variable`` again and again (a kernel tool: no person in
the loop); the next makes it propose edit after edit to one cell, each accepted
in the page with a click on Accept. Every time comes from one clock,
``time.perf_counter`` in this process, which holds the echo model server (see
:mod:`tool_timeline`) and drives Chromium with Playwright's sync API:

- **edit call → diff visible**: from the echo model sending ``edit_cell`` to the
  page showing its review (``.copilot-review`` with the proposed lines) on the
  cell. A MutationObserver in the page sees the review attached and visible; once
  the next frame is painted it calls a function exposed to this process, which
  stamps the moment it hears of it.
- **accepted edit round trip**: from the click on Accept (a mouse click at the
  button, stamped just before it is sent) to the echo model receiving the next
  request, the one carrying the tool's "accepted" result.
- **kernel tool round trip**: from the echo model sending ``describe_variable``
  to it receiving the result, in the same kernel: the baseline.

The first call of each kind is not counted (the first review, the first
description and the first of their messages pay one-off costs).
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field

from bench_env import Bench
from browser.conftest import UI_TIMEOUT_MS, LabPage
from figures import MS, Row, p90_ms, spread_ms
from lab_session import lab_page
from playwright.sync_api import Error as PlaywrightError
from tool_timeline import ToolExchange, ToolTimeline

from copilot_magic.testing.echo_model import EchoModelServer

TARGET_MS = 150  # the target: each tool's round trip under 150 ms median, echo model
TARGET_ID = "bench-cell"
NOTEBOOK = "bench-notebook-tools.ipynb"
FRAME = (
    "import pandas as pd\n"
    "bench_frame = pd.DataFrame({'a': range(1000), 'b': [f'row {i}' for i in range(1000)]})"
)
# Cells: the extension, the edited cell, the frame, the kernel tool turn, the edit turn.
EDITED_CELL, KERNEL_TURN_CELL, EDIT_TURN_CELL = 1, 3, 4
REVIEW_WATCH = """() => {
    const reported = new Set();
    window.__copilotBenchShown = new Set();
    const afterPaint = (then) => requestAnimationFrame(() => setTimeout(then, 0));
    const look = () => {
        for (const review of document.querySelectorAll('.copilot-review:not(.copilot-applied)')) {
            const lines = review.querySelectorAll('.copilot-diff-added .copilot-diff-text');
            const proposed = [...lines].map((line) => line.textContent).join('\\n');
            if (!lines.length || reported.has(proposed) || !review.checkVisibility()) {
                continue;
            }
            reported.add(proposed);
            afterPaint(() => window.copilotBenchReviewShown(proposed)
                .then(() => window.__copilotBenchShown.add(proposed)));
        }
    };
    new MutationObserver(look).observe(document.body, {childList: true, subtree: true});
    look();
}"""
REVIEW_STAMPED = "(proposed) => window.__copilotBenchShown.has(proposed)"


def _proposal(number: int) -> str:
    return f"bench_value = {number}"


def _directive(tool: str, arguments: dict[str, str]) -> str:
    return f"[[echo:tool={tool} {json.dumps(arguments)}]]"


def _sources(calls: int) -> list[str]:
    """The notebook: the extension, the cell to edit, a frame, the two turns of ``calls``."""
    describe = _directive("describe_variable", {"name": "bench_frame"})
    edits = (
        _directive("edit_cell", {"cell_id": TARGET_ID, "source": _proposal(n)})
        for n in range(1, calls + 1)
    )
    return [
        "%load_ext copilot_magic",
        _proposal(0),
        FRAME,
        "%%copilot\nDescribe the frame, again and again. " + " ".join([describe] * calls),
        "%%copilot\nChange the cell, again and again. " + " ".join(edits),
    ]


@dataclass
class ReviewWatch:
    """When each review became visible in the page, by the lines it proposes."""

    lab: LabPage
    shown: dict[str, float] = field(default_factory=dict)

    def expose(self) -> None:
        """Before the notebook opens: the function the page calls to stamp a review."""
        self.lab.page.expose_function("copilotBenchReviewShown", self._stamp)

    def _stamp(self, proposed: str) -> None:
        self.shown.setdefault(proposed, time.perf_counter())

    def observe(self) -> None:
        self.lab.page.evaluate(REVIEW_WATCH)

    def wait_for(self, proposed: str) -> float:
        """When the review proposing ``proposed`` was seen (waits for it to be stamped)."""
        try:
            self.lab.page.wait_for_function(REVIEW_STAMPED, arg=proposed, timeout=UI_TIMEOUT_MS)
        except PlaywrightError as error:
            raise RuntimeError(
                f"no review proposing {proposed!r} appeared. Cell outputs:\n"
                + self.lab.outputs_text()
            ) from error
        return self.shown[proposed]


def _click_accept(lab: LabPage) -> float:
    """Click Accept on the edited cell's review; returns when the click was sent."""
    review = lab.page.locator(".jp-Notebook .jp-Cell").nth(EDITED_CELL).locator(".copilot-review")
    button = review.get_by_role("button", name="Accept")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    if box is None:
        raise RuntimeError("the Accept button has no box on the page")
    clicked = time.perf_counter()
    lab.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    return clicked


def _wait_for_reply(lab: LabPage, cell: int, words: str) -> None:
    reply = lab.page.locator(".jp-Notebook .jp-Cell").nth(cell).locator(".copilot-reply")
    try:
        reply.filter(has_text=words).wait_for(timeout=UI_TIMEOUT_MS)
    except PlaywrightError as error:
        raise RuntimeError(f"the turn did not end. Cell outputs:\n{lab.outputs_text()}") from error


@dataclass
class ToolSamples:
    """Seconds, one a counted call: each path of a notebook tool, and the kernel tool's."""

    diff_visible: list[float]
    accepted: list[float]
    kernel_tool: list[float]


def _accepted(exchange: ToolExchange) -> None:
    if not (exchange.result or "").startswith("accepted"):
        raise RuntimeError(f"edit {exchange.call_id} came back as {exchange.result!r}")


def _measure(lab: LabPage, timeline: ToolTimeline, calls: int) -> ToolSamples:
    """Run the notebook; accept every edit as soon as it is shown."""
    watch = ReviewWatch(lab)
    watch.expose()
    lab.open_notebook(_sources(calls), ids={EDITED_CELL: TARGET_ID})
    watch.observe()
    lab.run_all()
    shown, clicked = [], []
    for number in range(1, calls + 1):
        shown.append(watch.wait_for(_proposal(number)))
        clicked.append(_click_accept(lab))
    _wait_for_reply(lab, EDIT_TURN_CELL, "Tool edit_cell returned")
    _wait_for_reply(lab, KERNEL_TURN_CELL, "Tool describe_variable returned")
    edits, described = timeline.calls("edit_cell"), timeline.calls("describe_variable")
    if len(edits) != calls or len(described) != calls:
        raise RuntimeError(f"{len(edits)} edits and {len(described)} descriptions, not {calls}")
    for exchange in edits:
        _accepted(exchange)
    return ToolSamples(
        diff_visible=[seen - e.sent_at for seen, e in zip(shown, edits, strict=True)][1:],
        accepted=[e.heard - click for e, click in zip(edits, clicked, strict=True)][1:],
        kernel_tool=[exchange.round_trip for exchange in described][1:],
    )


def _figure(samples: list[float]) -> str:
    median = statistics.median(samples) * MS
    return f"{median:.1f} ms, p90 {p90_ms(samples):.1f} ({spread_ms(samples)})"


def _row(number: str, figure: str, samples: list[float], baseline: list[float]) -> Row:
    median = statistics.median(samples) * MS
    compared = statistics.median(baseline) * MS if baseline else None
    return Row(
        number,
        figure,
        _figure(samples),
        f"{_figure(baseline)} kernel tool" if baseline else "—",
        f"{median - compared:+.1f} ms" if compared is not None else "—",
        f"< {TARGET_MS} ms median",
        median < TARGET_MS,
        f"{len(samples)} calls in one turn, after 1 not counted; JupyterLab, headless Chromium",
    )


def notebook_tools(bench: Bench, calls: int) -> list[Row]:
    """Figures 16a-16c: a notebook tool's two halves in the browser; a kernel tool's round trip.

    ``calls`` of each tool, in one turn each, the first not counted."""
    timeline = ToolTimeline()
    root = bench.data_dir("notebook-tools")
    with (
        EchoModelServer(on_request=timeline.on_request) as echo,
        lab_page(bench.runtime, echo, root, NOTEBOOK) as lab,
    ):
        samples = _measure(lab, timeline, calls + 1)
    kernel = samples.kernel_tool
    return [
        _row(
            "16a",
            "Notebook tool: the model's `edit_cell` call → its diff visible on the cell",
            samples.diff_visible,
            kernel,
        ),
        _row(
            "16b",
            "Notebook tool: an accepted edit's round trip (click on Accept → the model's next "
            "request, carrying “accepted”)",
            samples.accepted,
            kernel,
        ),
        _row(
            "16c",
            "Kernel tool round trip (the model's `describe_variable` call → its result at the "
            "model), in the same kernel",
            kernel,
            [],
        ),
    ]
