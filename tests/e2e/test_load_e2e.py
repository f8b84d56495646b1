"""Load: many cells, many kernels, huge prompts and replies, many and long sessions.

Everything runs on the real runtime, the real SDK and real kernels; the model
is the echo model, whose replies state how many user messages it received and
quote the first and the last whole, so a reply proves what context the model
was given. Durations and memory are printed and recorded in the Reliability
table, never asserted: what is asserted are counts (turns stored, replies
quoted whole, display updates fewer than the pieces that arrived); the rate
of updates is the throttle's unit tests' and the benchmark's. The 1,000
sessions and the 5,000-turn histories are built on disk from real runtime
files (see ``synthetic_sessions``).
"""

from __future__ import annotations

import json
import random
import re
import string
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from reliability import Reliability
from runtime_support import converse

from copilot_magic.sessions.catalog import StoreCatalog
from copilot_magic.sessions.files import SessionFiles
from copilot_magic.sessions.store import SessionStore
from copilot_magic.ui.panel import SessionBrowser

from .cells import copilot_cell, error_shown, reply_of
from .kernels import CellResult, Kernel
from .synthetic_sessions import build_long_session, clone_sessions

pytestmark = pytest.mark.slow

ABSTAIN_SIGNAL = "[[POR_ABSTAIN]]"
RUNTIME_PID = "get_ipython()._copilot_magics.store.bridge.runtime_pid"
MB = 1024 * 1024


def echo_says(count: int, first: str, last: str) -> str:
    """The echo model's whole reply when it received ``count`` user messages."""
    plural = "" if count == 1 else "s"
    return (
        f'I received {count} user message{plural}. The first was: "{first}". '
        f'The last was: "{last}".'
    )


def shown(result: CellResult) -> str:
    """The reply display after its final update (``text/plain``), notices included."""
    return str(reply_of(result)["data"]["text/plain"])


def reply_text(result: CellResult) -> str:
    """The reply itself: the display's text without the notices below it (``↻ ...``)."""
    return shown(result).split("\n↻ ")[0]


LIMIT_NOTICE = "↻ The conversation is longer than the model's limit"


def kernel_value(kernel: Kernel, expression: str) -> str:
    """What ``print(expression)`` shows in the kernel."""
    result = kernel.execute(f"print({expression})")
    assert result.error is None, result.error_line
    return result.stdout.strip()


def rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / MB


def stored(data_dir: Path) -> SessionFiles:
    """The sessions as the runtime wrote them, read straight from the data directory."""
    return SessionFiles(data_dir, ABSTAIN_SIGNAL)


# -- many turns, many kernels -----------------------------------------------------------


@pytest.mark.reliability("Load", "200 consecutive cells in one kernel")
def test_200_consecutive_cells_are_all_stored_the_last_reply_saw_200_and_kernel_memory_is_bounded(
    start_kernel: Callable[[], Kernel], data_dir: Path, reliability: Reliability
) -> None:
    cells = 200

    def prompt(n: int) -> str:
        return f"cell {n:03d} of {cells}"

    reliability.tried(f"{cells} consecutive %%copilot cells in one kernel", times=cells)
    kernel = start_kernel()
    kernel.execute("%copilot_session load-200")
    kernel_pid = int(kernel_value(kernel, "__import__('os').getpid()"))
    started = time.monotonic()
    for n in range(1, cells + 1):
        text = reply_text(kernel.execute(copilot_cell(prompt(n))))
        assert text == echo_says(n, prompt(1), prompt(n)), f"cell {n}"
        if n == 1:
            runtime_pid = int(kernel_value(kernel, RUNTIME_PID))
            kernel_first, runtime_first = rss_mb(kernel_pid), rss_mb(runtime_pid)
    seconds = time.monotonic() - started
    kernel_last, runtime_last = rss_mb(kernel_pid), rss_mb(runtime_pid)
    assert int(kernel_value(kernel, RUNTIME_PID)) == runtime_pid, "the runtime was replaced"

    turns = stored(data_dir).turns("load-200")
    assert [t.prompt for t in turns] == [prompt(n) for n in range(1, cells + 1)]
    assert turns[-1].reply == echo_says(cells, prompt(1), prompt(cells))
    history = kernel.execute("%copilot_session --history").printed
    assert history.startswith(f"Session load-200: {cells} turns\n")

    growth = kernel_last - kernel_first
    figures = (
        f"{cells}/{cells} turns stored; last reply: {cells} user messages; "
        f"{seconds:.1f} s ({seconds / cells * 1000:.0f} ms a cell); "
        f"kernel RSS {kernel_first:.0f} -> {kernel_last:.0f} MB ({growth:+.1f} MB); "
        f"runtime RSS {runtime_first:.0f} -> {runtime_last:.0f} MB "
        f"({runtime_last - runtime_first:+.1f} MB)"
    )
    print(figures)  # memory is a figure here; the benchmark measures its growth
    reliability.held(figures)


