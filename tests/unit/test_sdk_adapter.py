"""Each SDK behaviour the one adapter (``copilot_magic.runtime.sdk``) relies on, on the real SDK.

An SDK upgrade that moves a private module, renames an error class, changes
an event's fields or a session option fails here first, with the adapter's
name on it, rather than somewhere deep in a kernel.
"""

from __future__ import annotations

import inspect
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from copilot_magic.errors import RuntimeRefused, RuntimeUnavailable
from copilot_magic.kernel.tools import DESCRIBE_VARIABLE, offered
from copilot_magic.runtime import sdk
from copilot_magic.sessions.inbox import EventInbox

# `make e2e-newest-sdk` runs these with the newest SDK in range.
pytestmark = pytest.mark.sdk_smoke


def _event(kind: str, data: dict[str, Any], agent_id: str | None = None) -> Any:
    """A real SDK event object, made from the runtime's wire format."""
    from copilot.generated.session_events import session_event_from_dict

    wire: dict[str, Any] = {
        "type": kind,
        "id": str(uuid.uuid4()),
        "timestamp": datetime.now(UTC).isoformat(),
        "data": data,
    }
    if agent_id:
        wire["agentId"] = agent_id
    return session_event_from_dict(wire)


def test_the_sdks_error_classes_live_where_the_adapter_reads_them() -> None:
    from copilot._jsonrpc import JsonRpcError, ProcessExitedError

    refused = JsonRpcError(-32603, "Session not found: abc\nmore detail")
    assert sdk.refusal(refused) == "Session not found: abc"
    assert sdk.runtime_gone(ProcessExitedError("CLI process exited unexpectedly"))
    assert not sdk.runtime_gone(ValueError("something else"))


def test_sdk_errors_become_one_line_errors_and_others_pass() -> None:
    from copilot._jsonrpc import JsonRpcError, ProcessExitedError

    refused = sdk.one_line_error(JsonRpcError(-32602, "Invalid session id"), 60, None)
    assert isinstance(refused, RuntimeRefused)
    assert refused.detail == "Invalid session id"
    gone = sdk.one_line_error(ProcessExitedError("exited"), 60, -9)
    assert isinstance(gone, RuntimeUnavailable)
    assert "exit code -9" in str(gone)
    slow = sdk.one_line_error(TimeoutError(), 7, None)
    assert isinstance(slow, RuntimeUnavailable)
    assert "7 s" in str(slow)
    assert sdk.one_line_error(KeyError("a bug"), 60, None) is None


@pytest.mark.parametrize(
    ("message", "missing", "held"),
    [
        ("Session not found: s1", True, False),  # resume_session of a missing id
        ("Failed to delete session s1: Session file not found for s1", True, False),
        ("Failed to delete session s1: it is currently in use by another process.", False, True),
        ("Invalid session id", False, False),
    ],
)
def test_the_runtimes_refusals_are_recognised_by_their_words(
    message: str, missing: bool, held: bool
) -> None:
    assert sdk.says_missing(message) is missing
    assert sdk.says_held_elsewhere(message) is held


def test_the_sdks_runtime_installer_is_where_the_adapter_calls_it() -> None:
    from copilot import _cli_download

    assert callable(_cli_download.ensure_runtime_wrapper)
    assert callable(_cli_download.get_cached_cli_path)
    assert sdk.cached_runtime() is None or isinstance(sdk.cached_runtime(), str)


def test_a_client_for_an_address_is_made_without_starting_anything() -> None:
    from copilot import CopilotClient

    client = sdk.connect("127.0.0.1:9", "a-token")
    assert isinstance(client, CopilotClient)


def test_permissions_are_refused_with_the_stable_rpc_type() -> None:
    from copilot.rpc import PermissionDecisionReject

    decision = sdk.refuse_every_permission(object(), object())
    assert isinstance(decision, PermissionDecisionReject)
    assert decision.feedback


