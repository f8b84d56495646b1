"""What the echo model answers: deterministic replies built from the request alone.

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
``[[echo:tools]]``
    append ``Tools offered: A, B.`` (or ``none``), the tools the request offered.
``[[echo:instructions]]``
    append ``Instructions: «TEXT».`` (or ``none``): what copilot_magic added to the
    system message (inside ``<copilot_magic>`` tags).
``[[echo:tool=NAME]]`` / ``[[echo:tool=NAME {"json": "arguments"}]]``
    call the tool NAME (OpenAI tool-call protocol, streamed or not), once per
    directive, one after another; once every call has its result, the reply
    ends with ``Tool NAME returned: «RESULT».`` for each. A tool the request
    did not offer is not called: the reply says ``Tool NAME was not offered.``
``[[echo:edit=FIND=>NEW]]``
    act in the notebook like a model would: call ``read_notebook``, then
    ``edit_cell`` on the first cell whose source holds FIND, with FIND replaced
    by NEW (``\\n`` in NEW is a newline). Likewise ``[[echo:insert=FIND=>NEW]]``
    (a code cell holding NEW below that cell), ``[[echo:insert_markdown=FIND=>NEW]]``
    (a Markdown cell), ``[[echo:delete=FIND]]`` and ``[[echo:run=FIND]]``. With no
    cell holding FIND the call names cell ``""`` (the tool says there is no such
    cell). Each result is reported like ``tool=``'s, in order, after the others.

Context attached to a prompt (``{df}``, ``--error``: a ``<notebook_context>``
block) is left out of the quotes and reported after them, word for word, as
``Context of message N:`` and the block in a code fence, for every user message
that carried one.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MODEL_ID = "echo"
MODEL_IDS = (MODEL_ID, "echo-2")
ABSTAIN_SIGNAL = "[[POR_ABSTAIN]]"
_DATETIME_BLOCK = re.compile(r"<current_datetime>.*?</current_datetime>\s*", re.DOTALL)
_CONTEXT = re.compile(r"<notebook_context\b.*?</notebook_context>", re.DOTALL)
_INSTRUCTIONS = re.compile(r"<copilot_magic>\s*(.*?)\s*</copilot_magic>", re.DOTALL)
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
class EchoToolCall:
    """A call the echo model asks for: the tool's name and its arguments as JSON."""

    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Reply:
    """What the echo model answers to one request, and how to stream it."""

    text: str
    chunks: int
    delay: float
    stall: float = 0.0
    tool_call: EchoToolCall | None = None


def token_usage(messages: list[dict[str, Any]], reply: Reply) -> tuple[int, int]:
    """The (prompt_tokens, completion_tokens) the echo model reports for a reply.

    A token is 4 characters, rounded up, at least 1 of each: the prompt counts
    the text of every message's content; the completion counts the reply text
    (the arguments, for a tool call).
    """
    prompt = sum(len(_text_of(m.get("content"))) for m in messages if isinstance(m, dict))
    answer = reply.tool_call.arguments if reply.tool_call is not None else reply.text
    return max(1, math.ceil(prompt / 4)), max(1, math.ceil(len(answer) / 4))


def _offered(tools: list[dict[str, Any]]) -> list[str]:
    return [str((t.get("function") or {}).get("name", "")) for t in tools if isinstance(t, dict)]


def _instructions(messages: list[dict[str, Any]]) -> str:
    """What copilot_magic added to the system message (inside ``<copilot_magic>`` tags)."""
    system = "".join(_text_of(m.get("content")) for m in messages if m.get("role") == "system")
    return " ".join(_INSTRUCTIONS.findall(system))


