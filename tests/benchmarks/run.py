"""The benchmark: every user-visible path against the raw SDK, on the real runtime.

``make bench`` runs it in full (about ten minutes); ``make bench QUICK=1`` (or
``--quick``) runs a short version, as CI does: two trials a figure (one where each trial
starts fresh kernels), smaller sizes and three kernels for the memory figure. It proves
every path still runs; its figures are rougher than a full run's. The notebook
tools' figures (16), which need JupyterLab and Chromium of their own, are left out
of the quick run, and its report says so.
It prints the table and writes it to ``artifacts/performance.md``;
``make tables`` copies it into docs/performance.md. The model is the echo model, so
every figure is the cost of copilot_magic and the runtime, not of a network.
A missed target is reported, never raised: benchmarks are not tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # tests/benchmarks, tests (for e2e helpers)

import psutil  # noqa: E402
from bench_env import Bench  # noqa: E402
from context_figures import kernel_context  # noqa: E402
from figures import Row, growth_table, performance_table  # noqa: E402
from kernel_figures import memory, resume, start_up, streaming, turns_and_first_token  # noqa: E402
from notebook_figures import notebook_tools  # noqa: E402
from runtime_support import REPO, find_runtime  # noqa: E402
from scale_figures import long_sessions, sessions_at_scale  # noqa: E402
from shared_figures import runtime_memory, shared_start  # noqa: E402

from copilot_magic.testing.echo_model import EchoModelServer  # noqa: E402

REPORT = REPO / "artifacts" / "performance.md"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    memory_gb = psutil.virtual_memory().total / 2**30
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory_gb:.0f} GB RAM, "
        f"Linux {platform.release()}, Python {platform.python_version()}"
    )


def _runtime_version(runtime: str) -> str:
    for parent in Path(runtime).resolve().parents:
        manifest = parent / "package.json"
        if manifest.is_file():
            import json

            return str(json.loads(manifest.read_text()).get("version", "?"))
    return "?"


STEPS = (
    "turns",
    "start-up",
    "shared",
    "streaming",
    "sessions",
    "long",
    "resume",
    "memory",
    "context",
    "notebook",
)
NOTEBOOK_LEFT_OUT = (
    "Figures 16a-16c (the notebook tools in JupyterLab and Chromium) are left out in quick "
    "mode; `make bench` runs them."
)


def run(quick: bool, only: set[str]) -> str:
    """Measure the figures of the steps in ``only``; returns the report (Markdown)."""
    runtime = find_runtime()
    trials = 2 if quick else 15
    session_sizes = [10, 100] if quick else [10, 100, 1000]
    turn_sizes = [50, 500] if quick else [50, 500, 5000]
    started = time.monotonic()
    rows: list[Row] = []
    growth: list[str] = []
    left_out: list[str] = []  # lines that say which figures the run leaves out, and why
    with EchoModelServer() as echo:
        bench = Bench(runtime, echo, quick)

        def step(name: str) -> bool:
            if name in only:
                print(f"… {name}", file=sys.stderr, flush=True)
            return name in only

        try:
            if step("turns"):
                rows.extend(turns_and_first_token(bench, trials))
            if step("start-up"):
                rows.extend(start_up(bench, 1 if quick else 11))
            if step("shared"):
                rows.extend(shared_start(bench, 1 if quick else 9))
                rows.extend(runtime_memory(bench, [3] if quick else [5, 10]))
            if step("streaming"):
                rows.extend(streaming(bench, 2 if quick else 3, 2000 if quick else 20000))
            if step("sessions"):
                list_rows, by_sessions = sessions_at_scale(bench, session_sizes, 2 if quick else 9)
                rows.extend(list_rows)
                growth += ["How the cost grows with the number of sessions (medians):", ""]
                growth += [growth_table("Sessions", session_sizes, by_sessions), ""]
            if step("long") or "resume" in only:
                page_rows, by_turns, long_dir = long_sessions(bench, turn_sizes, 2 if quick else 5)
                rows.extend(page_rows)
                growth += ["How the cost grows with the length of a session (medians):", ""]
                growth += [growth_table("Turns", turn_sizes, by_turns), ""]
                if step("resume"):
                    rows.extend(resume(bench, long_dir, "long-500", 500, trials))
            if step("memory"):
                rows.append(memory(bench, 50 if quick else 200)[0])
            if step("context"):
                rows.extend(kernel_context(bench, trials))
            if "notebook" in only and quick:
                left_out += [NOTEBOOK_LEFT_OUT, ""]
            elif step("notebook"):
                rows.extend(notebook_tools(bench, 20))
        finally:
            bench.close()
    rows.sort(key=lambda row: (int(row.number.rstrip("abcdefgh")), row.number))  # 3a, 3b, 10
    summary = _summary(quick, rows, runtime, time.monotonic() - started)
    return "\n".join([summary, "", *left_out, performance_table(rows), "", *growth])


def _summary(quick: bool, rows: list[Row], runtime: str, seconds: float) -> str:
    """The report's first line: the run, the targets met, the machine and the runtime."""
    met = sum(row.met is True for row in rows)
    targets = sum(row.met is not None for row in rows)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{'Quick' if quick else 'Full'} run of {stamp} ({seconds / 60:.1f} min): "
        f"{met} of {targets} targets met. Machine: {_machine()}; "
        f"Copilot runtime {_runtime_version(runtime)}, echo model on loopback."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer trials, smaller sizes")
    parser.add_argument("--out", type=Path, default=REPORT, help="where to write the table")
    parser.add_argument(
        "--only", default=",".join(STEPS), help=f"comma-separated steps of {', '.join(STEPS)}"
    )
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    if not only <= set(STEPS):
        parser.error(f"unknown steps: {', '.join(sorted(only - set(STEPS)))}")
    report = run(args.quick, only)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
