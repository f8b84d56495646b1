"""Figures of the benchmark: medians of samples, ratios to a baseline, targets, tables.

Every figure is measured side by side with its baseline in the same run, in
alternating trials, and reported as medians (these machines are noisy). A
target is met or missed; nothing here fails a run because of a time.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

MS = 1000.0


def median_ms(samples: list[float]) -> float:
    """The median of ``samples`` (seconds), in milliseconds."""
    return statistics.median(samples) * MS


def spread_ms(samples: list[float]) -> str:
    """``min-max ms`` of ``samples`` (seconds), to show the noise beside a median."""
    return f"{min(samples) * MS:.0f}–{max(samples) * MS:.0f}"


@dataclass
class Row:
    """One line of the Performance table."""

    number: str
    figure: str
    ours: str
    baseline: str
    comparison: str
    target: str
    met: bool | None  # None: reported only, no target
    detail: str = ""

    @property
    def verdict(self) -> str:
        return {True: "✅ met", False: "❌ missed", None: "—"}[self.met]


@dataclass
class Paired:
    """Samples of our path and of the raw SDK's, taken in alternating trials."""

    ours: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)

    @property
    def ours_ms(self) -> float:
        return median_ms(self.ours)

    @property
    def raw_ms(self) -> float:
        return median_ms(self.raw)

    @property
    def ratio(self) -> float:
        return self.ours_ms / self.raw_ms

    def ratio_row(
        self, number: str, figure: str, limit: float, *, floor_ms: float = 0.0, detail: str = ""
    ) -> Row:
        """A row whose target is ``ours <= raw * limit`` (or ``raw + floor_ms``, if larger)."""
        allowed = self.raw_ms * limit
        if floor_ms:
            allowed = max(allowed, self.raw_ms + floor_ms)
        target = f"≤ {limit:.2f}× raw" + (f" or +{floor_ms:g} ms" if floor_ms else "")
        return Row(
            number,
            figure,
            f"{self.ours_ms:.1f} ms ({spread_ms(self.ours)})",
            f"{self.raw_ms:.1f} ms ({spread_ms(self.raw)})",
            f"{self.ratio:.3f}× ({self.ours_ms - self.raw_ms:+.1f} ms)",
            target,
            self.ours_ms <= allowed,
            detail or f"{len(self.ours)} + {len(self.raw)} trials",
        )


def alternate(trials: int, ours: Callable[[], float], raw: Callable[[], float]) -> Paired:
    """Run ``ours`` and ``raw`` ``trials`` times each, in alternating order."""
    paired = Paired()
    for trial in range(trials):
        if trial % 2:
            paired.raw.append(raw())
            paired.ours.append(ours())
        else:
            paired.ours.append(ours())
            paired.raw.append(raw())
    return paired


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def performance_table(rows: list[Row]) -> str:
    lines = [
        "| # | Figure | copilot_magic (median, range) | Raw SDK (median, range) | Ratio | "
        "Target | Result | Trials, notes |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.number} | {_cell(row.figure)} | {_cell(row.ours)} | {_cell(row.baseline)} | "
            f"{_cell(row.comparison)} | {_cell(row.target)} | {row.verdict} | {_cell(row.detail)} |"
        )
    return "\n".join(lines)


def growth_table(title: str, sizes: list[int], series: dict[str, list[str]]) -> str:
    """A small table: one column per size of the work, one row per measured figure."""
    header = f"| {title} | " + " | ".join(f"{size:,}" for size in sizes) + " |"
    lines = [header, "|---|" + "---:|" * len(sizes)]
    for name, values in series.items():
        lines.append(f"| {_cell(name)} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def p90_ms(samples: list[float]) -> float:
    """The 90th percentile of ``samples`` (seconds), in milliseconds (interpolated)."""
    if len(samples) < 2:
        return samples[0] * MS
    return statistics.quantiles(samples, n=10, method="inclusive")[-1] * MS
