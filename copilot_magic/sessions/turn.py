"""One exchange with a live session, followed event by event from the caller's thread.

The SDK calls the session's event handler on the runtime loop thread; the
handler only puts events on a queue (:mod:`~copilot_magic.sessions.inbox`). :class:`TurnStream`
drains that queue on the caller's thread (the kernel's main thread), turns SDK
events into a few plain updates, watches the runtime process, and can abort.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from copilot_magic.errors import (
    Advice,
    Remedy,
    TurnFailed,
    TurnInterrupted,
    TurnTimedOut,
    all_on_one_line,
    one_line,
)
from copilot_magic.runtime.sdk import RuntimeEvent
from copilot_magic.sessions.inbox import UNANSWERED, EventInbox, ToolCall

if TYPE_CHECKING:
    from copilot_magic.runtime.bridge import RuntimeBridge

POLL_INTERVAL = 0.1  # how often the runtime's process is checked while waiting
GATHER_PAUSE = 0.005  # while a reply streams, wake up at most this often, not at every piece
ABORT_SETTLE_TIMEOUT = 5.0
GIVE_UP_TIMEOUT = 0.5
DELTA = "assistant.message_delta"


class Delta:
    """New reply text arrived; ``text`` is the whole reply so far.

    A long reply comes in thousands of pieces, and joining them all at every
    piece would cost time that grows with the square of the reply's length. So
    the stream gives a function, and the text is joined only when it is read
    (read it before taking the next update from the stream).
    """

    def __init__(self, text: str | Callable[[], str]) -> None:
        self._text = text

    @property
    def text(self) -> str:
        return self.read()

    def read(self) -> str:
        """The whole reply so far, joined now if it was not yet."""
        if callable(self._text):
            self._text = self._text()
        return self._text

    def __repr__(self) -> str:
        return f"Delta({self.text!r})"


@dataclass
class Notice:
    """A message from the runtime during the turn, such as a retry notice; ``advice`` is
    a way out that the front end words (as an error's)."""

    message: str
    advice: Advice | None = None


@dataclass
class _Progress:
    messages: list[str] = field(default_factory=list)  # completed assistant messages
    pieces: list[str] = field(default_factory=list)  # of the assistant message being streamed
    error: str = ""

    @property
    def streaming(self) -> str:
        """The message being streamed, joined once per read (and kept joined)."""
        if len(self.pieces) > 1:
            self.pieces[:] = ["".join(self.pieces)]
        return self.pieces[0] if self.pieces else ""

    @property
    def text(self) -> str:
        streaming = self.streaming
        return "\n\n".join([*self.messages, streaming] if streaming else self.messages)


class TurnStream:
    """A prompt that has been sent; iterate to follow the reply.

    Iterating yields :class:`Delta`, :class:`Notice` and :class:`ToolCall` objects
    (answer a tool call before taking the next update: one left unanswered is
    refused) and ends when the turn is complete (then :attr:`text` is the exact
    final reply). It raises
    :class:`TurnFailed` if the model or the runtime fails, :class:`TurnTimedOut`
    (after stopping the turn) when the runtime sends nothing at all for
    ``silence_timeout`` seconds, and :class:`TurnInterrupted` after :meth:`abort`.
    """

    def __init__(
        self,
        bridge: RuntimeBridge,
        session: Any,
        inbox: EventInbox,
        *,
        number: int,
        silence_timeout: float,
        watch: Callable[[float], None] | None = None,
        epilogue: Callable[[], Notice | None] | None = None,
        abort_settle: float = ABORT_SETTLE_TIMEOUT,
    ) -> None:
        """``watch`` is called with the seconds of silence whenever the runtime is silent
        (it may raise :class:`TurnFailed` to stop the reply); ``epilogue`` once the
        reply is complete (its :class:`Notice`, if any, comes last).
        :meth:`abort` waits up to ``abort_settle`` seconds for the runtime to confirm."""
        self.number = number
        self.silence_timeout = silence_timeout
        self.abort_settle = abort_settle
        self._watch = watch
        self._epilogue = epilogue
        self._bridge = bridge
        self._session = session
        self._inbox = inbox
        self._progress = _Progress()
        self.finished = False

    @property
    def text(self) -> str:
        """The reply so far (the whole reply once the turn is finished)."""
        return self._progress.text

    def send(self, prompt: str, shown: str | None = None) -> None:
        """Send ``prompt``; the history shows ``shown`` instead, when it is given."""
        self._inbox.clear()
        extra = {} if shown is None else {"display_prompt": shown}
        self._bridge.call(self._session.send(prompt, **extra), timeout=30)

    def __iter__(self) -> Iterator[Delta | Notice | ToolCall]:
        """The updates of the turn, in order; consecutive pieces come as one :class:`Delta`.

        A fast model sends thousands of pieces a second. Waking up for each one
        would take the interpreter from the thread that receives them, so the
        events that arrived meanwhile are taken together, at most every
        ``GATHER_PAUSE`` seconds while pieces stream (the end of a message is
        taken as soon as it arrives). Time spent by the caller (answering a tool
        call, waiting for the person) is not silence of the runtime.
        """
        last_sign = time.monotonic()
        while not self.finished:
            event = self._inbox.get(POLL_INTERVAL)
            if event is None:
                self._check_runtime()
                silent = time.monotonic() - last_sign
                if silent > self.silence_timeout:
                    self._time_out()
                if self._watch is not None:
                    try:
                        self._watch(silent)
                    except TurnFailed:
                        self._give_up()
                        raise
                continue
            last_sign = time.monotonic()
            pending: Delta | None = None
            batch = (event, *self._inbox.drain())
            try:
                for each in batch:
                    update = self._apply(each) if isinstance(each, RuntimeEvent) else each
                    if isinstance(update, Delta):
                        pending = update
                    elif update is not None:
                        if pending is not None:
                            yield pending
                            pending = None
                        yield update
                if pending is not None:
                    yield pending
            finally:  # calls the caller did not answer (or never saw: it stopped) are refused
                for each in batch:
                    if isinstance(each, ToolCall):
                        each.answer(UNANSWERED)
            last_sign = time.monotonic()
            last = batch[-1]
            if not self.finished and isinstance(last, RuntimeEvent) and last.kind == DELTA:
                time.sleep(GATHER_PAUSE)  # more pieces are coming; the end is taken at once
        last_word = self._epilogue() if self._epilogue is not None else None
        if last_word is not None:
            yield last_word

    def _check_runtime(self) -> None:
        code = self._bridge.runtime_exit_code()
        if code is not None:
            self.finished = True
            raise TurnFailed(
                f"The Copilot runtime stopped during the reply (exit code {code}); this reply "
                "is lost, every earlier turn is stored. Run the cell again to retry."
            )

    def _time_out(self) -> None:
        self.abort()
        raise TurnTimedOut(
            f"Copilot sent nothing for {self.silence_timeout:g} s, so the reply was stopped "
            "(the model server may be hanging); every earlier turn is stored. Run the cell "
            "again, or allow longer with the reply_timeout setting.",
            advice=Advice(Remedy.SET_SETTING, setting="reply_timeout"),
        )

    def _apply(self, event: RuntimeEvent) -> Delta | Notice | None:
        if event.sub_agent:
            return None
        kind, progress = event.kind, self._progress
        if kind == DELTA:
            progress.pieces.append(event.text)
            return Delta(lambda: progress.text)
        if kind == "assistant.message":
            progress.pieces.clear()
            if event.text:
                progress.messages.append(event.text)
            return Delta(progress.text)
        if kind == "session.warning" or (kind == "session.info" and "retry" in event.info_type):
            return Notice(one_line(event.text))
        if kind == "session.truncation":
            return Notice(
                "The conversation is longer than the model's limit: the runtime left "
                f"{event.removed} older messages out of what the model sees (the history keeps "
                "every turn)."
            )
        if kind == "session.compaction_start":
            return Notice(
                "The conversation is longer than the model's limit: Copilot is summarising "
                "its older turns for the model (the history keeps every turn)."
            )
        if kind == "session.error":
            progress.error = all_on_one_line(event.text or "unknown error")
            return None
        if kind == "session.idle":
            self.finished = True
            if event.aborted:
                raise TurnInterrupted("Interrupted: the reply was stopped.")
            if progress.error:
                raise TurnFailed(f"Copilot could not reply: {progress.error}")
        return None

    def _give_up(self) -> None:
        """Ask the runtime to stop the turn, without waiting: it is stuck (a full disk)."""
        self.finished = True
        with contextlib.suppress(Exception):  # stuck or gone: the turn is over here anyway
            self._bridge.run(self._session.abort(), timeout=GIVE_UP_TIMEOUT)

    def abort(self) -> None:
        """Stop the turn and wait (briefly) for the runtime to confirm it stopped."""
        if self.finished:
            return
        try:
            self._bridge.run(self._session.abort(), timeout=self.abort_settle)
        except Exception:  # noqa: BLE001 - the runtime is gone: nothing left to stop
            self.finished = True
            return
        deadline = time.monotonic() + self.abort_settle
        while not self.finished and time.monotonic() < deadline:
            event = self._inbox.get(POLL_INTERVAL)
            if isinstance(event, ToolCall):
                event.answer(UNANSWERED)
            elif event is not None and event.kind == "session.idle" and not event.sub_agent:
                self.finished = True
        self.finished = True