@pytest.mark.reliability("Load", "10 kernels x 20 turns at once, one data directory")
@pytest.mark.both_runtimes
def test_ten_kernels_at_once_on_one_data_directory_store_twenty_turns_each_uncrossed(
    start_kernel: Callable[[], Kernel], data_dir: Path, reliability: Reliability
) -> None:
    kernel_count, turn_count = 10, 20
    tags = [f"k{n:02d}x{uuid.uuid4().hex[:8]}" for n in range(kernel_count)]
    session_ids = [f"load-{tag}" for tag in tags]

    def prompt(tag: str, turn: int) -> str:
        return f"kernel {tag} turn {turn:02d}"

    reliability.tried(
        f"{kernel_count} kernels on one data directory, each {turn_count} turns on its own "
        "session, cells sent to all kernels before collecting any",
        times=kernel_count * turn_count,
    )
    kernels = [start_kernel() for _ in tags]
    sent = [k.send(f"%copilot_session {s}") for k, s in zip(kernels, session_ids, strict=True)]
    for kernel, msg_id, session_id in zip(kernels, sent, session_ids, strict=True):
        assert kernel.collect(msg_id).stdout.strip() == f"Created session {session_id}"

    started = time.monotonic()
    for turn in range(1, turn_count + 1):
        sent = [k.send(copilot_cell(prompt(t, turn))) for k, t in zip(kernels, tags, strict=True)]
        for kernel, msg_id, tag, session_id in zip(kernels, sent, tags, session_ids, strict=True):
            reply = reply_of(kernel.collect(msg_id))
            assert reply["data"]["text/plain"] == echo_says(
                turn, prompt(tag, 1), prompt(tag, turn)
            ), f"{session_id} turn {turn}"
            assert reply["metadata"]["copilot_magic"]["session_id"] == session_id
    seconds = time.monotonic() - started
    runtimes = sum(rss_mb(int(kernel_value(k, RUNTIME_PID))) for k in kernels)

    files = stored(data_dir)
    assert files.session_ids() == sorted(session_ids)
    for tag, session_id in zip(tags, session_ids, strict=True):
        turns = files.turns(session_id)
        assert [t.prompt for t in turns] == [prompt(tag, n) for n in range(1, turn_count + 1)]
        history = files.events_path(session_id).read_text()
        crossed = [other for other in tags if other != tag and other in history]
        assert crossed == [], f"{session_id} holds other kernels' words: {crossed}"

    total = kernel_count * turn_count
    figures = (
        f"{total}/{total} turns stored ({turn_count} per session), 0 crossed; "
        f"{seconds:.1f} s for the {turn_count} rounds ({seconds / turn_count:.2f} s a round "
        f"of {kernel_count} overlapping cells); {kernel_count} runtimes {runtimes:.0f} MB RSS"
    )
    print(figures)
    reliability.held(figures)


# -- huge prompts and replies -----------------------------------------------------------