def _since_last_user(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages after the last user message (the tool calls and results of this turn)."""
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    return messages[last_user + 1 :]


@dataclass(frozen=True)
class _Trigger:
    """A notebook tool call whose arguments come from the ``read_notebook`` result before it:
    the cell whose source holds ``find`` is the one acted on."""

    tool: str
    find: str
    new: str = ""
    cell_type: str = "code"

    def arguments(self, read: str) -> str:
        found = next(((i, s) for i, s in _read_cells(read) if self.find in s), ("", ""))
        cell_id, source = found
        new = self.new.replace("\\n", "\n")
        if self.tool == "edit_cell":
            return json.dumps({"cell_id": cell_id, "source": source.replace(self.find, new, 1)})
        if self.tool == "insert_cell":
            return json.dumps(
                {"after_cell_id": cell_id, "cell_type": self.cell_type, "source": new}
            )
        return json.dumps({"cell_id": cell_id})


_TRIGGERS = {
    "edit": ("edit_cell", "code"),
    "insert": ("insert_cell", "code"),
    "insert_markdown": ("insert_cell", "markdown"),
    "delete": ("delete_cell", "code"),
    "run": ("run_cell", "code"),
}
_READ_CELL = re.compile(
    r"^--- cell (\S+) \([^)]*\)\n(.*?)(?=\n--- output:|\n\n--- cell |\Z)", re.DOTALL | re.M
)


def _read_cells(read: str) -> list[tuple[str, str]]:
    """(id, source) of each cell in a ``read_notebook`` result."""
    return [(match[0], match[1]) for match in _READ_CELL.findall(read)]


def _wanted(found: list[tuple[str, str]]) -> list[str | _Trigger]:
    """The tool calls the directives ask for, in order (a trigger reads the notebook first)."""
    wanted: list[str | _Trigger] = []
    for name, value in found:
        if name == "tool" and value:
            wanted.append(value)
        elif name in _TRIGGERS and value:
            tool, cell_type = _TRIGGERS[name]
            find, _, new = value.partition("=>")
            wanted += ["read_notebook", _Trigger(tool, find, new, cell_type)]
    return wanted


def _tool_step(
    wanted: list[str | _Trigger], messages: list[dict[str, Any]], offered: list[str]
) -> tuple[EchoToolCall | None, str]:
    """The next tool call to ask for, or the words that report every result of this turn."""
    results = [m for m in _since_last_user(messages) if m.get("role") == "tool"]
    names = [w.tool if isinstance(w, _Trigger) else w.strip().partition(" ")[0] for w in wanted]
    if len(results) < len(wanted):
        step = wanted[len(results)]
        if isinstance(step, _Trigger):
            name, arguments = step.tool, step.arguments(_text_of(results[-1].get("content")))
        else:
            name, _, arguments = step.strip().partition(" ")
        if name in offered:
            call = EchoToolCall(f"call_echo_{len(results) + 1}", name, arguments.strip() or "{}")
            return call, ""
        return None, f" Tool {name} was not offered."
    reports = [
        f" Tool {name} returned: «{_text_of(result.get('content'))}»."
        for name, result in zip(names, results, strict=False)
    ]
    return None, "".join(reports)


def _quoted(message: str) -> str:
    """A user message as the reply quotes it: without directives and attached context (the
    context is reported after the quotes, whole)."""
    return _CONTEXT.sub("", _DIRECTIVE.sub("", message)).strip()


def compose_reply(
    messages: list[dict[str, Any]],
    model: str = MODEL_ID,
    tools: list[dict[str, Any]] | None = None,
) -> Reply:
    """Build the deterministic reply to a chat-completions ``messages`` list (and the
    ``tools`` the request offered)."""
    users = user_texts(messages)
    last = users[-1] if users else ""
    found = _DIRECTIVE.findall(last)
    directives = {name: value or "" for name, value in found}
    offered = _offered(tools or [])
    wanted = _wanted(found)
    tool_call, tool_words = _tool_step(wanted, messages, offered) if wanted else (None, "")
    if tool_call is not None:
        return Reply(text="", chunks=1, delay=0.0, tool_call=tool_call)
    first_clean = _quoted(users[0]) if users else ""
    last_clean = _quoted(last)
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
    if "tools" in directives:
        text += f" Tools offered: {', '.join(offered) or 'none'}."
    if "instructions" in directives:
        text += f" Instructions: «{_instructions(messages) or 'none'}»."
    text += tool_words
    for number, user in enumerate(users, start=1):
        for block in _CONTEXT.findall(user):
            text += f"\n\nContext of message {number}:\n\n````\n{block.strip()}\n````"
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
