"""The test run carries recognisable fake secrets, and nothing it writes may contain them.

A pytest plugin (``pytest_plugins`` in ``tests/conftest.py``). When pytest starts:

- ``GH_TOKEN``, ``GITHUB_TOKEN`` and ``COPILOT_GITHUB_TOKEN`` are set to
  :data:`FAKE_GITHUB_TOKEN` for the whole run (the values they had are put back
  at the end). The token has the shape of a classic personal access token
  (``ghp_``), which the runtime refuses without going on the network ("Classic
  PATs are not supported" in its log), so the tests stay offline and as fast.
  Processes the tests start from ``os.environ`` (runtimes of in-process stores,
  the demo) inherit it.
- :mod:`output_log` starts this process's directory of recorded outputs, and
  this plugin tells it which test runs and keeps what pytest captured of each test.

When the session ends, every pytest process (a plain run, and under pytest-xdist
the controller and each worker) writes a record of what must be scanned to
:data:`RECORDS` (``artifacts/secrets-scan/runs/<time>-<pid>-<worker>-<random>.json``,
owner-only): its basetemp (every ``tmp_path``), its directory of recorded outputs,
whether it carried the fake token, and the connection tokens of the served
runtimes its tests saw (:func:`remember_runtime_token`; runtimes already stopped).

The scan comes after the test runs, as a command (``make secrets-scan``, the last
stage of ``.ci/run``, which first clears :data:`SCAN_FOLDER`)::

    python tests/secrets_scan.py

It searches every recorded basetemp and ``artifacts/`` (but not the records) with
:func:`scan` for every form of the secrets in :data:`SECRETS` (the whole value,
its first 12 characters, a distinctive core, ignoring case, and its base64 and
UTF-16 encodings), for the GitHub tokens of its own environment that are not the
fake one (searched for, never shown, never written down) and for the recorded
runtime tokens. It prints one summary line, then one line per file with a hit
(the labels of what was found, never a value), adds its row to the Reliability
report of those runs (``tests/reliability.py``), and exits with 1 on any hit, on
a recorded folder that is gone (it would go unscanned), on a run without the
fake token, or when there is no record at all.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import secrets
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import output_log
import pytest
from reliability import REPORT, Reliability, add_row

from copilot_magic.runtime.served import server_folder

FAKE_GITHUB_TOKEN = "ghp_FAKEcopilotmagicSECRET0123456789abcd"
TOKEN_VARIABLES = ("GH_TOKEN", "GITHUB_TOKEN", "COPILOT_GITHUB_TOKEN")
# The provider keys the tests hand to the runtime (through the environment or Settings);
# each with a distinctive part that no other text of the run contains.
PROVIDER_KEYS = {
    "sk-e2e-test-key-0123456789": "e2e-test-key",  # tests/e2e/conftest.py kernel_env
    "sk-fake-cli-key-MUST-NOT-SHOW-4711": "MUST-NOT-SHOW",  # tests/e2e/test_cli_e2e.py
    "sk-browser-test-key-0123456789": "browser-test-key",  # tests/browser/conftest.py
    "sk-fake-unit-key-never-shown-4711": "never-shown",  # tests/unit/test_cli_parsing.py
    "sk-hub-ada-key-0123456789": "hub-ada-key",  # tests/e2e/test_jupyterhub_e2e.py
    "sk-hub-bob-key-0123456789": "hub-bob-key",  # tests/e2e/test_jupyterhub_e2e.py
}
SECRETS: dict[str, str] = {FAKE_GITHUB_TOKEN: "FAKEcopilotmagicSECRET", **PROVIDER_KEYS}
# The connection tokens of the served runtimes the tests saw (each a random 43-character
# url-safe text, ``secrets.token_urlsafe(32)``), added by the fixtures that end a test's
# data directory; whole values only: hundreds of them are searched for at once.
RUNTIME_TOKENS: set[bytes] = set()
TOKEN_LENGTH = 43
_TOKEN_RUN = re.compile(rb"[A-Za-z0-9_-]{%d,}" % TOKEN_LENGTH)
PREFIX_LENGTH = 12
CHUNK = 4 << 20
RUNTIME_PACKAGE = (".cache", "copilot", "pkg")  # the runtime unpacks itself here, per HOME
REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "artifacts"
SCAN_FOLDER = ARTIFACTS / "secrets-scan"
RECORDS = SCAN_FOLDER / "runs"  # what each pytest process leaves for the scan
SCAN_ROW = ("Secrets", "No token or provider key in any file or output of the run")
RUNTIME_SAW_THE_TOKEN = b"Classic PATs are not supported"
MB = 1024 * 1024
_original_tokens: dict[str, str | None] = {}


def fake_github_env() -> dict[str, str]:
    """The GitHub token variables with the fake token, for a kernel's environment."""
    return dict.fromkeys(TOKEN_VARIABLES, FAKE_GITHUB_TOKEN)