def wide_table(size: int = 1_000_000, width: int = 1000) -> str:
    """``size`` characters of numbered rows ruled with '=': few tokens for its size."""
    count = size // width
    rows = []
    for n in range(1, count + 1):
        head, tail = f"row {n:04d} of {count} ", f" end of row {n:04d}"
        rows.append(head + "=" * (width - 1 - len(head) - len(tail)) + tail)
    text = "\n".join(rows) + "."
    assert len(text) == size
    return text


def random_prose(size: int = 1_000_000, seed: int = 1125) -> str:
    """``size`` characters of random lower-case words: about 470,000 tokens."""
    rng = random.Random(seed)
    words: list[str] = []
    length = 0
    while length < size:
        word = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9)))
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[: size - 1] + "z"


@pytest.mark.reliability("Load", "1 MB prompt")
def test_a_1_mb_prompt_is_stored_whole_and_the_model_receives_it_whole(
    start_kernel: Callable[[], Kernel], data_dir: Path, reliability: Reliability
) -> None:
    big, first, after = wide_table(), "a short question first", "and after the big one?"
    reliability.tried(
        "a 1,000,000-character prompt (1,000 numbered rows ruled with '=', ~31k tokens) "
        "as the second cell of a session, then one more cell"
    )
    kernel = start_kernel()
    kernel.execute("%copilot_session load-1mb")
    reply_of(kernel.execute(copilot_cell(first)))
    started = time.monotonic()
    text = reply_text(kernel.execute(copilot_cell(big)))
    seconds = time.monotonic() - started

    assert text == echo_says(2, first, big), "the model did not quote the whole prompt"
    turns = stored(data_dir).turns("load-1mb")
    assert turns[1].prompt == big
    assert turns[1].reply == text
    assert reply_text(kernel.execute(copilot_cell(after))) == echo_says(3, first, after)

    figures = (
        f"stored prompt equals the 1,000,000 characters; the reply quotes them whole "
        f"({len(text):,} characters); cell {seconds:.1f} s; the next cell saw 3 messages"
    )
    print(figures)
    reliability.held(figures)


@pytest.mark.reliability("Load", "1 MB prompt over the model's prompt budget")
def test_a_1_mb_prompt_over_the_prompt_budget_fails_in_one_line_is_stored_and_the_next_cell_works(
    start_kernel: Callable[[], Kernel], data_dir: Path, reliability: Reliability
) -> None:
    big, after = random_prose(), "are you still there?"
    reliability.tried(
        "a 1,000,000-character prompt of random words (~470k tokens, over the runtime's "
        "128k-token budget for the model), then one more cell"
    )
    kernel = start_kernel()
    kernel.execute("%copilot_session load-1mb-prose")
    reply_of(kernel.execute(copilot_cell("remember the word quokka")))
    line = error_shown(kernel.execute(copilot_cell(big)))
    assert line.startswith(
        "TurnFailed: Copilot could not reply: Request exceeds the model's prompt budget"
    ), line

    turns = stored(data_dir).turns("load-1mb-prose")
    assert turns[1].prompt == big
    assert turns[1].error.startswith("Request exceeds the model's prompt budget")
    display = shown(kernel.execute(copilot_cell(after)))
    assert LIMIT_NOTICE in display, "the shortened context was not announced"
    text = display.split("\n↻ ")[0]
    assert text.startswith("I received ")
    assert text.endswith(f'The last was: "{after}".')

    seen = re.match(r"I received (\d+) user message", text)
    assert seen
    kept = len(stored(data_dir).turns("load-1mb-prose"))
    figures = (
        f"one line: {line.removeprefix('TurnFailed: ')!r}; prompt stored whole; the next cell "
        f"answered, its model seeing {seen[1]} of the {kept} stored prompts"
    )
    print(figures)
    reliability.held(figures)


def filler_words_for(length: int) -> int:
    """How many of the echo's ``[[echo:repeat=N]]`` words make at least ``length`` characters."""
    count = size = 0
    while size < length:
        size += len(f" word{count}")
        count += 1
    return count


