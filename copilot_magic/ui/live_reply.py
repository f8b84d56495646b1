"""The reply of a ``%%copilot`` cell as it streams: one display, updated in place.

In Jupyter the reply is one output with one display id: it shows a waiting
note until the first token, is updated at most about ten times a second while
the reply streams, and ends with one exact final update. Its metadata names
the session, the turn and the stage. In a terminal IPython the reply's
Markdown is drawn for the terminal block by block as it arrives
(:mod:`~copilot_magic.views.terminal`); where output goes to a pipe or a file,
it is printed as plain text.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from IPython.display import DisplayHandle, display

from copilot_magic.output_metadata import Stage, reply_metadata
from copilot_magic.sessions.transcript import is_abstention, strip_signal
from copilot_magic.views.render import ABSTAINED_BANNER, UpdateThrottle, reply_html, reply_text
from copilot_magic.views.terminal import TerminalMarkdown


class _Reply:
    """A reply's text and state, rendered as a MIME bundle."""

    def __init__(self, session_id: str, turn: int, abstain_signal: str) -> None:
        self.session_id = session_id
        self.turn = turn
        self.signal = abstain_signal
        self.text = ""
        self.stage = Stage.WAITING
        self.notices: list[str] = []
        self.steps: list[str] = []  # what Copilot looked at or ran in the kernel
        self.error = ""

    @property
    def abstained(self) -> bool:
        return is_abstention(self.text, self.signal)

    @property
    def shown_text(self) -> str:
        return strip_signal(self.text, self.signal)

    def metadata(self) -> dict[str, Any]:
        return reply_metadata(self.session_id, self.turn, self.stage, self.abstained)

    def _decorations(self) -> dict[str, Any]:
        return {
            "abstained": self.abstained,
            "notices": self.notices,
            "error": self.error,
            "steps": self.steps,
        }

    def plain(self) -> str:
        return reply_text(self.shown_text, self.stage, **self._decorations())

    def bundle(self) -> dict[str, str]:
        command = f"%copilot_code {self.turn}"  # named under each Python block
        html = reply_html(self.shown_text, self.stage, code_command=command, **self._decorations())
        return {"text/html": html, "text/plain": self.plain()}


class LiveReply:
    """Shows one reply in the current cell; see the module docstring."""

    def __init__(
        self, session_id: str, turn: int, abstain_signal: str, *, rich: bool, per_second: float = 10
    ) -> None:
        self._reply = _Reply(session_id, turn, abstain_signal)
        self._rich = rich
        self._throttle = UpdateThrottle(per_second)
        self._handle: DisplayHandle | None = None
        self._printed = ""
        self._pending: str | Callable[[], str] | None = None  # text the throttle held back
        self.updates = 0  # display updates sent, the first display included
        self._repeats: tuple[str, int, float] | None = None  # the last notice, times, first at
        # A terminal gets the Markdown drawn (headings, lists, coloured code); a pipe, plain text.
        self._drawn = TerminalMarkdown(sys.stdout) if not rich and sys.stdout.isatty() else None

    def start(self) -> None:
        if self._rich:
            self._handle = display(  # type: ignore[no-untyped-call]
                self._reply.bundle(), raw=True, metadata=self._reply.metadata(), display_id=True
            )
            self.updates = 1

    def stream(self, text: str | Callable[[], str]) -> None:
        """New text: the whole reply so far, or a function that returns it.

        In a notebook it is shown if the throttle allows, and a function is only
        called then; in a terminal the new part is printed at once.
        """
        self._reply.stage = Stage.STREAMING
        if self._rich and not self._throttle.ready():
            self._pending = text
            return
        if self._drawn is not None and not self._throttle.ready():
            return  # the blocks are drawn as they complete: no need to look every piece
        self._pending = None
        self._reply.text = text() if callable(text) else text
        if self._rich:
            self._push()
        elif self._drawn is not None:
            if not self._reply.abstained:
                self._drawn.feed(self._reply.shown_text)
        else:
            self._print_new_text()

    def notice(self, message: str) -> None:
        """A message from the runtime, such as a retry. The same message again (the next
        retry) updates its line with a count and the time since the first."""
        notices, now = self._reply.notices, time.monotonic()
        repeated = self._repeats
        if repeated is not None and repeated[0] == message and notices:
            count = repeated[1] + 1
            self._repeats = (message, count, repeated[2])
            notices[-1] = f"{message} ({count} times in {now - repeated[2]:.0f} s)"
        else:
            self._repeats = (message, 1, now)
            notices.append(message)
        self._aside(f"↻ {notices[-1]}")

    def step(self, line: str) -> None:
        """A tool call, shown as it happens ("🔎 looked at `df`")."""
        self._reply.steps.append(line)
        self._aside(line)

    def _aside(self, printed: str) -> None:
        """Show a notice or step at once, with the text the throttle held back (a terminal
        prints it on stderr)."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._reply.text = pending() if callable(pending) else pending
        if self._rich:
            self._push()
        else:
            print(printed, file=sys.stderr, flush=True)

    def finish(self, text: str, stage: Stage, error: str = "") -> None:
        """The one exact final update."""
        self._pending = None
        self._reply.text = text
        self._reply.stage = stage
        self._reply.error = error
        if self._rich:
            self._push()
            return
        if self._drawn is not None:
            if self._reply.abstained:
                print(ABSTAINED_BANNER, flush=True)
            self._drawn.finish(self._reply.shown_text)
        elif self._reply.abstained and not self._printed:
            print(f"{self._reply.plain()}", flush=True)
            return
        else:
            self._print_new_text()
            print(flush=True)
        if stage is Stage.INTERRUPTED:  # a notebook shows it under the reply
            print(self._reply.plain().rsplit("\n", 1)[-1], file=sys.stderr, flush=True)

    def _push(self) -> None:
        assert self._handle is not None
        started = time.perf_counter()
        self._handle.update(  # type: ignore[no-untyped-call]
            self._reply.bundle(), raw=True, metadata=self._reply.metadata()
        )
        self._throttle.took(time.perf_counter() - started)
        self.updates += 1

    def _print_new_text(self) -> None:
        shown = self._reply.shown_text
        if self._reply.abstained:
            return  # printed whole at the end, under its banner
        if shown.startswith(self._printed):
            sys.stdout.write(shown[len(self._printed) :])
        else:
            sys.stdout.write("\n" + shown)
        sys.stdout.flush()
        self._printed = shown
