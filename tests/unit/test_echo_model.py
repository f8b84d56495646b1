"""The echo model: its deterministic replies and its OpenAI-compatible HTTP server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from copilot_magic.testing.echo_model import (
    ABSTAIN_SIGNAL,
    MODEL_ID,
    EchoModelServer,
    EchoToolCall,
    Reply,
    compose_reply,
    split_into_chunks,
    token_usage,
    user_texts,
)

PREAMBLE = "<current_datetime>2026-11-25T08:31:53.574Z</current_datetime>\n\n"


def _user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def test_compose_reply_counts_and_quotes_first_and_last() -> None:
    reply = compose_reply(
        [
            {"role": "system", "content": "You are Copilot."},
            _user(PREAMBLE + "hello"),
            {"role": "assistant", "content": "I received 1 user message."},
            _user(PREAMBLE + "middle"),
            {"role": "assistant", "content": "..."},
            _user(PREAMBLE + "and now?"),
        ]
    )
    assert reply.text == (
        'I received 3 user messages. The first was: "hello". The last was: "and now?".'
    )
    assert reply.chunks == 1
    assert reply.delay == 0.0


def test_compose_reply_single_message_is_singular() -> None:
    assert compose_reply([_user("hi")]).text.startswith("I received 1 user message. ")


def test_compose_reply_without_user_messages() -> None:
    assert compose_reply([]).text.startswith("I received 0 user messages. ")


def test_compose_reply_strips_directives_from_quotes() -> None:
    reply = compose_reply(
        [_user("[[echo:chunks=3]]first"), _user("last [[echo:chunks=4]] [[echo:delay=0.25]]")]
    )
    assert 'The first was: "first".' in reply.text
    assert 'The last was: "last".' in reply.text
    assert "[[echo" not in reply.text
    assert reply.chunks == 4
    assert reply.delay == 0.25


def test_compose_reply_abstains_on_directive() -> None:
    reply = compose_reply([_user("is P = NP? [[echo:abstain]]")])
    assert reply.text.startswith(ABSTAIN_SIGNAL + " ")
    assert ABSTAIN_SIGNAL == "[[POR_ABSTAIN]]"
    assert 'The last was: "is P = NP?".' in reply.text


def test_compose_reply_abstains_only_on_last_message_directive() -> None:
    reply = compose_reply([_user("[[echo:abstain]]"), _user("fine")])
    assert ABSTAIN_SIGNAL not in reply.text


def test_compose_reply_repeat_and_say() -> None:
    reply = compose_reply([_user("x [[echo:repeat=3]] [[echo:say=<b>bold</b>]]")])
    assert reply.text.endswith(" word0 word1 word2 <b>bold</b>")


def test_compose_reply_accepts_content_as_list_of_parts() -> None:
    parts = [
        {"type": "text", "text": PREAMBLE + "hel"},
        {"type": "image_url", "image_url": {"url": "data:,"}},
        {"type": "text", "text": "lo"},
        "not a part",
    ]
    assert user_texts([_user(parts)]) == ["hello"]
    assert 'The first was: "hello".' in compose_reply([_user(parts)]).text


def test_user_texts_ignores_other_roles_and_odd_content() -> None:
    messages = [{"role": "system", "content": "s"}, _user(None), _user(42), {"content": "x"}]
    assert user_texts(messages) == ["", ""]


@pytest.mark.parametrize("chunks", [0, 1, 2, 3, 7, 50, 500])
def test_split_into_chunks_joins_back(chunks: int) -> None:
    text = compose_reply([_user("one two three [[echo:repeat=40]]")]).text
    pieces = list(split_into_chunks(text, chunks))
    assert "".join(pieces) == text
    assert len(pieces) <= max(1, chunks)


def test_split_into_chunks_splits_at_word_boundaries() -> None:
    pieces = list(split_into_chunks("a b c d e f", 3))
    assert pieces == ["a b ", "c d ", "e f"]


def test_split_into_chunks_of_short_text_splits_characters() -> None:
    assert list(split_into_chunks("abcdef", 3)) == ["ab", "cd", "ef"]


@settings(database=None)
@given(
    st.text(alphabet=st.sampled_from("ab \n\té"), max_size=60) | st.text(max_size=200),
    st.integers(min_value=0, max_value=40),
)
@example("  leading spaces before words", 2)
def test_property_split_into_chunks_joins_back_to_any_text(text: str, chunks: int) -> None:
    assert "".join(split_into_chunks(text, chunks)) == text


@pytest.fixture(scope="module")
def server() -> Iterator[EchoModelServer]:
    with EchoModelServer(port=0) as running:
        yield running


def _post(url: str, body: dict[str, Any]) -> urllib.request.Request:
    return urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )


def test_server_listens_on_loopback(server: EchoModelServer) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    assert server.url.endswith("/v1")
    assert not server.url.startswith("http://127.0.0.1:0/")


def test_server_lists_the_echo_model(server: EchoModelServer) -> None:
    with urllib.request.urlopen(server.url + "/models", timeout=10) as response:
        assert response.status == 200
        body = json.load(response)
    assert [model["id"] for model in body["data"]] == [MODEL_ID, "echo-2"]


def test_server_answers_non_streaming_completion(server: EchoModelServer) -> None:
    request = _post(
        server.url + "/chat/completions",
        {"model": "echo", "messages": [_user(PREAMBLE + "hello")]},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"] == "application/json"
        body = json.load(response)
    assert body["object"] == "chat.completion"
    message = body["choices"][0]["message"]
    assert message["role"] == "assistant"
    assert message["content"] == compose_reply([_user("hello")]).text
    assert body["choices"][0]["finish_reason"] == "stop"


def test_server_streams_server_sent_events(server: EchoModelServer) -> None:
    messages = [_user("first"), _user("stream me [[echo:chunks=4]]")]
    request = _post(
        server.url + "/chat/completions", {"model": "echo", "stream": True, "messages": messages}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        lines = [line.decode() for line in response.read().splitlines() if line.strip()]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    deltas = [chunk["choices"][0]["delta"].get("content", "") for chunk in chunks]
    assert len([d for d in deltas if d]) == 4
    assert "".join(deltas) == compose_reply(messages).text
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_server_rejects_unknown_route_and_bad_json(server: EchoModelServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as not_found:
        urllib.request.urlopen(server.url + "/nope", timeout=10)
    assert not_found.value.code == 404
    not_found.value.close()
    bad = urllib.request.Request(server.url + "/chat/completions", data=b"{not json", method="POST")
    with pytest.raises(urllib.error.HTTPError) as bad_request:
        urllib.request.urlopen(bad, timeout=10)
    assert bad_request.value.code == 400
    bad_request.value.close()


def test_the_model_directive_names_the_model_the_request_asked_for() -> None:
    reply = compose_reply([{"role": "user", "content": "which? [[echo:model]]"}], "echo-2")
    assert reply.text.endswith(" Model: echo-2.")


def test_the_instructions_directive_reports_what_copilot_magic_added_to_the_system_prompt() -> None:
    system = "You are Copilot.\n<copilot_magic>\nNo notebook frontend answered.\n</copilot_magic>"
    asked = [{"role": "system", "content": system}, _user("which? [[echo:instructions]]")]
    assert compose_reply(asked).text.endswith(" Instructions: «No notebook frontend answered.».")
    alone = compose_reply([_user("which? [[echo:instructions]]")])
    assert alone.text.endswith(" Instructions: «none».")


TOOLS = [{"type": "function", "function": {"name": "describe_variable", "parameters": {}}}]
ASKS_FOR_TOOL = '[[echo:tool=describe_variable {"name": "df"}]]'


def test_compose_reply_asks_for_an_offered_tool_then_reports_its_result() -> None:
    asking = [_user(f"look {ASKS_FOR_TOOL}")]
    call = compose_reply(asking, tools=TOOLS).tool_call
    assert call is not None
    assert (call.name, json.loads(call.arguments)) == ("describe_variable", {"name": "df"})
    answered = [
        *asking,
        {"role": "assistant", "content": None, "tool_calls": [{"id": call.call_id}]},
        {"role": "tool", "tool_call_id": call.call_id, "content": "DataFrame 3 × 2"},
    ]
    reply = compose_reply(answered, tools=TOOLS)
    assert reply.tool_call is None
    assert reply.text.endswith("Tool describe_variable returned: «DataFrame 3 × 2».")


def test_compose_reply_does_not_call_a_tool_that_was_not_offered() -> None:
    reply = compose_reply([_user(f"look {ASKS_FOR_TOOL} [[echo:tools]]")], tools=[])
    assert reply.tool_call is None
    assert "Tools offered: none. Tool describe_variable was not offered." in reply.text


def test_server_asks_for_a_tool_call_streamed_and_not(server: EchoModelServer) -> None:
    body = {"model": "echo", "messages": [_user(ASKS_FOR_TOOL)], "tools": TOOLS}
    with urllib.request.urlopen(_post(server.url + "/chat/completions", body), timeout=10) as r:
        whole = json.load(r)["choices"][0]
    assert whole["finish_reason"] == "tool_calls"
    (call,) = whole["message"]["tool_calls"]
    assert call["function"] == {"name": "describe_variable", "arguments": '{"name": "df"}'}
    streamed = _post(server.url + "/chat/completions", {**body, "stream": True})
    with urllib.request.urlopen(streamed, timeout=10) as response:
        lines = [line.decode() for line in response.read().splitlines() if line.strip()]
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    parts = [c["choices"][0]["delta"].get("tool_calls", [{}])[0] for c in chunks]
    assert parts[0]["function"]["name"] == "describe_variable"
    assert parts[0]["id"] == call["id"]
    assert "".join(p.get("function", {}).get("arguments", "") for p in parts) == '{"name": "df"}'
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_compose_reply_reports_attached_context_apart_from_the_quotes() -> None:
    block = (
        '<notebook_context attached="[]">\n### df: DataFrame 3 × 2\nprice: float64\n'
        "</notebook_context>"
    )
    reply = compose_reply([_user(f"why {{df}}?\n\n{block}"), _user("and now?")])
    assert 'The first was: "why {df}?". The last was: "and now?".' in reply.text
    assert reply.text.endswith(f"Context of message 1:\n\n````\n{block}\n````")


def _text_reply(text: str) -> Reply:
    return Reply(text=text, chunks=1, delay=0.0)


@pytest.mark.parametrize(
    ("messages", "reply_text", "expected"),
    [
        ([_user("abcd")], "abcd", (1, 1)),
        ([_user("abcde")], "abcdefghi", (2, 3)),
        ([], "", (1, 1)),
        ([{"role": "system", "content": "x" * 8}, _user("y" * 5), _user(None)], "z", (4, 1)),
        ([_user([{"type": "text", "text": "abc"}, {"type": "image_url"}, "odd", 7])], "a", (1, 1)),
        (
            [_user([{"type": "text", "text": "a" * 6}, {"type": "text", "text": "b" * 6}])],
            "",
            (3, 1),
        ),
    ],
)
def test_token_usage_is_characters_over_four_rounded_up_at_least_one(
    messages: list[dict[str, Any]], reply_text: str, expected: tuple[int, int]
) -> None:
    assert token_usage(messages, _text_reply(reply_text)) == expected


def test_token_usage_of_a_tool_call_counts_its_arguments() -> None:
    call = EchoToolCall(call_id="call_1", name="describe_variable", arguments='{"name": "df"}')
    reply = Reply(text="ignored, however long", chunks=1, delay=0.0, tool_call=call)
    assert token_usage([_user("hi")], reply) == (1, 4)  # 14 characters of arguments


def _stream_chunks(server: EchoModelServer, body: dict[str, Any]) -> list[dict[str, Any]]:
    request = _post(server.url + "/chat/completions", {**body, "stream": True})
    with urllib.request.urlopen(request, timeout=10) as response:
        lines = [line.decode() for line in response.read().splitlines() if line.strip()]
    assert lines[-1] == "data: [DONE]"
    return [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]


def test_server_reports_usage_in_a_non_streamed_completion(server: EchoModelServer) -> None:
    messages = [{"role": "system", "content": "You are Copilot."}, _user("hello [[echo:repeat=9]]")]
    server.clear_reported_usage()
    request = _post(server.url + "/chat/completions", {"model": "echo", "messages": messages})
    with urllib.request.urlopen(request, timeout=10) as response:
        usage = json.load(response)["usage"]
    prompt, completion = token_usage(messages, compose_reply(messages))
    assert usage == {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    assert completion > 1
    assert server.reported_usage == [(prompt, completion)]


def test_server_streams_usage_last_when_asked(server: EchoModelServer) -> None:
    messages = [_user("first"), _user("stream me [[echo:chunks=3]]")]
    server.clear_reported_usage()
    body = {"model": "echo", "messages": messages, "stream_options": {"include_usage": True}}
    *chunks, last = _stream_chunks(server, body)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all("usage" not in chunk for chunk in chunks)
    assert last["object"] == "chat.completion.chunk"
    assert last["choices"] == []
    prompt, completion = token_usage(messages, compose_reply(messages))
    assert last["usage"] == {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    assert server.reported_usage == [(prompt, completion)]


def test_server_streams_no_usage_unless_asked(server: EchoModelServer) -> None:
    server.clear_reported_usage()
    chunks = _stream_chunks(server, {"model": "echo", "messages": [_user("hi")]})
    assert all("usage" not in chunk and chunk["choices"] for chunk in chunks)
    assert server.reported_usage == []


def test_server_streams_usage_of_a_tool_call(server: EchoModelServer) -> None:
    messages = [_user(ASKS_FOR_TOOL)]
    body = {
        "model": "echo",
        "messages": messages,
        "tools": TOOLS,
        "stream_options": {"include_usage": True},
    }
    server.clear_reported_usage()
    *chunks, last = _stream_chunks(server, body)
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert last["choices"] == []
    assert last["usage"]["completion_tokens"] == 4  # '{"name": "df"}': 14 characters
    assert server.reported_usage == [token_usage(messages, compose_reply(messages, tools=TOOLS))]


def test_reported_usage_adds_up_over_requests_and_clears(server: EchoModelServer) -> None:
    server.clear_reported_usage()
    for text in ("one", "two [[echo:repeat=20]]"):
        request = _post(server.url + "/chat/completions", {"messages": [_user(text)]})
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    reported = server.reported_usage
    assert len(reported) == 2
    assert reported[1][1] > reported[0][1]
    reported.append((0, 0))  # a copy: changing it changes nothing in the server
    assert len(server.reported_usage) == 2
    server.clear_reported_usage()
    assert server.reported_usage == []


def test_server_records_which_api_key_came_with_which_prompt(server: EchoModelServer) -> None:
    for key, prompt in (("key-of-ada", "from ada"), ("", "without a key")):
        request = _post(server.url + "/chat/completions", {"messages": [_user(prompt)]})
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        with urllib.request.urlopen(request, timeout=10):
            pass
    assert server.api_keys[-2:] == [("key-of-ada", "from ada"), ("", "without a key")]


NOTEBOOK_TOOLS = [
    {"type": "function", "function": {"name": name, "parameters": {}}}
    for name in ("read_notebook", "edit_cell", "insert_cell", "delete_cell", "run_cell")
]
READ = (
    "--- cell c-1 (markdown)\n# Sales\n\n--- cell c-2 (code, In [4])\nx = 1\nprint(x)\n"
    "--- output:\n1\n\n--- cell c-3 (code)\nplot(x)"
)


def _answered(messages: list[dict[str, Any]], call: Any, result: str) -> list[dict[str, Any]]:
    return [
        *messages,
        {"role": "assistant", "content": None, "tool_calls": [{"id": call.call_id}]},
        {"role": "tool", "tool_call_id": call.call_id, "content": result},
    ]


@pytest.mark.parametrize(
    ("trigger", "name", "arguments"),
    [
        (
            "edit=x = 1=>x = 2\\ny = 3",
            "edit_cell",
            {"cell_id": "c-2", "source": "x = 2\ny = 3\nprint(x)"},
        ),
        (
            "insert=plot=>show()",
            "insert_cell",
            {"after_cell_id": "c-3", "cell_type": "code", "source": "show()"},
        ),
        (
            "insert_markdown=Sales=>## Notes",
            "insert_cell",
            {"after_cell_id": "c-1", "cell_type": "markdown", "source": "## Notes"},
        ),
        ("delete=plot(", "delete_cell", {"cell_id": "c-3"}),
        ("run=print", "run_cell", {"cell_id": "c-2"}),
        ("run=nowhere", "run_cell", {"cell_id": ""}),
    ],
)
def test_a_notebook_trigger_reads_the_notebook_then_acts_on_the_cell_holding_the_text(
    trigger: str, name: str, arguments: dict[str, str]
) -> None:
    asking = [_user(f"tidy [[echo:{trigger}]]")]
    read = compose_reply(asking, tools=NOTEBOOK_TOOLS).tool_call
    assert read is not None
    assert read.name == "read_notebook"
    asking = _answered(asking, read, READ)
    call = compose_reply(asking, tools=NOTEBOOK_TOOLS).tool_call
    assert call is not None
    assert (call.name, json.loads(call.arguments)) == (name, arguments)
    reply = compose_reply(_answered(asking, call, "accepted: …"), tools=NOTEBOOK_TOOLS)
    assert reply.text.endswith(
        f"Tool read_notebook returned: «{READ}». Tool {name} returned: «accepted: …»."
    )
