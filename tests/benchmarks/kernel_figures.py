"""Figures measured in real kernels: turns, first token, start-up, streaming, resume, memory.

The raw SDK baseline runs in the same kernel as the magic, on the same
runtime and, where the figure says so, the same session object: the magic's
own client and session, driven directly with ``session.send_and_wait``. The
difference between the two is exactly what the magic adds. Cells are timed
with the kernel's own message stamps (``execute_input`` to ``idle``), so the
client's side of the wire adds nothing to either.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from pathlib import Path

import psutil
from bench_env import Bench, BenchKernel
from figures import MS, Paired, Row, alternate, median_ms, spread_ms

ECHO_FIRST_WORDS = "I received"

# Defined once per kernel: the raw SDK path, on the magic's runtime and session.
RAW_HELPERS = '''
import asyncio as _bench_asyncio, json as _bench_json, time as _bench_time

def _bench_raw_turn(prompt, session_id):
    """One turn sent with the raw SDK (send_and_wait) on the magic's own session object."""
    store = get_ipython()._copilot_magics.store
    session = store.live._live[session_id].session
    marks = {"first": None, "deltas": 0}

    def on_event(event):
        if getattr(event.type, "value", event.type) == "assistant.message_delta":
            if marks["first"] is None:
                marks["first"] = _bench_time.time()
            marks["deltas"] += 1

    async def turn():
        unsubscribe = session.on(on_event)
        try:
            return await session.send_and_wait(prompt, timeout=600)
        finally:
            unsubscribe()

    final = _bench_asyncio.run_coroutine_threadsafe(turn(), store.bridge._handles.loop).result()
    print(_bench_json.dumps({**marks, "text": final.data.content}))

def _bench_options(store):
    """The raw SDK's session options, as the magic passes them (model, provider)."""
    from copilot_magic.runtime import sdk
    settings = store.settings
    return sdk.session_options(settings.model, settings.provider_config(), None)

def _bench_raw_resume(session_id):
    """Resume a stored session with the raw SDK on the magic's runtime."""
    store = get_ipython()._copilot_magics.store
    options = _bench_options(store)
    async def resume():
        return await store.bridge.client().resume_session(session_id, **options)
    session = _bench_asyncio.run_coroutine_threadsafe(resume(), store.bridge._handles.loop).result()
    globals()["_bench_resumed"] = session

def _bench_forget(session_id):
    """Close both paths' session objects, so that the next resume reads the session again."""
    store = get_ipython()._copilot_magics.store
    loop = store.bridge._handles.loop
    resumed = globals().pop("_bench_resumed", None)
    if resumed is not None:
        _bench_asyncio.run_coroutine_threadsafe(resumed.disconnect(), loop).result()
    store.live.let_go(session_id)
    store.places.claims.release(session_id)
