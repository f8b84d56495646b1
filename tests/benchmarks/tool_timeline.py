"""When the echo model sends each tool call, and when it hears each call's result.

The echo model server runs in the benchmark's own process and calls
``on_request`` with each chat-completions request before it answers it. The
timeline stamps there, with ``time.perf_counter`` (the clock the browser side
stamps with too):

- a request whose last message is a tool result: when it arrived, for that call;
- a request the echo model answers with a tool call: when the call is composed,
  just before the server writes it (the reply is deterministic, so composing it
  here gives exactly the call the server sends next, in well under a millisecond).

A result names its call by an id the runtime may have given it anew (call ids
restart at ``call_echo_1`` in every turn, and the runtime renames those of
earlier turns), so it is matched by what was called: the request's own
assistant message with that id names the tool and its arguments, and the result
belongs to the earliest call of those that has none yet.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from copilot_magic.testing.echo_model import MODEL_ID, compose_reply


@dataclass
class ToolExchange:
    """One tool call the model made and, once it came back, its result."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    sent_at: float
    result: str | None = None
    heard_at: float | None = None

    @property
    def heard(self) -> float:
        """When the model heard the result."""
        if self.heard_at is None:
            raise LookupError(f"the model never heard the result of {self.name} {self.call_id}")
        return self.heard_at

    @property
    def round_trip(self) -> float:
        """Seconds from the call sent to its result heard."""
        return self.heard - self.sent_at


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def _called(messages: list[dict[str, Any]], call_id: str) -> tuple[str, dict[str, Any]] | None:
    """The tool and arguments of call ``call_id``, from the assistant message that made it."""
    for message in reversed(messages):
        for call in message.get("tool_calls") or []:
            if call.get("id") == call_id:
                function = call.get("function") or {}
                return str(function.get("name")), json.loads(function.get("arguments") or "{}")
    return None


class ToolTimeline:
    """The echo model's ``on_request`` hook: every tool call and result, stamped."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._exchanges: list[ToolExchange] = []

    def on_request(self, request: dict[str, Any]) -> None:
        arrived = time.perf_counter()
        messages = request.get("messages") or []
        last = messages[-1] if messages else {}
        if last.get("role") == "tool":
            called = _called(messages, str(last.get("tool_call_id", "")))
            if called is not None:
                self._heard(*called, _text(last.get("content")), arrived)
        reply = compose_reply(messages, request.get("model") or MODEL_ID, request.get("tools"))
        call = reply.tool_call
        if call is not None:
            exchange = ToolExchange(
                call.call_id, call.name, json.loads(call.arguments), time.perf_counter()
            )
            with self._lock:
                self._exchanges.append(exchange)

    def _heard(self, name: str, arguments: dict[str, Any], result: str, arrived: float) -> None:
        with self._lock:
            for exchange in self._exchanges:
                if (exchange.name, exchange.arguments) == (name, arguments) and (
                    exchange.heard_at is None
                ):
                    exchange.result, exchange.heard_at = result, arrived
                    return

    def calls(self, name: str) -> list[ToolExchange]:
        """The exchanges of tool ``name`` so far, in the order the model made them."""
        with self._lock:
            return [exchange for exchange in self._exchanges if exchange.name == name]
