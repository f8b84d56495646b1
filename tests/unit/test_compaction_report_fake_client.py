"""What a compaction says: only the figures the runtime reported, in one wording that
``%copilot_session --compact`` and ``copilot-magic compact`` share (over the fake SDK client)."""

from __future__ import annotations

import argparse

import pytest
from fake_sdk import FakeClient
from IPython.core.interactiveshell import InteractiveShell

from copilot_magic.cli.console import Console
from copilot_magic.cli.verbs import verb
from copilot_magic.operations.table import operation
from copilot_magic.runtime.sdk import Compacted
from copilot_magic.sessions.store import SessionStore
from copilot_magic.views.text import compaction_words


def _compacted(tokens_removed: int, tokens_after: int = 900) -> Compacted:
    return Compacted(
        done=True,
        messages_removed=5,
        tokens_removed=tokens_removed,
        messages_after=2,
        tokens_after=tokens_after,
        token_limit=128_000,
    )


def test_a_compaction_reported_as_freeing_0_tokens_claims_no_tokens_saved() -> None:
    assert compaction_words("s1", _compacted(tokens_removed=0)) == (
        "Compacted s1: 5 messages summarised; the model now sees 2 messages, 900 tokens "
        "of 128,000. The history keeps every turn."
    )


def test_a_compaction_says_the_tokens_it_freed_when_the_runtime_counted_some() -> None:
    said = compaction_words("s1", _compacted(tokens_removed=1234))
    assert said.startswith("Compacted s1: 5 messages summarised (1,234 tokens freed); ")


def test_a_context_reported_as_0_tokens_is_not_given_a_token_figure() -> None:
    said = compaction_words("s1", _compacted(tokens_removed=0, tokens_after=0))
    assert said == "Compacted s1: 5 messages summarised; the model now sees 2 messages. " + (
        "The history keeps every turn."
    )


def test_compacting_again_with_no_prompt_since_says_there_was_nothing_new_fake_client(
    store: SessionStore,
) -> None:
    store.open("c2")
    store.converse("c2", "one")
    assert store.compact("c2").done
    again = store.compact("c2")  # the runtime refuses: "Nothing to compact."
    assert again == Compacted(False, 0, 0, None, None, None)
    assert compaction_words("c2", again) == (
        "The runtime did not compact c2: there was nothing new to summarise."
    )


def test_the_magic_and_the_command_print_the_same_compaction_line_fake_client(
    ip: InteractiveShell, store: SessionStore, capsys: pytest.CaptureFixture[str]
) -> None:
    ip.run_line_magic("load_ext", "copilot_magic")
    ip._copilot_magics._store = store
    assert ip.run_cell("%copilot_session c1").success
    for prompt in ("one", "two"):
        store.converse("c1", prompt)
    client = store.bridge.client()
    assert isinstance(client, FakeClient)
    client.stored["c1"].tokens_compacted = 0
    capsys.readouterr()
    assert ip.run_cell("%copilot_session --compact").success
    from_the_magic = capsys.readouterr().out
    for prompt in ("three", "four"):
        store.converse("c1", prompt)
    verb(operation("compact"))(argparse.Namespace(session_id="c1"), store, Console([]))
    from_the_command = capsys.readouterr().out
    assert from_the_magic == from_the_command
    assert from_the_magic == (
        "Compacted c1: 2 messages summarised; the model now sees 1 message, 100 tokens "
        "of 1,000. The history keeps every turn.\n"
    )
