"""A local, deterministic, OpenAI-compatible stand-in for a real model.

It exists so that copilot_magic can be demonstrated and tested with the real
Copilot runtime but without a GitHub account or network: point the runtime at
it as a BYOK provider of type ``openai``. It is *not* a language model. Every
reply states what the server received, so a test can prove what the model saw::

    I received 3 user messages. The first was: "hello". The last was: "and now?"

Directives in the last user message change the reply (each one is optional):

``[[echo:abstain]]``
    reply with the abstain signal ``[[POR_ABSTAIN]]`` and a short reason.
``[[echo:chunks=N]]`` / ``[[echo:delay=S]]``
    stream the reply padded to N chunks, sleeping S seconds between chunks
    (used to test interrupts, crashes and display throttling).
``[[echo:stall=S]]``
    send nothing at all for S seconds before answering (a hung model server).
``[[echo:repeat=N]]``
    append N numbered filler words, for long replies.
``[[echo:say=TEXT]]``
    append TEXT verbatim (up to the closing ``]]``), e.g. an HTML payload.
``[[echo:model]]``
    append ``Model: NAME.``, the model the request asked for.

It lists the models ``echo`` and ``echo-2`` (two names, so a test can switch).

Run it with ``python -m copilot_magic.testing.echo_model --port 0``: it prints the URL
it listens on (always a loopback address).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL_ID = "echo"
MODEL_IDS = (MODEL_ID, "echo-2")
ABSTAIN_SIGNAL = "[[POR_ABSTAIN]]"
_DATETIME_BLOCK = re.compile(r"<current_datetime>.*?</current_datetime>\s*", re.DOTALL)
_DIRECTIVE = re.compile(r"\[\[echo:(\w+)(?:=(.*?))?\]\]", re.DOTALL)


def _text_of(content: Any) -> str:
    """The plain text of an OpenAI message ``content`` (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def user_texts(messages: list[dict[str, Any]]) -> list[str]:
    """The user messages of a request, without the runtime's date-time preamble."""
    return [
        _DATETIME_BLOCK.sub("", _text_of(m.get("content"))).strip()
        for m in messages
        if m.get("role") == "user"
    ]


@dataclass(frozen=True)
class Reply:
    """What the echo model answers to one request, and how to stream it."""

    text: str
    chunks: int
    delay: float
    stall: float = 0.0


def compose_reply(messages: list[dict[str, Any]], model: str = MODEL_ID) -> Reply:
    """Build the deterministic reply to a chat-completions ``messages`` list."""
    users = user_texts(messages)
    last = users[-1] if users else ""
    directives = {name: value or "" for name, value in _DIRECTIVE.findall(last)}
    first_clean = _DIRECTIVE.sub("", users[0]).strip() if users else ""
    last_clean = _DIRECTIVE.sub("", last).strip()
    text = (
        f"I received {len(users)} user message{'s' if len(users) != 1 else ''}. "
        f'The first was: "{first_clean}". The last was: "{last_clean}".'
    )
    if "abstain" in directives:
        text = f"{ABSTAIN_SIGNAL} I can't answer that with confidence. {text}"
    if "repeat" in directives:
        text += " " + " ".join(f"word{i}" for i in range(int(directives["repeat"])))
    if "say" in directives:
        text += " " + directives["say"]
    if "model" in directives:
        text += f" Model: {model}."
    return Reply(
        text=text,
        chunks=max(1, int(directives.get("chunks") or 0)),
        delay=float(directives.get("delay") or 0.0),
        stall=float(directives.get("stall") or 0.0),
    )


def split_into_chunks(text: str, chunks: int) -> Iterator[str]:
    """Split ``text`` into ``chunks`` roughly equal pieces (word boundaries when possible)."""
    if chunks <= 1:
        yield text
        return
    words = re.findall(r"\s*\S+\s*", text) or [text]
    if len(words) < chunks:
        size = max(1, -(-len(text) // chunks))
        pieces = [text[i : i + size] for i in range(0, len(text), size)]
    else:
        per = -(-len(words) // chunks)
        pieces = ["".join(words[i : i + per]) for i in range(0, len(words), per)]
    yield from pieces


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
        hook = getattr(self.server, "on_request", None)
        if hook is not None:
            hook(request)
        reply = compose_reply(request.get("messages") or [], model)
        if reply.stall:
            time.sleep(reply.stall)
        if request.get("stream"):
            self._stream(reply, model)
        else:
            self._send_json(200, _completion(reply.text, model))

    def _stream(self, reply: Reply, model: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        created = int(time.time())
        try:
            for piece in split_into_chunks(reply.text, reply.chunks):
                self._event(_chunk(model, created, {"content": piece}, None))
                if reply.delay:
                    time.sleep(reply.delay)
            self._event(_chunk(model, created, {}, "stop"))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return  # the client went away (an aborted turn): nothing to do

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


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-echo",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


class EchoModelServer:
    """The echo model on a loopback port, served from a daemon thread.

    Use it as a context manager; ``url`` is the OpenAI base URL (ending in ``/v1``).
    ``on_request``, if given, is called with each chat request before it is
    answered (a test makes something happen exactly while the model is asked).
    """

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        on_request: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.on_request = on_request  # type: ignore[attr-defined]
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="copilot-magic-echo-model", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

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
