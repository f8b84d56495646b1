"""Our tools as the SDK's tools, and the options every session is opened with."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from typing import Any, Protocol


def refuse_every_permission(request: Any, invocation: Any) -> Any:
    """Every permission request is refused: the runtime's own tools (shell, files, web) are
    never offered, and the kernel tools need none (the one that runs code asks the person)."""
    from copilot.rpc import PermissionDecisionReject

    return PermissionDecisionReject(feedback="Only the kernel tools are available here.")


class ToolSpec(Protocol):
    """What the model is told of a tool of ours: its name, purpose and JSON-schema parameters."""

    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def parameters(self) -> Mapping[str, Any]: ...


# The runtime calls a tool on the SDK's loop thread; this hands the call on and gives its result.
ToolCaller = Callable[[str, Mapping[str, Any]], "Future[str]"]


def sdk_tool(spec: ToolSpec, call: ToolCaller) -> Any:
    """The SDK's ``Tool`` for ``spec``: its handler hands each call to ``call`` and waits,
    without holding up the SDK's loop, for the answer. Ours need no permission prompt:
    the one that runs code asks the person itself."""
    from copilot.tools import Tool, ToolResult

    async def handler(invocation: Any) -> Any:
        arguments = invocation.arguments if isinstance(invocation.arguments, dict) else {}
        text = await asyncio.wrap_future(call(spec.name, arguments))
        return ToolResult(text_result_for_llm=text, result_type="success")

    return Tool(
        name=spec.name,
        description=spec.description,
        handler=handler,
        parameters=dict(spec.parameters),
        skip_permission=True,
    )


def session_options(
    model: str,
    provider: dict[str, Any] | None,
    on_event: Any,
    *,
    tools: Sequence[ToolSpec] = (),
    call_tool: ToolCaller | None = None,
    instructions: str = "",
) -> dict[str, Any]:
    """The keyword arguments of ``create_session`` and ``resume_session``: only ``tools``
    are offered to the model (none of the runtime's own), each answered through
    ``call_tool``; ``instructions`` are added to the runtime's system message, inside
    ``<copilot_magic>`` tags."""
    options: dict[str, Any] = {
        "streaming": True,
        "available_tools": [spec.name for spec in tools],
        "on_permission_request": refuse_every_permission,
        "on_event": on_event,
    }
    if tools and call_tool is not None:
        options["tools"] = [sdk_tool(spec, call_tool) for spec in tools]
    if instructions:
        content = f"<copilot_magic>\n{instructions}\n</copilot_magic>"
        options["system_message"] = {"mode": "append", "content": content}
    if model:
        options["model"] = model
    if provider is not None:
        options["provider"] = provider
    return options
