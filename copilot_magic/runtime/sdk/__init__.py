"""The one door to the Copilot SDK.

This package is the SDK's adapter: its tools and session options are in
:mod:`~copilot_magic.runtime.sdk.tools`, the session operations beyond a turn
(titles, rewind, fork, compact, models) in :mod:`~copilot_magic.runtime.sdk.controls`.
Everything copilot_magic knows about ``github-copilot-sdk`` beyond its plain
client and session methods is here: its private modules (where its error
classes and runtime installer live), the errors it raises and the words by
which the runtime's refusals are recognised, the shape of its events and of
its session options. Each is covered by a unit test in
``tests/unit/test_sdk_adapter.py``, so an SDK upgrade that changes one fails
there first. The SDK is imported on first use (about a second).
"""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from copilot_magic.errors import RuntimeRefused, RuntimeUnavailable, one_line
from copilot_magic.runtime.sdk.controls import (
    Compacted,
    RewindPoint,
    close_in_runtime,
    compact,
    fork,
    get_name,
    list_copilot_models,
    rewind_points,
    set_name,
    truncate,
)
from copilot_magic.runtime.sdk.tools import (
    ToolCaller,
    ToolSpec,
    refuse_every_permission,
    sdk_tool,
    session_options,
)

if TYPE_CHECKING:
    from copilot import CopilotClient
else:
    CopilotClient = object  # the SDK is imported on first use; the name is for type hints

__all__ = [
    "Compacted",
    "CopilotClient",
    "RewindPoint",
    "RuntimeEvent",
    "ToolCaller",
    "ToolSpec",
    "cached_runtime",
    "close_in_runtime",
    "compact",
    "connect",
    "fork",
    "get_name",
    "installed_runtime",
    "list_copilot_models",
    "one_line_error",
    "plain_event",
    "preload",
    "quiet_logging",
    "reads_buffered",
    "refusal",
    "refusal_text",
    "refuse_every_permission",
    "rewind_points",
    "runtime_gone",
    "says_disk_full",
    "says_held_elsewhere",
    "says_missing",
    "says_tools_taken",
    "says_wrong_token",
    "sdk_tool",
    "sends_at_once",
    "session_options",
    "set_name",
    "sign_in",
    "truncate",
    "without_send_delay",
]

# How the runtime words the refusals that copilot_magic turns into its own errors.
_MISSING_SESSION = ("session not found", "session file not found")
_HELD_ELSEWHERE = "in use by another process"


def preload() -> None:
    """Import the SDK now (about a second), so the first command need not wait for it."""
    import copilot  # noqa: F401


