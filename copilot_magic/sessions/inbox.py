"""The mailbox of a session: what the runtime sends on its loop thread, for the kernel's.

The SDK calls the session's event handler, and its tool handlers, on the
runtime loop thread. Both only put something on the session's queue; the
turn's stream (:class:`~copilot_magic.sessions.turn.TurnStream`) takes it off
on the kernel's main thread, which owns the namespace and standard input.
"""

from __future__ import annotations

import contextlib
import queue
from collections.abc import Mapping
from concurrent.futures import Future, InvalidStateError
from typing import Any

from copilot_magic.runtime.sdk import RuntimeEvent, plain_event

UNANSWERED = "This tool is not available in this conversation right now."


class ToolCall:
    """The model asks for a kernel tool: answer it on the kernel's thread.

    The runtime calls a tool on its loop thread; the call waits there, in
    :attr:`result`, until the kernel's main thread (which owns the namespace and
    standard input) reads it from the turn's stream and calls :meth:`answer`.
    """

    def __init__(self, name: str, arguments: Mapping[str, Any]) -> None:
        self.name = name
        self.arguments = arguments
        self.result: Future[str] = Future()

    @property
    def answered(self) -> bool:
        return self.result.done()

    def answer(self, text: str) -> None:
        """Give the model ``text`` as the tool's result (once; later answers are ignored, and
        so is an answer to a call the runtime has dropped meanwhile)."""
        with contextlib.suppress(InvalidStateError):
            if not self.result.done():
                self.result.set_result(text)

    def __repr__(self) -> str:
        return f"ToolCall({self.name!r}, {dict(self.arguments)!r})"


Arrival = RuntimeEvent | ToolCall


class EventInbox:
    """A thread-safe mailbox for the events and tool calls of one session."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Arrival] = queue.SimpleQueue()

    def __call__(self, event: Any) -> None:
        """The SDK ``on_event`` handler: runs on the loop thread, so only enqueue."""
        self._queue.put(plain_event(event))

    def call_tool(self, name: str, arguments: Mapping[str, Any]) -> Future[str]:
        """The runtime's tool handler: hand the call to the turn's stream; its result later."""
        call = ToolCall(name, arguments)
        self._queue.put(call)
        return call.result

    def get(self, timeout: float) -> Arrival | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def drain(self) -> list[Arrival]:
        """Everything waiting now (without waiting for more)."""
        events = []
        while True:
            try:
                events.append(self._queue.get_nowait())
            except queue.Empty:
                return events

    def clear(self) -> None:
        """Drop what is waiting; a tool call left from an earlier turn gets a refusal."""
        for each in self.drain():
            if isinstance(each, ToolCall):
                each.answer(UNANSWERED)