@pytest.mark.reliability("Load", "100,000-character reply streamed into a cell")
def test_a_100000_character_reply_streams_throttled_and_its_final_display_equals_the_stored_reply(
    start_kernel: Callable[[], Kernel], data_dir: Path, reliability: Reliability
) -> None:
    chunks = 200
    prompt = f"[[echo:repeat={filler_words_for(100_000)}]] [[echo:chunks={chunks}]]"
    prompt += " [[echo:delay=0.01]] a long answer please"
    reliability.tried(f"a reply of over 100,000 characters streamed in {chunks} chunks")
    kernel = start_kernel()
    kernel.execute("%copilot_session load-long-reply")
    started = time.monotonic()
    result = kernel.execute(copilot_cell(prompt))
    seconds = time.monotonic() - started

    shown = reply_text(result)
    (reply,) = stored(data_dir).turns("load-long-reply")
    assert len(reply.reply) >= 100_000
    assert shown == reply.reply
    stages = [u["content"]["metadata"]["copilot_magic"]["stage"] for u in kernel.updates]
    assert stages[-1] == "done"
    assert "streaming" in stages, "the reply was not streamed"
    updates = len(kernel.updates)
    assert updates < chunks, f"{updates} display updates for {chunks} pieces: not coalesced"

    figures = (
        f"final display equals the stored {len(reply.reply):,}-character reply; "
        f"{updates} display updates for {chunks} chunks in {seconds:.1f} s "
        f"({updates / seconds:.1f} a second)"
    )
    print(figures)
    reliability.held(figures)


# -- many sessions, long sessions -------------------------------------------------------


def started_store(open_store: Callable[[], SessionStore]) -> SessionStore:
    """A store whose runtime is already running, so timings leave the runtime's start out."""
    store = open_store()
    store.bridge.client()
    return store