'''


def _raw_marks(cell_stdout: str) -> dict[str, object]:
    marks: dict[str, object] = json.loads(cell_stdout.strip().splitlines()[-1])
    return marks


def prepared_kernel(bench: Bench, name: str, session_id: str | None = None) -> BenchKernel:
    kernel = bench.kernel(bench.data_dir(name))
    kernel.run("%load_ext copilot_magic")
    kernel.run(RAW_HELPERS)
    if session_id:
        kernel.run(f"%copilot_session {session_id}")
    return kernel


def turns_and_first_token(bench: Bench, trials: int) -> list[Row]:
    """Figures 1 and 2: a whole turn, and the first visible token, magic against raw."""
    session_id = "bench-turns"
    kernel = prepared_kernel(bench, "turns", session_id)
    prompt = "Tell me about turns. [[echo:repeat=150]] [[echo:chunks=50]]"
    first = Paired()

    def ours() -> float:
        cell = kernel.run(f"%%copilot\n{prompt}")
        first.ours.append(cell.first_display_with(ECHO_FIRST_WORDS))
        return cell.seconds

    def raw() -> float:
        cell = kernel.run(f"_bench_raw_turn({prompt!r}, {session_id!r})")
        first.raw.append(float(str(_raw_marks(cell.result.stdout)["first"])) - cell.started)
        return cell.seconds

    alternate(2, ours, raw)  # warm both paths up; not counted
    first.ours.clear()
    first.raw.clear()
    turns = alternate(trials, ours, raw)
    kernel.shutdown()
    detail = f"{trials} + {trials} alternating turns of a 50-chunk reply, one session"
    return [
        turns.ratio_row(
            "1",
            "Turn: a `%%copilot` cell (on the shared runtime)",
            1.05,
            floor_ms=10,
            detail=detail,
        ),
        Row(
            "2",
            "First visible token (cell start → first shown text / first delta event)",
            f"{first.ours_ms:.1f} ms ({spread_ms(first.ours)})",
            f"{first.raw_ms:.1f} ms ({spread_ms(first.raw)})",
            f"{first.ours_ms - first.raw_ms:+.1f} ms",
            "≤ +20 ms",
            first.ours_ms - first.raw_ms <= 20,
            detail,
        ),
    ]


MAGIC_FIRST_REPLY = """
import json as _j, time as _t
_t0 = _t.perf_counter()
get_ipython().run_line_magic("load_ext", "copilot_magic")
_t1 = _t.perf_counter()
get_ipython().run_line_magic("copilot_session", "{session_id}")
get_ipython().run_cell_magic("copilot", "", "hello from a fresh kernel")
print(_j.dumps({{"load_ext": _t1 - _t0}}))
"""

RAW_FIRST_REPLY = """
from copilot import CopilotClient, RuntimeConnection
from copilot.rpc import PermissionDecisionReject
client = CopilotClient(
    connection=RuntimeConnection.for_stdio(path={runtime!r}),
    base_directory={data_dir!r},
    log_level="error",
)
await client.start()
session = await client.create_session(
    session_id={session_id!r},
    streaming=True,
    available_tools=[],
    on_permission_request=lambda request, invocation: PermissionDecisionReject(feedback="no"),
    model="echo",
    provider={provider!r},
)
final = await session.send_and_wait("hello from a fresh kernel")
print(final.data.content)
"""


def start_up(bench: Bench, trials: int) -> list[Row]:
    """Figure 3: ``%load_ext``; the first reply in a fresh kernel (load, start, create, turn)
    with a runtime of its own, and with the shared runtime when none runs yet."""
    data_dir = bench.data_dir("start-up")
    load_ext: list[float] = []
    counter = iter(range(10_000))

    def first_reply(mode: str) -> Callable[[], float]:
        def ours() -> float:
            number = next(counter)
            # The shared runtime's cold start: a data directory no runtime serves yet.
            where = data_dir if mode == "own" else bench.data_dir(f"start-up-{number}")
            kernel = bench.kernel(where, {"COPILOT_MAGIC_RUNTIME": mode})
            cell = kernel.run(MAGIC_FIRST_REPLY.format(session_id=f"fresh-magic-{number}"))
            load_ext.append(float(str(_raw_marks(cell.result.stdout)["load_ext"])))
            kernel.shutdown()
            return cell.seconds

        return ours

    def raw() -> float:
        kernel = bench.kernel(data_dir)
        code = RAW_FIRST_REPLY.format(
            runtime=bench.runtime,
            data_dir=str(data_dir),
            session_id=f"fresh-raw-{next(counter)}",
            provider=bench.provider(),
        )
        cell = kernel.run(code)
        kernel.run("await client.stop()")
        kernel.shutdown()
        return cell.seconds

    own = alternate(trials, first_reply("own"), raw)
    shared = alternate(trials, first_reply("shared"), raw)
    return [
        Row(
            "3a",
            "`%load_ext copilot_magic` in a fresh kernel",
            f"{median_ms(load_ext):.1f} ms ({spread_ms(load_ext)})",
            "—",
            "—",
            "< 50 ms",
            median_ms(load_ext) < 50,
            f"{len(load_ext)} fresh kernels",
        ),
        own.ratio_row(
            "3b",
            "First reply in a fresh kernel with a runtime of its own (runtime = own: load, "
            "start runtime, create, first turn)",
            1.10,
            detail=f"{trials} + {trials} fresh kernels, alternating",
        ),
        shared.ratio_row(
            "3c",
            "First reply in the first kernel of a data directory (runtime = shared: load, "
            "start the shared runtime, create, first turn)",
            1.10,
            detail=f"{trials} + {trials} fresh kernels and data directories, alternating",
        ),
    ]


def streaming(bench: Bench, trials: int, tokens: int) -> list[Row]:
    """Figure 4: a long reply at 2,000 tokens a second, magic against raw, fresh sessions."""
    kernel = prepared_kernel(bench, "streaming")
    # The echo model splits its reply into `chunks` pieces of about ten characters.
    words = tokens - 20
    prompt = (
        f"Stream. [[echo:repeat={words}]] [[echo:chunks={tokens}]] [[echo:delay={1 / 2000:.4f}]]"
    )
    counter = iter(range(10_000))
    rates: list[float] = []
    deltas: list[int] = []
    texts: dict[str, set[str]] = {"ours": set(), "raw": set()}

    def ours() -> float:
        kernel.run(f"%copilot_session stream-magic-{next(counter)}")
        cell = kernel.run(f"%%copilot\n{prompt}")
        updates = [m for m in cell.messages if m["msg_type"] == "update_display_data"]
        *streamed, final = updates  # the last update is the one exact final text
        if len(streamed) > 1:  # a short reply on a busy machine may be shown once, then final
            span = cell.stamp(streamed[-1]) - cell.stamp(streamed[0])
            rates.append((len(streamed) - 1) / span)
        texts["ours"].add(final["content"]["data"]["text/plain"])
        return cell.seconds

    def raw() -> float:
        session_id = f"stream-raw-{next(counter)}"
        kernel.run(f"%copilot_session {session_id}")
        cell = kernel.run(f"_bench_raw_turn({prompt!r}, {session_id!r})")
        marks = _raw_marks(cell.result.stdout)
        deltas.append(int(str(marks["deltas"])))
        texts["raw"].add(str(marks["text"]))
        return cell.seconds

    paired = alternate(trials, ours, raw)
    kernel.shutdown()
    identical = len(texts["ours"]) == 1 and texts["ours"] == texts["raw"]
    reply_chars = len(next(iter(texts["raw"])))
    rate, fastest = (statistics.median(rates), max(rates)) if rates else (0.0, 0.0)
    row = paired.ratio_row(
        "4",
        f"Streaming a {tokens:,}-token reply at 2,000 tokens/s",
        1.05,
        detail=(
            f"{trials} + {trials} trials; {reply_chars:,} characters in "
            f"{statistics.median(deltas):,.0f} delta events; {rate:.1f} display updates/s "
            f"(max {fastest:.1f}); final text identical to raw: {'yes' if identical else 'NO'}"
        ),
    )
    row.target = "≤ 1.05× raw; ≤ ~10 updates/s; identical text"
    row.met = bool(row.met) and fastest <= 10.5 and identical
    return [row]


def resume(bench: Bench, source_dir: Path, session_id: str, turns: int, trials: int) -> list[Row]:
    """Figure 6: ``%copilot_session ID`` of a long session against raw ``resume_session``."""
    kernel = bench.kernel(source_dir)
    kernel.run("%load_ext copilot_magic")
    kernel.run(RAW_HELPERS)
    kernel.run("%copilot_session bench-warm-up")  # start the runtime before timing

    def ours() -> float:
        cell = kernel.run(f"%copilot_session {session_id}")
        kernel.run(f"_bench_forget({session_id!r})")
        return cell.seconds

    def raw() -> float:
        cell = kernel.run(f"_bench_raw_resume({session_id!r})")
        kernel.run(f"_bench_forget({session_id!r})")
        return cell.seconds

    alternate(1, ours, raw)  # the first read of the files; not counted
    paired = alternate(trials, ours, raw)
    kernel.shutdown()
    return [
        paired.ratio_row(
            "6",
            f"Resume a {turns:,}-turn session: `%copilot_session ID`",
            1.20,
            detail=f"{trials} + {trials} alternating resumes in one kernel",
        )
    ]


def memory(bench: Bench, turns: int) -> tuple[Row, float]:
    """Figure 7a: kernel memory after ``turns`` turns minus after one."""
    kernel = prepared_kernel(bench, "memory", "bench-memory")
    process = psutil.Process(kernel.pid)
    kernel.run("%%copilot\nturn 1")
    after_one = process.memory_info().rss
    cell_seconds = []
    for n in range(2, turns + 1):
        cell_seconds.append(kernel.run(f"%%copilot\nturn {n}").seconds)
    grown = (process.memory_info().rss - after_one) / 2**20
    kernel.shutdown()
    row = Row(
        "7a",
        f"Kernel memory: after {turns} turns minus after 1",
        f"{grown:+.1f} MB",
        "—",
        "—",
        "< 20 MB",
        grown < 20,
        f"RSS of the kernel process; median cell {statistics.median(cell_seconds) * MS:.0f} ms",
    )
    return row, grown
