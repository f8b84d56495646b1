"""Figures of the kernel context: describing a large DataFrame, a `{df}` turn, a tool call.

Each is measured in a real kernel beside its baseline in the same run: the
description beside pandas' own ``repr`` of the same frame (what a person
would paste), the `{df}` turn and the tool round trip beside a plain turn of
the same session, in alternating trials.
"""

from __future__ import annotations

import json

from bench_env import Bench
from figures import Row, alternate, median_ms, spread_ms
from kernel_figures import prepared_kernel

ROWS = 1_000_000
FRAME = f"""
import numpy as _np, pandas as _pd, time as _time, json as _json
df = _pd.DataFrame(_np.random.default_rng(1).random(({ROWS}, 5)), columns=list("abcde"))
df.loc[::7, "b"] = _np.nan
"""
TIME_BOTH = """
from copilot_magic.kernel.describe import describe as _describe
_ours, _raw = [], []
for _ in range({trials}):
    _t = _time.perf_counter(); _d = _describe(df); _ours.append(_time.perf_counter() - _t)
    _t = _time.perf_counter(); _r = repr(df); _raw.append(_time.perf_counter() - _t)
print(_json.dumps({{"ours": _ours, "raw": _raw, "chars": len(_d.text), "repr": len(_r)}}))
"""


def kernel_context(bench: Bench, trials: int) -> list[Row]:
    """Figures 10-12: describe a 1,000,000-row frame; a `{df}` turn; a tool round trip."""
    kernel = prepared_kernel(bench, "context", "bench-context")
    kernel.run(FRAME)
    timed = json.loads(kernel.run(TIME_BOTH.format(trials=trials * 4)).result.stdout)
    ours, raw = timed["ours"], timed["raw"]
    plain = "Plain turn. [[echo:repeat=20]]"
    with_frame = "Turn about {df}. [[echo:repeat=20]]"
    looking = 'Tool turn. [[echo:tool=describe_variable {"name": "df"}]]'

    def turn(prompt: str) -> float:
        return kernel.run(f"%%copilot\n{prompt}").seconds

    alternate(2, lambda: turn(with_frame), lambda: turn(plain))  # warm up; not counted
    referenced = alternate(trials, lambda: turn(with_frame), lambda: turn(plain))
    tool = alternate(trials, lambda: turn(looking), lambda: turn(plain))
    kernel.shutdown()
    described = median_ms(ours)
    return [
        Row(
            "10",
            f"Describe a {ROWS:,}-row × 5-column DataFrame (`{{df}}`, describe_variable)",
            f"{described:.1f} ms ({spread_ms(ours)})",
            f"{median_ms(raw):.1f} ms ({spread_ms(raw)}) pandas repr",
            f"{described / median_ms(raw):.2f}× repr",
            "< 20 ms",
            described < 20,
            f"{len(ours)} runs each; description {timed['chars']:,} characters, "
            f"repr {timed['repr']:,}",
        ),
        referenced.ratio_row(
            "11",
            "Turn with one `{df}` reference, against a plain turn",
            1.0,
            floor_ms=10,
            detail=f"{trials} + {trials} alternating turns, one session, the frame above",
        ),
        Row(
            "12",
            "Tool round trip: a turn where the model calls describe_variable, against a plain turn",
            f"{tool.ours_ms:.1f} ms ({spread_ms(tool.ours)})",
            f"{tool.raw_ms:.1f} ms ({spread_ms(tool.raw)})",
            f"{tool.ours_ms - tool.raw_ms:+.1f} ms",
            "reported",
            None,
            f"{trials} + {trials} alternating turns; the tool turn makes two model requests",
        ),
    ]