def real_tokens() -> list[str]:
    """GitHub tokens the environment had before the run (searched for, never shown)."""
    return [v for v in _original_tokens.values() if v and v != FAKE_GITHUB_TOKEN]


@dataclass(frozen=True)
class Needle:
    """One form of one secret. ``label`` names the form, never the value."""

    label: str
    data: bytes
    ignore_case: bool


def _base64_forms(secret: bytes) -> Iterator[bytes]:
    """The parts of base64 that are the same wherever ``secret`` sits in the encoded data."""
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + secret)
        start = 4 if offset else 0
        end = (offset + len(secret)) // 3 * 4
        yield encoded[start:end]


def needles_for(label: str, secret: str, core: str) -> list[Needle]:
    """Every form of ``secret`` the scan looks for."""
    raw = secret.encode()
    forms = [
        Needle(f"{label}: whole value", raw.lower(), True),
        Needle(f"{label}: first {PREFIX_LENGTH} characters", raw[:PREFIX_LENGTH].lower(), True),
        Needle(f"{label}: its core", core.encode().lower(), True),
        Needle(f"{label}: UTF-16", secret.encode("utf-16-le"), False),
    ]
    forms += [Needle(f"{label}: base64", form, False) for form in _base64_forms(raw)]
    return forms


def all_needles() -> list[Needle]:
    needles: list[Needle] = []
    for number, (secret, core) in enumerate(SECRETS.items(), 1):
        label = "fake GitHub token" if secret == FAKE_GITHUB_TOKEN else f"provider key {number - 1}"
        needles += needles_for(label, secret, core)
    for number, token in enumerate(real_tokens(), 1):
        needles += needles_for(f"your own GitHub token {number}", token, token)
    return needles


def remember_runtime_token(data_dir: Path) -> None:
    """Search for the token of the runtime serving ``data_dir`` now (if one does) too."""
    with contextlib.suppress(OSError):
        token = (server_folder(data_dir) / "token").read_bytes().strip()
        if len(token) == TOKEN_LENGTH:
            RUNTIME_TOKENS.add(token)


def _is_token_file(path: Path) -> bool:
    """The served runtime's own token file (``<data dir>/copilot-magic/runtime/<host>/token``),
    where the token belongs, of a server still running when the scan ran."""
    return path.name == "token" and path.parent.parent.name == "runtime"


def _holds_a_token(data: bytes, tokens: set[bytes]) -> bool:
    """Whether ``data`` holds one of ``tokens`` (looked for among its runs of token text)."""
    for run in _TOKEN_RUN.findall(data):
        windows = (run[i : i + TOKEN_LENGTH] for i in range(len(run) - TOKEN_LENGTH + 1))
        if any(window in tokens for window in windows):
            return True
    return False


@dataclass
class ScanResult:
    files: int = 0
    bytes: int = 0
    skipped_files: int = 0  # further copies of the runtime's own package files
    skipped_bytes: int = 0
    hits: list[tuple[str, str]] = field(default_factory=list)  # (path, needle label)


def _package_key(path: Path) -> tuple[str, ...] | None:
    """For a file of the runtime's unpacked package: its path inside the package."""
    parts = path.parts
    for i in range(len(parts) - len(RUNTIME_PACKAGE)):
        if parts[i : i + len(RUNTIME_PACKAGE)] == RUNTIME_PACKAGE:
            return parts[i + len(RUNTIME_PACKAGE) :]
    return None


def _regular_files(roots: Iterable[Path], skip: set[Path]) -> Iterator[tuple[Path, int]]:
    for root in roots:
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if Path(folder, d) not in skip]
            for name in names:
                path = Path(folder, name)
                try:
                    info = os.lstat(path)
                except OSError:
                    continue  # gone meanwhile
                if stat.S_ISREG(info.st_mode):
                    yield path, info.st_size


def _found(path: Path, needles: list[Needle], tokens: set[bytes]) -> set[str]:
    longest = max([len(n.data) for n in needles] + [TOKEN_LENGTH])
    found: set[str] = set()
    tail = b""
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                data = tail + chunk
                lowered = data.lower()
                for needle in needles:
                    if needle.data in (lowered if needle.ignore_case else data):
                        found.add(needle.label)
                if tokens and not _is_token_file(path) and _holds_a_token(data, tokens):
                    found.add("a served runtime's connection token")
                tail = data[-(longest - 1) :]
    except OSError:
        return found  # gone or unreadable meanwhile
    return found