def quiet_logging() -> None:
    """The SDK logs tracebacks of errors it handles itself; keep them out of cells."""
    for name in ("copilot", "copilot._jsonrpc"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def connect(
    address: str, token: str, vet: Callable[[socket.socket], None] | None = None
) -> CopilotClient:
    """A client (not started yet) for the runtime listening at ``address``.

    ``vet`` is given the connected socket before the client sends anything on it (its
    first request carries the token); what it raises stops the start.
    """
    quiet_logging()
    from copilot import CopilotClient, RuntimeConnection

    connection = RuntimeConnection.for_uri(address, connection_token=token)
    client = CopilotClient(connection=connection, log_level="error")
    if vet is not None:
        _vet_before_sending(client, vet)
    return client


def _vet_before_sending(client: CopilotClient, vet: Callable[[socket.socket], None]) -> None:
    """Make ``client`` call ``vet`` once its socket is connected. The SDK connects in its
    ``_connect_via_tcp`` and sends its ``connect`` request, with the token, after that."""
    connect_socket = getattr(client, "_connect_via_tcp", None)
    if connect_socket is None:  # this SDK connects elsewhere: nothing is sent unproven
        raise RuntimeUnavailable(
            "The runtime's connection cannot be checked before the token is sent (this "
            "version of github-copilot-sdk connects in another way), so nothing was sent."
        )

    async def connect_then_vet() -> None:
        await connect_socket()
        connected = _socket_of(client)
        if connected is None:  # the SDK keeps it elsewhere now: nothing is sent unproven
            raise RuntimeUnavailable(
                "The runtime's connection could not be checked before the token was sent "
                "(this version of github-copilot-sdk keeps its socket elsewhere)."
            )
        vet(connected)

    client._connect_via_tcp = connect_then_vet  # type: ignore[method-assign]


def without_send_delay(client: CopilotClient) -> bool:
    """Turn off Nagle's algorithm on a started client's socket; ``True`` if it was done.

    The SDK writes each request's header and body as two writes on a socket
    without ``TCP_NODELAY``, so every request waited for the runtime's delayed
    acknowledgement (about 40 ms a call on Linux). The SDK keeps the socket in
    its connection's ``_socket``.
    """
    sock = _socket_of(client)
    if sock is None:
        return False
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sends_at_once(client)


def reads_buffered(client: CopilotClient) -> bool:
    """Read the runtime's messages through a buffer; ``True`` if it was done (or was so).

    The SDK reads its socket unbuffered: every header line a byte at a time,
    each byte a Python-level call and a system call that gives up the GIL, so
    a kernel busy showing a reply slowed the reading of the next pieces. Its
    reader thread looks up ``_process.stdout`` for every read, so a buffered
    reader put there is used from the next message on.
    """
    connection = getattr(client, "_process", None)
    raw = getattr(connection, "stdout", None)
    if isinstance(raw, io.BufferedReader):
        return True
    if _socket_of(client) is None or not isinstance(raw, io.RawIOBase):
        return False
    connection.stdout = io.BufferedReader(raw)  # type: ignore[union-attr]
    return True


def sends_at_once(client: CopilotClient) -> bool:
    """Whether the client's socket has ``TCP_NODELAY`` (see :func:`without_send_delay`)."""
    sock = _socket_of(client)
    return sock is not None and bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def _socket_of(client: CopilotClient) -> socket.socket | None:
    sock = getattr(getattr(client, "_process", None), "_socket", None)
    return sock if isinstance(sock, socket.socket) else None


def installed_runtime() -> str:
    """The runtime the SDK installs for itself (downloading it on first use)."""
    from copilot._cli_download import ensure_runtime_wrapper

    return str(ensure_runtime_wrapper())


def cached_runtime() -> str | None:
    """The runtime the SDK installed earlier, if any (never downloads)."""
    try:
        from copilot._cli_download import get_cached_cli_path
    except ImportError:
        return None
    found: str | None = get_cached_cli_path()
    return found


def sign_in(status: Any) -> tuple[bool, str]:
    """Whether ``get_auth_status()`` says Copilot is signed in, and as whom."""
    return bool(getattr(status, "isAuthenticated", False)), str(getattr(status, "login", "") or "")


def refusal(error: BaseException) -> str | None:
    """The runtime's own words when ``error`` is its answer to a request, else ``None``."""
    from copilot._jsonrpc import JsonRpcError

    if isinstance(error, JsonRpcError):
        return one_line(error.message)
    return None


def says_wrong_token(error: BaseException) -> bool:
    """Whether ``error`` is a served runtime refusing a client's connection token."""
    return "AUTHENTICATION_FAILED" in str(error).upper()


def runtime_gone(error: BaseException) -> bool:
    """Whether ``error`` says the connection to the runtime is lost."""
    from copilot._jsonrpc import ProcessExitedError

    if isinstance(error, ProcessExitedError | ConnectionError | EOFError):
        return True
    return isinstance(error, RuntimeError) and "not connected" in str(error).lower()


def one_line_error(error: BaseException, timeout: float, exit_code: int | None) -> Exception | None:
    """The one-line error for a failed SDK call, or ``None`` when it is not the SDK's."""
    detail = refusal(error)
    if detail is not None:
        return RuntimeRefused(f"The Copilot runtime refused the request: {detail}", detail)
    if runtime_gone(error):
        code = "" if exit_code is None else f" (exit code {exit_code})"
        return RuntimeUnavailable(
            f"The Copilot runtime stopped{code}; run the command again to restart it."
        )
    if isinstance(error, TimeoutError):
        return RuntimeUnavailable(f"The Copilot runtime did not answer within {timeout:g} s.")
    return None


def refusal_text(error: BaseException) -> str:
    """The runtime's words in a refusal: a JSON-RPC error's detail, or the SDK's own message
    (``delete_session`` raises a plain ``RuntimeError`` that quotes the runtime)."""
    detail = getattr(error, "detail", None)
    return detail if isinstance(detail, str) else str(error)


def says_missing(message: str) -> bool:
    """Whether the runtime's message says the session does not exist."""
    lowered = message.lower()
    return any(words in lowered for words in _MISSING_SESSION)


def says_held_elsewhere(message: str) -> bool:
    """Whether the runtime's message says another process holds the session."""
    return _HELD_ELSEWHERE in message.lower()


def says_tools_taken(message: str) -> bool:
    """Whether the runtime refused to resume because another client has the session open
    with the same tools (one shared runtime, two kernels)."""
    return "already registered by another connection" in message.lower()


def says_disk_full(message: str) -> bool:
    """Whether the runtime's message says the disk is full."""
    lowered = message.lower()
    return "no space left" in lowered or "enospc" in lowered


@dataclass(frozen=True, slots=True)
class RuntimeEvent:
    """What copilot_magic reads of one SDK event: its kind and the few fields it uses."""

    kind: str
    sub_agent: bool = False
    text: str = ""  # delta_content of a delta, content of a message, message of a notice
    info_type: str = ""
    aborted: bool = False
    removed: int = 0  # messages the runtime left out (session.truncation)


_TEXT_FIELD = {
    "assistant.message_delta": "delta_content",
    "assistant.message": "content",
    "session.error": "message",
    "session.warning": "message",
    "session.info": "message",
}


def plain_event(event: Any) -> RuntimeEvent:
    """An SDK session event as a :class:`RuntimeEvent` (cheap: it runs for every piece)."""
    kind = getattr(event, "type", "")
    kind = str(getattr(kind, "value", kind))
    data = getattr(event, "data", None)
    text_field = _TEXT_FIELD.get(kind)
    return RuntimeEvent(
        kind=kind,
        sub_agent=bool(getattr(event, "agent_id", None)),
        text=(getattr(data, text_field, "") or "") if text_field else "",
        info_type=getattr(data, "info_type", "") or "" if kind == "session.info" else "",
        aborted=bool(getattr(data, "aborted", False)) if kind == "session.idle" else False,
        removed=(getattr(data, "messages_removed_during_truncation", 0) or 0)
        if kind == "session.truncation"
        else 0,
    )