@pytest.mark.reliability("Load", "1,000 sessions listed")
def test_1000_sessions_show_in_the_store_cli_panel_and_magic_and_a_clone_continues(
    open_store: Callable[[], SessionStore],
    start_kernel: Callable[[], Kernel],
    kernel_env: dict[str, str],
    data_dir: Path,
    reliability: Reliability,
) -> None:
    total = 1000
    seeds = {f"seed-{n}": [f"seed {n} first question", f"seed {n} second one"] for n in (1, 2, 3)}
    reliability.tried(
        f"{total} sessions ({len(seeds)} made by the runtime, the rest cloned on disk) listed "
        "by SessionStore, `copilot-magic list --json`, the panel and `%copilot_session --list`; "
        "one clone resumed and continued"
    )
    writer = open_store()
    for session_id, prompts in seeds.items():
        converse(writer, session_id, *prompts)
    writer.close()
    clones = [f"many-{n:04d}" for n in range(1, total - len(seeds) + 1)]
    started = time.monotonic()
    sources = clone_sessions(data_dir, list(seeds), clones)
    clone_seconds = time.monotonic() - started
    everyone = {*seeds, *clones}

    store = started_store(open_store)
    started = time.monotonic()
    summaries = store.summaries()
    store_seconds = time.monotonic() - started
    assert {s.session_id for s in summaries} == everyone
    assert {s.turns for s in summaries} == {2}

    started = time.monotonic()
    listed = subprocess.run(
        [sys.executable, "-m", "copilot_magic", "list", "--json"],
        env=kernel_env,
        cwd=data_dir.parent,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    cli_seconds = time.monotonic() - started
    assert listed.returncode == 0, listed.stderr
    assert {entry["id"] for entry in json.loads(listed.stdout)} == everyone

    catalog = StoreCatalog(started_store(open_store))
    started = time.monotonic()
    browser = SessionBrowser(catalog)
    panel_seconds = time.monotonic() - started
    assert {value for _label, value in browser.list.options} == everyone
    assert f"· {total:,} sessions" in browser.header.value

    kernel = start_kernel()
    magic_seconds = []
    for _ in range(2):  # the first call starts the runtime
        started = time.monotonic()
        listing = kernel.execute("%copilot_session --list").printed
        magic_seconds.append(time.monotonic() - started)
        header, *rows = listing.strip().splitlines()
        assert header.split() == ["ID", "TITLE", "LAST", "ACTIVE", "TOKENS", "IN/OUT", "TURNS"]
        assert {row.split()[0] for row in rows} == everyone

    clone = clones[len(clones) // 2]
    opened = kernel.execute(f"%copilot_session {clone}").stdout
    assert opened.startswith(f"Resumed session {clone}: 2 turns")
    first = seeds[sources[clone]][0]
    assert reply_text(kernel.execute(copilot_cell("and now?"))) == echo_says(3, first, "and now?")

    figures = (
        f"{total}/{total} sessions (clones made in {clone_seconds:.1f} s) listed by "
        f"SessionStore.summaries in {store_seconds:.2f} s, the panel in {panel_seconds:.2f} s, "
        f"`copilot-magic list --json` in {cli_seconds:.1f} s (a process with its runtime), "
        f"`%copilot_session --list` in {magic_seconds[0]:.1f} s with the runtime's start, then "
        f"{magic_seconds[1]:.2f} s; clone {clone} resumed with 2 turns and its model saw 3"
    )
    print(figures)
    reliability.held(figures)


LONG_TURNS = 5000


def long_prompt(n: int) -> str:
    return f"long turn {n:04d}"


def long_reply(n: int) -> str:
    return echo_says(n, long_prompt(1), long_prompt(n))


def make_long_session(
    open_store: Callable[[], SessionStore], data_dir: Path, session_id: str, *, dated: bool
) -> float:
    """A real two-turn seed, replicated into ``session_id`` of 5,000 turns; returns its MB."""
    seed = f"{session_id}-seed"
    writer = open_store()
    converse(writer, seed, "seed question one", "seed question two")
    writer.close()
    folder = build_long_session(
        data_dir, seed, session_id, LONG_TURNS, prompt=long_prompt, reply=long_reply, dated=dated
    )
    return (folder / "events.jsonl").stat().st_size / MB


@pytest.mark.reliability("Load", "5,000-turn session in the panel and --history")
def test_a_5000_turn_session_pages_in_the_panel_and_prints_whole_in_history(
    open_store: Callable[[], SessionStore],
    start_kernel: Callable[[], Kernel],
    data_dir: Path,
    reliability: Reliability,
) -> None:
    reliability.tried(
        "a 5,000-turn session (real runtime lines replicated) loaded in the panel, "
        "paged, and printed by %copilot_session --history in a kernel"
    )
    size = make_long_session(open_store, data_dir, "long-5000", dated=True)

    browser = SessionBrowser(StoreCatalog(open_store()))
    browser.list.value = "long-5000"
    started = time.monotonic()
    browser.load_button.click()
    load_seconds = time.monotonic() - started
    assert browser.status_text == "Loaded long-5000."
    assert f"{LONG_TURNS:,} turns" in browser.history_header.value
    assert browser.pages == LONG_TURNS // 20
    assert "page 1 of 250" in browser.page_label.value
    assert long_prompt(20) in browser.history.value
    assert long_prompt(21) not in browser.history.value
    browser.next_button.click()
    assert "page 2 of 250" in browser.page_label.value
    assert long_prompt(21) in browser.history.value

    kernel = start_kernel()
    started = time.monotonic()
    history = kernel.execute("%copilot_session --history long-5000").printed
    history_seconds = time.monotonic() - started
    assert history.startswith(f"Session long-5000: {LONG_TURNS:,} turns\n")
    assert len(re.findall(r"^\[\d+\] You, ", history, re.MULTILINE)) == LONG_TURNS
    for n in (1, LONG_TURNS):
        assert re.search(rf"^\[{n}\] You, [^\n]*:\n{long_prompt(n)}\n", history, re.MULTILINE)
        assert f"[{n}] Copilot, " in history
    assert history.rstrip().endswith(long_reply(LONG_TURNS))

    figures = (
        f"panel: {LONG_TURNS} turns, 250 pages, Load {load_seconds:.2f} s; --history printed "
        f"{LONG_TURNS}/{LONG_TURNS} turns, first and last right ({len(history) / MB:.1f} MB "
        f"of text, {history_seconds:.1f} s with a runtime start); history file {size:.1f} MB"
    )
    print(figures)
    reliability.held(figures)


def _resume_and_continue(kernel: Kernel, session_id: str) -> tuple[str, float, float]:
    """Resume ``session_id`` in ``kernel``, send one more prompt: its display, both durations."""
    started = time.monotonic()
    opened = kernel.execute(f"%copilot_session {session_id}").stdout
    resume_seconds = time.monotonic() - started
    assert opened.startswith(f"Resumed session {session_id}: {LONG_TURNS:,} turns")
    started = time.monotonic()
    display = shown(kernel.execute(copilot_cell("one more after 5000")))
    return display, resume_seconds, time.monotonic() - started


@pytest.mark.reliability("Load", "5,000-turn session resumed (fits the prompt budget)")
def test_a_resumed_5000_turn_session_within_the_prompt_budget_gives_the_model_all_5000_turns(
    open_store: Callable[[], SessionStore],
    start_kernel: Callable[[], Kernel],
    data_dir: Path,
    reliability: Reliability,
) -> None:
    reliability.tried(
        "a 5,000-turn session whose prompts carry no date line (so it fits the 128k-token "
        "budget) resumed in a kernel, then one more cell"
    )
    size = make_long_session(open_store, data_dir, "long-fit", dated=False)
    kernel = start_kernel()
    display, resume_seconds, turn_seconds = _resume_and_continue(kernel, "long-fit")
    text = display.split("\n↻ ")[0]

    assert text == echo_says(LONG_TURNS + 1, long_prompt(1), "one more after 5000")
    assert stored(data_dir).scan("long-fit").turns == LONG_TURNS + 1

    figures = (
        f"the model received {LONG_TURNS + 1}/{LONG_TURNS + 1} user messages, first to last; "
        f"{LONG_TURNS + 1} turns stored; history {size:.1f} MB; resume {resume_seconds:.1f} s "
        f"(runtime start included), turn {turn_seconds:.1f} s"
    )
    print(figures)
    reliability.held(figures)


@pytest.mark.reliability("Load", "5,000-turn session resumed (over the prompt budget)")
def test_a_resumed_5000_turn_session_over_the_prompt_budget_gives_the_model_its_newest_turns(
    open_store: Callable[[], SessionStore],
    start_kernel: Callable[[], Kernel],
    data_dir: Path,
    reliability: Reliability,
) -> None:
    reliability.tried(
        "a 5,000-turn session as the runtime writes it (each prompt behind a date line: "
        "~320k tokens) resumed in a kernel, then one more cell"
    )
    size = make_long_session(open_store, data_dir, "long-over", dated=True)
    kernel = start_kernel()
    display, resume_seconds, turn_seconds = _resume_and_continue(kernel, "long-over")
    assert LIMIT_NOTICE in display, "the shortened context was not announced"
    text = display.split("\n↻ ")[0]

    match = re.fullmatch(
        r'I received (\d+) user messages\. The first was: "long turn (\d{4})"\. '
        r'The last was: "one more after 5000"\.',
        text,
    )
    assert match, text
    received, oldest = int(match[1]), int(match[2])
    assert received == LONG_TURNS - oldest + 2, "the turns the model got have a gap"
    assert stored(data_dir).scan("long-over").turns == LONG_TURNS + 1

    figures = (
        f"the model received the newest {received - 1} turns (from turn {oldest}) without a "
        f"gap, plus the new prompt: the runtime cut the rest to fit its 128k-token budget; "
        f"{LONG_TURNS + 1}/{LONG_TURNS + 1} turns stored; history {size:.1f} MB; "
        f"resume {resume_seconds:.1f} s (runtime start included), turn {turn_seconds:.1f} s"
    )
    print(figures)
    reliability.held(figures)
