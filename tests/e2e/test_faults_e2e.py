"""Faults around the runtime and the model, each a one-line error and never a hang."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .kernels import Kernel
from .test_magics_e2e import copilot_cell, reply_of, usage_error


@pytest.fixture
def kernel_with(kernel_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Kernel]]:
    """Start a kernel with some environment variables changed (None removes one)."""
    kernels: list[Kernel] = []

    def start(**changes: str | None) -> Kernel:
        env = dict(kernel_env)
        for name, value in changes.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        kernel = Kernel(env, cwd=str(tmp_path))
        kernels.append(kernel)
        assert kernel.execute("%load_ext copilot_magic").error is None
        return kernel

    yield start
    for kernel in kernels:
        kernel.shutdown()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_missing_runtime_binary_is_a_one_line_error(
    kernel_with: Callable[..., Kernel], tmp_path: Path
) -> None:
    kernel = kernel_with(COPILOT_CLI_PATH=str(tmp_path / "no-such-copilot"))
    line = usage_error(kernel.execute("%copilot_session fault-missing"))
    assert line.startswith("UsageError: The Copilot runtime was not found at ")
    assert "npm install @github/copilot" in line


def test_no_sign_in_and_no_provider_names_both_ways_out(kernel_with: Callable[..., Kernel]) -> None:
    kernel = kernel_with(COPILOT_MAGIC_PROVIDER_URL=None, COPILOT_MAGIC_PROVIDER_API_KEY=None)
    line = usage_error(kernel.execute("%copilot_session fault-signin"))
    assert line.startswith("UsageError: Copilot has no GitHub sign-in and no model provider")
    assert "copilot login" in line
    assert "COPILOT_MAGIC_PROVIDER_URL" in line


@pytest.mark.slow
def test_an_unreachable_model_shows_retries_then_one_line_and_the_session_survives(
    kernel_with: Callable[..., Kernel], kernel_env: dict[str, str]
) -> None:
    down = f"http://127.0.0.1:{_closed_port()}/v1"
    kernel = kernel_with(COPILOT_MAGIC_PROVIDER_URL=down)
    kernel.execute("%copilot_session fault-down")
    failed = kernel.execute(copilot_cell("anyone there?"), timeout=120)
    line = usage_error(failed)
    assert line.startswith(
        "UsageError: Copilot could not reply: Could not connect to local model provider"
    )
    notices = [u for u in kernel.updates if "↻" in u["content"]["data"]["text/plain"]]
    assert notices, "no retry notice was shown"
    final = kernel.updates[-1]["content"]
    assert final["metadata"]["copilot_magic"]["stage"] == "failed"
    assert "sk-e2e-test-key" not in str(final)

    kernel.execute(
        f"%config CopilotMagics.provider_url = {kernel_env['COPILOT_MAGIC_PROVIDER_URL']!r}"
    )
    kernel.execute("%copilot_session fault-down")
    html = reply_of(kernel.execute(copilot_cell("and now?")))["data"]["text/html"]
    assert "I received 2 user messages." in html


class _Failing(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(500)
        self.end_headers()

    do_POST = do_GET  # noqa: N815


@pytest.mark.slow
def test_a_model_answering_500_fails_with_one_line(kernel_with: Callable[..., Kernel]) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        kernel = kernel_with(
            COPILOT_MAGIC_PROVIDER_URL=f"http://127.0.0.1:{server.server_address[1]}/v1"
        )
        kernel.execute("%copilot_session fault-500")
        line = usage_error(kernel.execute(copilot_cell("hello?"), timeout=120))
        assert line.startswith("UsageError: Copilot could not reply:")
    finally:
        server.shutdown()
        server.server_close()