@pytest.mark.parametrize("method", ["create_session", "resume_session"])
def test_every_session_option_is_a_parameter_of_the_sdk(method: str) -> None:
    from copilot import CopilotClient

    parameters = inspect.signature(getattr(CopilotClient, method)).parameters
    inbox = EventInbox()
    provider = {"type": "openai", "base_url": "http://x"}
    options = sdk.session_options(
        "echo", provider, inbox, tools=offered(True, "ask"), call_tool=inbox.call_tool
    )
    assert set(options) <= set(parameters)
    if method == "create_session":
        assert {"session_id", "name"} <= set(parameters)


def test_reply_pieces_and_messages_keep_their_text() -> None:
    delta = sdk.plain_event(
        _event("assistant.message_delta", {"deltaContent": "Hel", "messageId": "m1"})
    )
    assert (delta.kind, delta.text, delta.sub_agent) == ("assistant.message_delta", "Hel", False)
    message = sdk.plain_event(
        _event("assistant.message", {"content": "Hello", "messageId": "m1"}, agent_id="a1")
    )
    assert (message.kind, message.text, message.sub_agent) == ("assistant.message", "Hello", True)


def test_the_end_of_a_turn_says_whether_it_was_aborted() -> None:
    assert sdk.plain_event(_event("session.idle", {"aborted": True})).aborted
    assert not sdk.plain_event(_event("session.idle", {})).aborted


def test_notices_keep_their_kind_message_and_counts() -> None:
    retry = sdk.plain_event(
        _event("session.info", {"infoType": "model_call_retry", "message": "Retrying…"})
    )
    assert (retry.info_type, retry.text) == ("model_call_retry", "Retrying…")
    failed = sdk.plain_event(_event("session.error", {"errorType": "x", "message": "boom"}))
    assert failed.text == "boom"
    numbers = {
        "messagesRemovedDuringTruncation": 4,
        "performedBy": "system",
        "postTruncationMessagesLength": 1,
        "postTruncationTokensInMessages": 1,
        "preTruncationMessagesLength": 5,
        "preTruncationTokensInMessages": 9,
        "tokenLimit": 8,
        "tokensRemovedDuringTruncation": 8,
    }
    assert sdk.plain_event(_event("session.truncation", numbers)).removed == 4


def test_the_sign_in_status_is_read_from_the_sdks_fields() -> None:
    from copilot.client import GetAuthStatusResponse

    fields = set(GetAuthStatusResponse.__dataclass_fields__)
    assert {"isAuthenticated", "login"} <= fields
    assert sdk.sign_in(GetAuthStatusResponse(isAuthenticated=True, login="ada")) == (True, "ada")


def test_a_client_not_started_has_no_socket_to_tune() -> None:
    client = sdk.connect("127.0.0.1:9", "a-token")
    assert sdk.without_send_delay(client) is False
    assert sdk.sends_at_once(client) is False
    assert sdk.reads_buffered(client) is False


def test_a_kernel_tool_is_an_sdk_tool_whose_handler_hands_the_call_on() -> None:
    import asyncio
    from concurrent.futures import Future, ThreadPoolExecutor

    from copilot.tools import Tool, ToolInvocation

    calls = []

    def call(name: str, arguments: Any) -> Future[str]:
        calls.append((name, dict(arguments)))
        answered: Future[str] = Future()
        answered.set_result("DataFrame 3 × 2")
        return answered

    tool = sdk.sdk_tool(DESCRIBE_VARIABLE, call)
    assert isinstance(tool, Tool)
    assert (tool.name, tool.skip_permission) == ("describe_variable", True)
    assert tool.parameters == dict(DESCRIBE_VARIABLE.parameters)
    assert tool.handler is not None
    invocation = ToolInvocation(tool_name="describe_variable", arguments={"name": "df"})
    with ThreadPoolExecutor(1) as loop_thread:  # as the SDK does: on a loop of its own thread
        result = loop_thread.submit(asyncio.run, tool.handler(invocation)).result(timeout=10)  # type: ignore[arg-type]
    assert calls == [("describe_variable", {"name": "df"})]
    assert (result.text_result_for_llm, result.result_type) == ("DataFrame 3 × 2", "success")


def test_a_prompt_can_be_shown_in_the_history_other_than_it_was_sent() -> None:
    from copilot.session import CopilotSession

    assert "display_prompt" in inspect.signature(CopilotSession.send).parameters
