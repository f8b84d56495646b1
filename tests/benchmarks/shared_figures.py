"""Figures of the shared runtime: fresh kernels' first reply and session, runtime memory.

The shared runtime is one ``copilot-magic serve`` per data directory, started by
the first kernel that needs it. "Already running" means a keeper kernel holds
it while the fresh kernels come and go. The baselines are measured in the same
run: the raw SDK spawning a runtime of its own in a fresh kernel, and kernels
with ``CopilotMagics.runtime = own`` (a runtime each, as before the shared one).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import psutil
from bench_env import Bench, BenchKernel
from figures import Row, alternate
from kernel_figures import MAGIC_FIRST_REPLY, RAW_FIRST_REPLY
from runtime_support import runtime_mode_env

from copilot_magic.runtime.served import read_server_state

MB = 2**20
OWN = {"COPILOT_MAGIC_RUNTIME": "own"}
SHARED = {**runtime_mode_env(), "COPILOT_MAGIC_RUNTIME": "shared"}  # stops 3 s after its kernels
OPEN_SESSION = """
import time as _t, json as _j
_t0 = _t.perf_counter()
get_ipython().run_line_magic("copilot_session", "{session_id}")
print(_j.dumps({{"open": _t.perf_counter() - _t0}}))
"""
# A person loads the extension, then writes the next cell: by then the SDK, which %load_ext
# imports in the background (about 0.8 s), is imported. Both paths get that first.
READY = "%load_ext copilot_magic\nimport copilot"
MAGIC_REPLY_READY = """
get_ipython().run_line_magic("copilot_session", "{session_id}")
get_ipython().run_cell_magic("copilot", "", "hello from a fresh kernel")
"""


def _seconds_of(kernel: BenchKernel, code: str, key: str) -> float:
    import json

    stdout = kernel.run(code).result.stdout
    return float(json.loads(stdout.strip().splitlines()[-1])[key])


def shared_start(bench: Bench, trials: int) -> list[Row]:
    """Figures 13 and 14: a fresh kernel's first reply with the shared runtime running,
    against the raw SDK spawning its own; a fresh kernel's ``%copilot_session`` on the
    running shared runtime, against a kernel starting a runtime of its own."""
    data_dir = bench.data_dir("shared-start")
    keeper = bench.kernel(data_dir, SHARED)
    keeper.run("%load_ext copilot_magic")
    keeper.run("%copilot_session bench-keeper")  # starts the shared runtime and holds it
    counter = iter(range(10_000))

    def fresh(mode: dict[str, str], code: Callable[[str], str], ready: bool) -> float:
        """Seconds of the cell ``code(session_id)`` in a fresh kernel, after an untimed cell
        that imports the SDK when ``ready``."""
        kernel = bench.kernel(data_dir, mode)
        if ready:
            kernel.run(READY)
        cell = kernel.run(code(f"fresh-{next(counter)}"))
        if mode is OWN:
            kernel.run("await client.stop()")
        kernel.shutdown()
        return cell.seconds

    def magic(template: str) -> Callable[[str], str]:
        return lambda session_id: template.format(session_id=session_id)

    def raw(session_id: str) -> str:
        return RAW_FIRST_REPLY.format(
            runtime=bench.runtime,
            data_dir=str(data_dir),
            session_id=session_id,
            provider=bench.provider(),
        )

    def opened(mode: dict[str, str]) -> Callable[[], float]:
        def seconds() -> float:
            kernel = bench.kernel(data_dir, mode)
            kernel.run(READY)
            code = OPEN_SESSION.format(session_id=f"second-kernel-{next(counter)}")
            spent = _seconds_of(kernel, code, "open")
            kernel.shutdown()
            return spent

        return seconds

    cold = alternate(
        trials,
        lambda: fresh(SHARED, magic(MAGIC_FIRST_REPLY), ready=False),
        lambda: fresh(OWN, raw, ready=False),
    )
    ready = alternate(
        trials,
        lambda: fresh(SHARED, magic(MAGIC_REPLY_READY), ready=True),
        lambda: fresh(OWN, raw, ready=True),
    )
    second_open = alternate(trials, opened(SHARED), opened(OWN))
    keeper.shutdown()
    kernels = f"{trials} + {trials} fresh kernels, alternating"
    return [
        cold.ratio_row(
            "13a",
            "First reply in a fresh kernel, the shared runtime already running, in one cell "
            "with `%load_ext` (both paths import the SDK, about 0.75 s, in the cell) / the raw "
            "SDK spawning its own runtime",
            0.5,
            detail=f"{kernels}; the SDK's import bounds the ratio from below",
        ),
        ready.ratio_row(
            "13b",
            "First reply in a fresh kernel, the shared runtime already running, the SDK "
            "imported in an earlier cell (`%copilot_session`, `%%copilot`) / the raw SDK "
            "spawning its own runtime (start, create, turn)",
            0.5,
            detail=kernels,
        ),
        second_open.ratio_row(
            "14",
            "Another kernel's `%copilot_session ID` (the SDK imported in an earlier cell): on "
            "the running shared runtime / starting a runtime of its own (runtime = own)",
            0.2,
            detail=kernels,
        ),
    ]


def _runtime_memory(pids: list[int]) -> tuple[float, float]:
    """Resident and proportional memory (MB) of these runtimes and what they started."""
    rss = pss = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(pid)
            for process in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    info = process.memory_full_info()
                    rss += info.rss / MB
                    pss += getattr(info, "pss", info.rss) / MB
    return rss, pss


def _kernels_with_a_turn(bench: Bench, count: int, mode: dict[str, str]) -> list[BenchKernel]:
    data_dir = bench.data_dir(f"memory-{mode['COPILOT_MAGIC_RUNTIME']}-{count}")
    kernels = [bench.kernel(data_dir, mode) for _ in range(count)]
    for number, kernel in enumerate(kernels):
        kernel.run("%load_ext copilot_magic")
        kernel.run(f"%copilot_session memory-{number}")
        kernel.run(f"%%copilot\nhello from kernel {number}")
    return kernels


def runtime_memory(bench: Bench, counts: list[int]) -> list[Row]:
    """Figure 15: the memory of the runtimes serving ``count`` kernels, one turn each:
    the one shared runtime against one runtime per kernel."""
    rows = []
    for count in counts:
        own = _kernels_with_a_turn(bench, count, OWN)
        own_rss, own_pss = _runtime_memory([p for k in own for p in k.kernel.runtime_pids()])
        for kernel in own:
            kernel.shutdown()
        shared = _kernels_with_a_turn(bench, count, SHARED)
        state = read_server_state(bench.data_dir(f"memory-shared-{count}"))
        shared_rss, shared_pss = _runtime_memory([state.pid] if state else [])
        for kernel in shared:
            kernel.shutdown()
        ratio = shared_rss / own_rss if own_rss else float("inf")
        rows.append(
            Row(
                f"15{'abcdefgh'[len(rows)]}",
                f"Runtime memory serving {count} kernels (one turn each): one shared runtime "
                f"/ {count} runtimes of their own",
                f"{shared_rss:,.0f} MB RSS",
                f"{own_rss:,.0f} MB RSS",
                f"{ratio:.2f}×",
                "≤ 0.35× raw",
                ratio <= 0.35,
                f"PSS (shared pages split between processes): {shared_pss:,.0f} MB against "
                f"{own_pss:,.0f} MB",
            )
        )
    return rows
