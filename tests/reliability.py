"""The Reliability table (docs/reliability.md), produced by the test run itself.

A test that tries a fault, a load, a bad input or a secrets check carries
``@pytest.mark.reliability(area, case)`` and takes the ``reliability`` fixture.
It says what it tried (and how many times), then what held, with figures::

    @pytest.mark.reliability("Faults", "Runtime killed mid-stream")
    def test_...(reliability: Reliability) -> None:
        reliability.tried("SIGKILL the runtime after the first delta", times=3)
        ...
        reliability.held(f"one-line error after {seconds:.2f} s")

At the end of the run the plugin writes ``artifacts/reliability.md`` (and
``.json``), or the file ``RELIABILITY_REPORT`` names (a second run of a
subset, whose table must not replace the full run's): one row per case, with
the test's outcome. A failed test shows as
failed, whatever it recorded. Each record travels in its test's report
(``user_properties``), so the table is whole when pytest-xdist runs the tests in
worker processes: the process that writes it receives every report. Rows are in
the order of the tests' ids, whichever worker ran them. ``make tables``
(``tests/readme_tables.py``) copies the table into docs/reliability.md between its
``reliability`` markers.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REPORT = Path(os.environ.get("RELIABILITY_REPORT") or REPO / "artifacts" / "reliability.md")
RESULT = {"passed": "✅ held", "failed": "❌ failed", "skipped": "⚠️ not run"}


@dataclass
class Reliability:
    """What one test tried and what held; see the module docstring."""

    area: str
    case: str
    nodeid: str
    attempts: list[str] = field(default_factory=list)
    times: int = 0
    outcomes: list[str] = field(default_factory=list)
    result: str = "skipped"

    def tried(self, text: str, times: int = 1) -> None:
        """Record an attempt: what was done, and how many times."""
        self.attempts.append(text)
        self.times += times

    def held(self, text: str) -> None:
        """Record what held, with its figures."""
        self.outcomes.append(text)


PROPERTY = "reliability"
_records: dict[str, Reliability] = {}  # of the tests run in this process, as they record
_received: dict[str, Reliability] = {}  # from the reports, with outcomes: what the table shows


@pytest.fixture
def reliability(request: pytest.FixtureRequest) -> Reliability:
    marker = request.node.get_closest_marker("reliability")
    if marker is None:
        pytest.fail("the reliability fixture needs @pytest.mark.reliability(area, case)")
    area, case = marker.args
    params = getattr(request.node, "callspec", None)
    if params is not None and params.params.get("runtime_mode") == "own":
        case = f"{case} (a runtime per kernel)"  # the `both_runtimes` tests' second run
    record = Reliability(area, case, nodeid=request.node.nodeid)
    _records[request.node.nodeid] = record
    return record


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "reliability(area, case): a row of the Reliability table (docs/reliability.md)"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Put the test's record, as it stands after this phase, into the phase's report."""
    report = yield
    record = _records.get(item.nodeid)
    if record is not None:
        report.user_properties.append((PROPERTY, asdict(record)))
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Keep the record of each report received (in this process or from a worker), with the
    test's outcome: failed if any phase failed, held if its call passed."""
    found = [value for name, value in report.user_properties if name == PROPERTY]
    if not found:
        return
    received = Reliability(**found[-1])
    kept = _received.get(report.nodeid)
    if kept is not None and kept.result == "failed":
        return
    if report.failed:
        received.result = "failed"
    elif report.when == "call" and report.passed:
        received.result = "passed"
    elif kept is not None:
        received.result = kept.result
    _received[report.nodeid] = received


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def table(records: list[Reliability]) -> str:
    """The Markdown table of ``records``, grouped by area in first-seen order."""
    lines = [
        "| Area | Case | What was tried | Times | What held | Result |",
        "|---|---|---|---:|---|---|",
    ]
    areas = list(dict.fromkeys(r.area for r in records))
    for area in areas:
        for record in (r for r in records if r.area == area):
            lines.append(
                f"| {_cell(record.area)} | {_cell(record.case)} | "
                f"{_cell('; '.join(record.attempts))} | {record.times} | "
                f"{_cell('; '.join(record.outcomes))} | {RESULT[record.result]} |"
            )
    return "\n".join(lines)


def write_report(records: list[Reliability], report: Path = REPORT, stamp: str = "") -> None:
    """Write the table of ``records`` to ``report`` (``.md``) and the rows to its ``.json``."""
    held = sum(r.result == "passed" for r in records)
    stamp = stamp or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(
        f"{len(records)} cases, {held} held; run of {stamp} "
        f"({sum(r.times for r in records)} attempts in all).\n\n{table(records)}\n"
    )
    report.with_suffix(".json").write_text(json.dumps([asdict(r) for r in records], indent=1))


def add_row(row: Reliability, report: Path = REPORT, written_since: str = "") -> bool:
    """Add ``row`` (or put it in place of the row of its case) to the report a test run
    wrote, when there is one written at or after ``written_since`` (an ISO time); the
    table keeps its run's time. Whether the row was added.
    """
    rows = report.with_suffix(".json")
    if not (report.is_file() and rows.is_file()):
        return False
    written = datetime.fromtimestamp(report.stat().st_mtime, UTC)
    if written_since and written < datetime.fromisoformat(written_since):
        return False  # the report of an earlier run
    records = [Reliability(**fields) for fields in json.loads(rows.read_text())]
    records = [r for r in records if (r.area, r.case) != (row.area, row.case)] + [row]
    stamp = re.search(r"; run of (.+?) \(", report.read_text().split("\n", 1)[0])
    write_report(records, report, stamp.group(1) if stamp else "")
    return True


def pytest_sessionfinish(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput") or not _received:
        return  # a pytest-xdist worker: its reports went to the process that writes the table
    write_report([_received[nodeid] for nodeid in sorted(_received)])
