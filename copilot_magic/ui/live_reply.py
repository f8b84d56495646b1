"""The reply of a ``%%copilot`` cell as it streams: one display, updated in place.

In Jupyter the reply is one output with one display id: it shows a waiting
note until the first token, is updated at most about ten times a second while
the reply streams, and ends with one exact final update. Its metadata names
the session, the turn and the stage. When the cell shows something else in the
middle of the reply (the code Copilot asks to run, the question, what the code
printed), the reply so far stays above it, final ("waiting for you" while the
person is asked), and the rest of the reply is a new display under it: the
cell reads in the order things happened. In a terminal IPython the reply's
Markdown is drawn for the terminal block by block as it arrives
(:mod:`~copilot_magic.views.terminal`); where output goes to a pipe or a file,
it is printed as plain text.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from IPython.display import DisplayHandle, display

from copilot_magic.output_metadata import Stage, reply_metadata
from copilot_magic.sessions.transcript import is_abstention, strip_signal
from copilot_magic.views.render import ABSTAINED_BANNER, UpdateThrottle, reply_html, reply_text
from copilot_magic.views.terminal import TerminalMarkdown


class _Reply:
    """A reply's text and state, rendered as a MIME bundle: the part of the reply that one
    display shows (``before``: what the displays above it show, as shown)."""

    def __init__(
        self, session_id: str, turn: int, abstain_signal: str, part: int = 1, before: str = ""
    ) -> None:
        self.session_id = session_id
        self.turn = turn
        self.signal = abstain_signal
        self.part = part
        self.before = before
        self.text = ""  # the whole reply so far
        self.stage = Stage.WAITING
        self.notices: list[str] = []
        self.steps: list[str] = []  # what Copilot looked at or ran in the kernel
        self.error = ""

    @property
    def abstained(self) -> bool:
        return is_abstention(self.text, self.signal)

    @property
    def whole_text(self) -> str:
        """The whole reply so far as shown, the parts above included."""
        return strip_signal(self.text, self.signal)

    @property
    def shown_text(self) -> str:
        """This part's text: what follows ``before`` (all of it, should the reply so far
        no longer begin with ``before``: shown twice rather than lost)."""
        whole = self.whole_text
        if self.before and whole.startswith(self.before):
            return whole[len(self.before) :].lstrip("\n")
        return whole

    def next_part(self) -> _Reply:
        """The part that goes on under this one, from the reply so far."""
        following = _Reply(self.session_id, self.turn, self.signal, self.part + 1, self.whole_text)
        following.text, following.stage = self.text, Stage.STREAMING
        return following

    def metadata(self) -> dict[str, Any]:
        return reply_metadata(self.session_id, self.turn, self.stage, self.abstained, self.part)

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
        self._continues_below = False  # the cell shows something under this part
        self._part_shown = 1  # the last part that has a display
        self._printed = ""
        self._line_ended = False  # a line end was printed after the text, for the cell's output
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
        self._open_next_part()
        self._reply.stage = Stage.STREAMING
        if self._rich and not self._throttle.ready():
            self._pending = text
            return
        if self._drawn is not None and not self._throttle.ready():
            self._pending = text  # the blocks are drawn as they complete: no need to look
            return
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
        self._open_next_part()
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
        self._open_next_part()
        self._reply.steps.append(line)
        self._aside(line)

    @contextlib.contextmanager
    def waiting_for_you(self) -> Iterator[None]:
        """The person is asked something under the reply (may this code run?). Meanwhile
        the reply so far says "waiting for you"; once they answered (or interrupted), it
        stays as it is, and the rest of the reply shows under the question and what the
        answer printed."""
        self._stop_here(Stage.WAITING_FOR_YOU)
        try:
            yield
        finally:
            self._stop_here(Stage.CONTINUED)

    def give_way(self) -> None:
        """The cell shows something now (code that was refused): the reply so far stays
        above it, as it is, and the rest of the reply shows under it."""
        self._stop_here(Stage.CONTINUED)

    def _stop_here(self, stage: Stage) -> None:
        """Show the reply so far, all of it, in ``stage``; once ``CONTINUED``, the next
        update begins a new display, under whatever the cell shows meanwhile."""
        self._open_next_part()  # the cell showed something since the last stop: go below it
        self._take_pending()
        if self._rich:
            self._reply.stage = stage
            self._push()
            self._continues_below = stage is Stage.CONTINUED
        elif self._drawn is not None:
            if not self._reply.abstained:
                self._drawn.finish(self._reply.shown_text)  # the message before the call ended
        else:
            self._print_new_text()
            if self._printed and not self._printed.endswith("\n") and not self._line_ended:
                print(flush=True)  # what the cell prints next begins on a line of its own
                self._line_ended = True

    def _aside(self, printed: str) -> None:
        """Show a notice or step at once, with the text the throttle held back (a terminal
        prints it on stderr)."""
        self._take_pending()
        if self._rich:
            self._push()
        else:
            print(printed, file=sys.stderr, flush=True)

    def _open_next_part(self) -> None:
        """Once the reply gave way (:meth:`give_way`, :meth:`waiting_for_you`), what comes
        next belongs to a new part of it."""
        if self._continues_below:
            self._continues_below = False
            self._reply = self._reply.next_part()

    def _take_pending(self) -> None:
        """Take the text the throttle held back as the reply so far."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._reply.text = pending() if callable(pending) else pending

    def finish(self, text: str, stage: Stage, error: str = "") -> None:
        """The one exact final update."""
        self._open_next_part()
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
        if self._part_shown < self._reply.part:  # a new part, under what the cell showed
            self._part_shown = self._reply.part
            self._handle = display(  # type: ignore[no-untyped-call]
                self._reply.bundle(), raw=True, metadata=self._reply.metadata(), display_id=True
            )
        else:
            self._handle.update(  # type: ignore[no-untyped-call]
                self._reply.bundle(), raw=True, metadata=self._reply.metadata()
            )
        self._throttle.took(time.perf_counter() - started)
        self.updates += 1

    def _print_new_text(self) -> None:
        shown = self._reply.shown_text
        if self._reply.abstained:
            return  # printed whole at the end, under its banner
        new = shown[len(self._printed) :] if shown.startswith(self._printed) else "\n" + shown
        if new and self._line_ended:  # under what the cell printed, after one empty line
            new, self._line_ended = "\n" + new.lstrip("\n"), False
        sys.stdout.write(new)
        sys.stdout.flush()
        self._printed = shown
