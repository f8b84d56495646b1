"""A local, deterministic, OpenAI-compatible stand-in for a real model.

It exists so that copilot_magic can be demonstrated and tested with the real
Copilot runtime but without a GitHub account or network: point the runtime at
it as a BYOK provider of type ``openai``. It is *not* a language model. Every
reply states what the server received, so a test can prove what the model saw::

    I received 3 user messages. The first was: "hello". The last was: "and now?"

The directives in a prompt that change the reply (``[[echo:abstain]]``,
``[[echo:tool=NAME]]``...) are listed in :mod:`copilot_magic.testing.echo_replies`.

It lists the models ``echo`` and ``echo-2`` (two names, so a test can switch).

Every completion reports deterministic token usage (see :func:`token_usage`):
in ``usage`` when not streamed, and when streamed in a final chunk with no
choices if the request asks for it (``stream_options.include_usage``, as the
Copilot runtime does). ``EchoModelServer.reported_usage`` lists what was sent.

Run it with ``python -m copilot_magic.testing.echo_model --port 0``: it prints the URL
it listens on (always a loopback address).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from copilot_magic.testing.echo_replies import (
    ABSTAIN_SIGNAL,
    MODEL_ID,
    MODEL_IDS,
    EchoToolCall,
    Reply,
    compose_reply,
    split_into_chunks,
    token_usage,
    user_texts,
)

__all__ = [
    "ABSTAIN_SIGNAL",
    "MODEL_ID",
    "MODEL_IDS",
    "EchoModelServer",
    "EchoToolCall",
    "Reply",
    "compose_reply",
    "main",
    "split_into_chunks",
    "token_usage",
    "user_texts",
]


def _usage(tokens: tuple[int, int]) -> dict[str, int]:
    prompt, completion = tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


class _Handler(BaseHTTPRequestHandler):
    server_version = "copilot-magic-echo/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Stay quiet: this server runs inside tests and demos."""

    def _send_json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": name, "object": "model", "owned_by": "copilot-magic"}
                        for name in MODEL_IDS
                    ],
                },
            )
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self._send_json(400, {"error": {"message": "body is not JSON"}})
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        model = request.get("model") or MODEL_ID
        messages = request.get("messages") or []
        key, texts = self.headers.get("Authorization", ""), user_texts(messages)
        self.server.api_keys.append((key.removeprefix("Bearer "), texts[-1] if texts else ""))  # type: ignore[attr-defined]
        hook = getattr(self.server, "on_request", None)
        if hook is not None:
            hook(request)
        reply = compose_reply(messages, model, request.get("tools"))
        tokens = token_usage(messages, reply)
        if reply.stall:
            time.sleep(reply.stall)
        if request.get("stream"):
            wants_usage = bool((request.get("stream_options") or {}).get("include_usage"))
            self._stream(reply, model, tokens if wants_usage else None)
        else:
            self._record(tokens)  # before sending: the client may look as soon as it reads
            self._send_json(200, _completion(reply, model, tokens))

    def _record(self, tokens: tuple[int, int]) -> None:
        self.server.record_usage(tokens)  # type: ignore[attr-defined]

    def _stream(self, reply: Reply, model: str, tokens: tuple[int, int] | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        created = int(time.time())
        try:
            if reply.tool_call is not None:
                self._stream_tool_call(reply.tool_call, model, created)
                finish = "tool_calls"
            else:
                for piece in split_into_chunks(reply.text, reply.chunks):
                    self._event(_chunk(model, created, {"content": piece}, None))
                    if reply.delay:
                        time.sleep(reply.delay)
                finish = "stop"
            self._event(_chunk(model, created, {}, finish))
            if tokens is not None:
                self._record(tokens)
                usage = {**_chunk(model, created, {}, None), "choices": [], "usage": _usage(tokens)}
                self._event(usage)
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return  # the client went away (an aborted turn): nothing to do

    def _stream_tool_call(self, call: EchoToolCall, model: str, created: int) -> None:
        """A tool call as OpenAI streams it: the name first, then the arguments."""
        function = {"name": call.name, "arguments": ""}
        opening = {"index": 0, "id": call.call_id, "type": "function", "function": function}
        self._event(_chunk(model, created, {"role": "assistant", "tool_calls": [opening]}, None))
        more = {"index": 0, "function": {"arguments": call.arguments}}
        self._event(_chunk(model, created, {"tool_calls": [more]}, None))

    def _event(self, body: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(body).encode() + b"\n\n")
        self.wfile.flush()


def _chunk(model: str, created: int, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-echo",
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _completion(reply: Reply, model: str, tokens: tuple[int, int]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    finish = "stop"
    if reply.tool_call is not None:
        call = reply.tool_call
        function = {"name": call.name, "arguments": call.arguments}
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": call.call_id, "type": "function", "function": function}],
        }
        finish = "tool_calls"
    return {
        "id": "chatcmpl-echo",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish,
            }
        ],
        "usage": _usage(tokens),
    }


class EchoModelServer:
    """The echo model on a loopback port, served from a daemon thread.

    Use it as a context manager; ``url`` is the OpenAI base URL (ending in ``/v1``).
    ``on_request``, if given, is called with each chat request before it is
    answered (a test makes something happen exactly while the model is asked).
    ``reported_usage`` lists (prompt_tokens, completion_tokens) for every
    completion whose usage was sent, in order; ``clear_reported_usage`` empties
    it. A stream not asking for usage, or cut short before it, adds nothing.
    ``api_keys`` lists (API key, last user message) of every chat request, in order.
    """

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        on_request: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.on_request = on_request  # type: ignore[attr-defined]
        self._httpd.record_usage = self._record_usage  # type: ignore[attr-defined]
        self.api_keys: list[tuple[str, str]] = []
        self._httpd.api_keys = self.api_keys  # type: ignore[attr-defined]
        self._usage_lock = threading.Lock()
        self._reported_usage: list[tuple[int, int]] = []
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="copilot-magic-echo-model", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def reported_usage(self) -> list[tuple[int, int]]:
        """A copy of the (prompt_tokens, completion_tokens) reported so far."""
        with self._usage_lock:
            return list(self._reported_usage)

    def clear_reported_usage(self) -> None:
        with self._usage_lock:
            self._reported_usage.clear()

    def _record_usage(self, tokens: tuple[int, int]) -> None:
        with self._usage_lock:
            self._reported_usage.append(tokens)

    def start(self) -> EchoModelServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> EchoModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m copilot_magic.testing.echo_model",
        description="Serve the deterministic echo model (an OpenAI-compatible stand-in).",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    args = parser.parse_args(argv)
    server = EchoModelServer(port=args.port)
    print(server.url, flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