def scan(
    roots: Iterable[Path],
    needles: list[Needle],
    tokens: set[bytes] | None = None,
    skip: Iterable[Path] = (),
) -> ScanResult:
    """Search every regular file under ``roots`` (not under ``skip``) for every needle,
    and for ``tokens``.

    The runtime unpacks its own program files into ``~/.cache/copilot/pkg`` of
    every HOME it runs with (about 235 MB, once per test). The first copy of
    each of those files is scanned; further copies with the same path inside
    the package and the same size are counted as skipped.
    """
    result = ScanResult()
    package_files: set[tuple[tuple[str, ...], int]] = set()
    for path, size in _regular_files(roots, set(skip)):
        key = _package_key(path)
        if key is not None:
            if (key, size) in package_files:
                result.skipped_files += 1
                result.skipped_bytes += size
                continue
            package_files.add((key, size))
        result.files += 1
        result.bytes += size
        found = _found(path, needles, tokens or set())
        result.hits += [(str(path), label) for label in sorted(found)]
    return result


# -- the plugin --------------------------------------------------------------------------------
class _Run:
    """This process's part of the run, for its record."""

    started = ""
    basetemp: Path | None = None


def pytest_configure(config: pytest.Config) -> None:
    _Run.started = _now()
    for name in TOKEN_VARIABLES:
        _original_tokens[name] = os.environ.get(name)
        os.environ[name] = FAKE_GITHUB_TOKEN
    output_log.start_run(keep=recorded_output_runs())


def pytest_unconfigure(config: pytest.Config) -> None:
    for name, value in _original_tokens.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session", autouse=True)
