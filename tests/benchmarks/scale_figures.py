"""Figures of scale, measured in this process: the panel with many sessions, long histories.

The panel is the same code a kernel runs (``SessionBrowser`` over a
``StoreCatalog`` over a ``SessionStore`` with its own runtime); here it runs
without a front end, so the figures are the kernel's share of the work. Many
sessions and long histories are copied on disk from sessions the runtime
wrote (``tests/e2e/synthetic_sessions.py``), then read through the runtime.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_env import Bench
from e2e.synthetic_sessions import build_long_session, clone_sessions
from figures import Row, alternate, median_ms, spread_ms
from runtime_support import converse

from copilot_magic.runtime import sdk
from copilot_magic.sessions.catalog import StoreCatalog
from copilot_magic.sessions.store import SessionStore
from copilot_magic.ui.panel import SessionBrowser


def raw_session_options(store: SessionStore) -> dict[str, Any]:
    """The raw SDK's session options, as the magic passes them (model, provider)."""
    settings = store.settings
    return sdk.session_options(settings.model, settings.provider_config(), None)


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _ms(seconds: list[float]) -> str:
    return f"{median_ms(seconds):.0f} ms"


def sessions_at_scale(
    bench: Bench, sizes: list[int], trials: int
) -> tuple[list[Row], dict[str, list[str]]]:
    """Figure 5 (list and filter) at each size in ``sizes``; the rows are for the largest."""
    data_dir = bench.data_dir("many-sessions")
    seeds = {f"seed-{n}": [f"seed {n} question", f"seed {n} follow-up"] for n in (1, 2, 3)}
    writer = bench.store(data_dir)
    for session_id, prompts in seeds.items():
        converse(writer, session_id, *prompts)
    writer.close()
    store = bench.store(data_dir)
    client = store.bridge.client()
    growth: dict[str, list[str]] = {
        "raw `list_sessions`": [],
        "panel: list and show": [],
        "ratio": [],
        "filter keystroke": [],
    }
    made = len(seeds)
    rows: list[Row] = []
    for size in sizes:
        clones = [f"many-{n:05d}" for n in range(made - len(seeds) + 1, size - len(seeds) + 1)]
        clone_sessions(data_dir, list(seeds), clones)
        made = size
        listing = alternate(
            trials,
            lambda: timed(lambda: SessionBrowser(StoreCatalog(store))),
            lambda: timed(lambda: store.bridge.run(client.list_sessions())),
        )
        browser = SessionBrowser(StoreCatalog(store))
        assert len(browser.summaries) == size, (len(browser.summaries), size)
        queries = ["m", "ma", "man", "many", "many-", "many-0", "many-00", "seed", ""] * trials
        keystrokes = [timed(lambda q=q, b=browser: setattr(b.search, "value", q)) for q in queries]
        growth["raw `list_sessions`"].append(_ms(listing.raw))
        growth["panel: list and show"].append(_ms(listing.ours))
        growth["ratio"].append(f"{listing.ratio:.2f}×")
        growth["filter keystroke"].append(_ms(keystrokes))
        rows = [
            listing.ratio_row(
                "5a",
                f"Panel: {size:,} sessions listed and shown",
                1.20,
                detail=f"{trials} + {trials} alternating; the panel's kernel side, no browser",
            ),
            Row(
                "5b",
                f"Panel: a filter keystroke over {size:,} sessions",
                f"{median_ms(keystrokes):.1f} ms ({spread_ms(keystrokes)})",
                "—",
                "—",
                "< 50 ms",
                median_ms(keystrokes) < 50,
                f"{len(keystrokes)} keystrokes (id or title filter)",
            ),
        ]
    store.close()
    return rows, growth


def _seed_two_turns(bench: Bench, data_dir: Path, seed: str) -> None:
    writer = bench.store(data_dir)
    converse(writer, seed, "seed question one", "seed question two")
    writer.close()


def long_sessions(
    bench: Bench, sizes: list[int], trials: int
) -> tuple[list[Row], dict[str, list[str]], Path]:
    """Figure 5c (first page of a long history) and the resume figures, at each size.

    Returns the rows for the largest size, the growth series, and the data
    directory (which holds ``long-<size>`` for every size).
    """
    data_dir = bench.data_dir("long-sessions")
    _seed_two_turns(bench, data_dir, "long-seed")
    for size in sizes:
        build_long_session(
            data_dir,
            "long-seed",
            f"long-{size}",
            size,
            prompt=lambda n: f"question {n} about the data",
            reply=lambda n: f"answer {n}: the data has {n} rows and **bold** ideas.",
        )
    store = bench.store(data_dir)
    client = store.bridge.client()
    options = raw_session_options(store)
    growth: dict[str, list[str]] = {
        "raw `get_events` (whole history)": [],
        "panel: first page": [],
        "raw `resume_session`": [],
        "`SessionStore.open` (resume)": [],
        "resume ratio": [],
    }
    rows: list[Row] = []
    for size in sizes:
        session_id = f"long-{size}"

        def raw_resume(sid: str = session_id) -> float:
            started = time.perf_counter()
            session = store.bridge.run(client.resume_session(sid, **options))
            seconds = time.perf_counter() - started
            store.bridge.run(session.disconnect())
            return seconds

        def our_resume(sid: str = session_id) -> float:
            seconds = timed(lambda: store.open(sid))
            store.live.let_go(sid)
            store.places.claims.release(sid)
            return seconds

        resumes = alternate(trials, our_resume, raw_resume)
        session = store.bridge.run(client.resume_session(session_id, **options))
        events = [timed(lambda s=session: store.bridge.run(s.get_events())) for _ in range(trials)]
        store.bridge.run(session.disconnect())
        browser = SessionBrowser(StoreCatalog(store))
        pages = []
        for _ in range(trials):
            browser.list.value = session_id
            pages.append(timed(browser.load))
            assert browser.loaded == session_id
            assert len(browser.turns) == size
        growth["raw `get_events` (whole history)"].append(_ms(events))
        growth["panel: first page"].append(_ms(pages))
        growth["raw `resume_session`"].append(_ms(resumes.raw))
        growth["`SessionStore.open` (resume)"].append(_ms(resumes.ours))
        growth["resume ratio"].append(f"{resumes.ratio:.2f}×")
        rows = [
            Row(
                "5c",
                f"Panel: first page of a {size:,}-turn history",
                f"{median_ms(pages):.0f} ms ({spread_ms(pages)})",
                f"{median_ms(events):.0f} ms (raw `get_events`)",
                f"{median_ms(pages) / median_ms(events):.2f}×",
                "< 300 ms",
                median_ms(pages) < 300,
                f"{trials} loads; {_file_mb(data_dir, session_id):.1f} MB history",
            )
        ]
    store.close()
    return rows, growth, data_dir


def _file_mb(data_dir: Path, session_id: str) -> float:
    path = data_dir / "session-state" / session_id / "events.jsonl"
    return path.stat().st_size / 2**20