def _basetemp_for_the_scan(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Note the basetemp of a process that runs tests, for its record."""
    _Run.basetemp = tmp_path_factory.getbasetemp()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    output_log.set_current_test(item.nodeid)
    try:
        return (yield)
    finally:
        output_log.set_current_test(None)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    output_log.record_captured(report.nodeid, report.when or "", report.sections)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    worker = getattr(config, "workerinput", {}).get("workerid") or os.environ.get(
        "PYTEST_XDIST_WORKER"
    )
    basetemp = _Run.basetemp
    if basetemp is None and config.pluginmanager.has_plugin("dsession"):
        # pytest-xdist's controller runs no test; its basetemp holds its workers' (xdist
        # makes it, through the same factory, to give each worker a folder inside it).
        basetemp = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    outputs = output_log.run_dir()
    write_record(
        {
            "started": _Run.started,
            "finished": _now(),
            "pid": os.getpid(),
            "worker": worker,
            "invocation": " ".join(config.invocation_params.args)[:300],
            "basetemp": str(basetemp) if basetemp else None,
            "outputs": str(outputs) if outputs else None,
            "carried_fake_token": all(
                os.environ.get(name) == FAKE_GITHUB_TOKEN for name in TOKEN_VARIABLES
            ),
            "runtime_tokens": sorted(t.decode() for t in RUNTIME_TOKENS),
        },
        worker or "main",
    )


# -- the records -------------------------------------------------------------------------------
def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_record(record: dict[str, object], name: str, records: Path = RECORDS) -> Path:
    """Write one process's record, owner-only (it holds the runtimes' connection tokens)."""
    records.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = records / f"{stamp}-{os.getpid()}-{name}-{secrets.token_hex(3)}.json"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump(record, out, indent=1)
    return path


def read_records(records: Path = RECORDS) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(records.glob("*.json"))]


def recorded_output_runs(records: Path = RECORDS) -> set[Path]:
    """The directories of recorded outputs that a record names: kept until the scan."""
    with contextlib.suppress(OSError, ValueError):
        return {Path(r["outputs"]) for r in read_records(records) if r.get("outputs")}
    return set()


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """``paths`` without those inside another one (an xdist worker's basetemp is inside
    its controller's)."""
    unique = sorted(set(paths), key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in unique:
        if not any(path.is_relative_to(outer) for outer in kept):
            kept.append(path)
    return kept


def _runtime_logs(root: Path) -> list[Path]:
    return [p for p in root.rglob("process-*.log") if p.parent.name == "logs"]


# -- the command -------------------------------------------------------------------------------
@dataclass
class Verdict:
    """What the scan of the recorded runs found."""

    result: ScanResult
    records: list[dict[str, Any]]
    roots: list[Path]
    missing: list[str]  # recorded folders that are gone
    without_token: list[str]  # runs that did not carry the fake token
    tokens: int
    needles: int
    folder: Path  # of the records

    @property
    def held(self) -> bool:
        return bool(self.records) and not (self.result.hits or self.missing or self.without_token)


def scan_recorded_runs(records: Path = RECORDS, artifacts: Path = ARTIFACTS) -> Verdict:
    """Scan every folder the records name, and ``artifacts`` (the records left out)."""
    for name in TOKEN_VARIABLES:  # the scan runs in the environment the tests ran in
        _original_tokens.setdefault(name, os.environ.get(name))
    found = read_records(records)
    folders: list[Path] = []
    missing: list[str] = []
    for record in found:
        for kind in ("basetemp", "outputs"):
            if record.get(kind):
                folder = Path(record[kind])
                (folders if folder.is_dir() else missing).append(folder)
    missing_names = [f"{folder} (gone)" for folder in missing]
    without = [r.get("invocation") or "pytest" for r in found if not r["carried_fake_token"]]
    tokens = {t.encode() for r in found for t in r.get("runtime_tokens", [])}
    roots = _outermost([*folders, artifacts] if artifacts.is_dir() else folders)
    needles = all_needles()
    result = scan(roots, needles, tokens, skip=[records.resolve(), records])
    return Verdict(result, found, roots, missing_names, without, len(tokens), len(needles), records)


def summary(verdict: Verdict) -> list[str]:
    """The summary line, then one line per file with a hit or folder left unscanned:
    labels and paths only, never a value."""
    if not verdict.records:
        return [f"secrets scan: FAILED: no records of a test run in {verdict.folder}; run pytest"]
    result = verdict.result
    by_file: dict[str, list[str]] = {}
    for path, label in result.hits:
        by_file.setdefault(path, []).append(label)
    problems = len(verdict.missing) + len(verdict.without_token)
    head = (
        f"secrets scan: {'no secret found' if verdict.held else 'FAILED'}: "
        f"{len(by_file)} of {result.files} files hold a secret ({len(result.hits)} hits), "
        f"{result.bytes / MB:.1f} MB ({result.skipped_files} identical runtime package files "
        f"not read again); {verdict.needles} forms of the secrets and {verdict.tokens} runtime "
        f"tokens; {len(verdict.roots)} folders of {len(verdict.records)} pytest processes"
    )
    if problems:
        head += f"; {problems} problems"
    lines = [head]
    lines += [f"  secret in {path}: {', '.join(labels)}" for path, labels in by_file.items()]
    lines += [f"  not scanned: {name}" for name in verdict.missing]
    if verdict.missing:
        lines.append(f"  (the records of older runs? rm -r {SCAN_FOLDER} starts them anew)")
    lines += [f"  ran without the fake GitHub token: {name}" for name in verdict.without_token]
    return lines


def reliability_row(verdict: Verdict) -> Reliability:
    """The Reliability row the scan used to give as the run's last test."""
    result = verdict.result
    row = Reliability(*SCAN_ROW, nodeid="tests/secrets_scan.py (make secrets-scan)")
    row.tried(
        f"runs with a fake GitHub token in {', '.join(TOKEN_VARIABLES)} and "
        f"{len(SECRETS) - 1} fake provider keys; after the tests, search every file of the "
        f"basetemps of their {len(verdict.records)} pytest processes and of artifacts/ for "
        f"{verdict.needles} forms of them (whole, first 12 characters, core, any case, UTF-16, "
        f"base64) and for the connection tokens of the {verdict.tokens} served runtimes the "
        "tests saw: once per file",
        times=result.files,
    )
    outputs = [Path(r["outputs"]) for r in verdict.records if r.get("outputs")]
    kernels = sum(len(list(o.rglob("kernel-*.jsonl"))) for o in outputs if o.is_dir())
    commands = sum(
        len(p.read_text().splitlines())
        for o in outputs
        if o.is_dir()
        for p in o.rglob("commands.jsonl")
    )
    logs = [log for root in verdict.roots for log in _runtime_logs(root)]
    saw = sum(RUNTIME_SAW_THE_TOKEN in log.read_bytes() for log in logs)
    row.held(
        f"{len(result.hits)} hits in {result.files} files, {result.bytes / MB:.1f} MB "
        f"({result.skipped_files} identical copies of the runtime's own package files, "
        f"{result.skipped_bytes / MB:.0f} MB, not read again); recorded outputs of "
        f"{kernels} kernels and {commands} commands; the runtime read the fake token "
        f"in {saw} of {len(logs)} runtime logs"
    )
    row.result = "passed" if verdict.held else "failed"
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", type=Path, default=RECORDS, help=argparse.SUPPRESS)
    parser.add_argument("--artifacts", type=Path, default=ARTIFACTS, help=argparse.SUPPRESS)
    parser.add_argument(
        "--report", type=Path, default=REPORT, help="the Reliability report to add the row to"
    )
    args = parser.parse_args(argv)
    verdict = scan_recorded_runs(args.records, args.artifacts)
    print("\n".join(summary(verdict)))
    if verdict.records:
        started = min(r["started"] for r in verdict.records)
        if add_row(reliability_row(verdict), args.report, written_since=started):
            print(f"secrets scan: its row added to {args.report}")
        else:
            print(f"secrets scan: no report of these runs at {args.report}; no row added")
    return 0 if verdict.held else 1


if __name__ == "__main__":
    sys.exit(main())
