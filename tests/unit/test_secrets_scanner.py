"""The secrets scan (``tests/secrets_scan.py``): the scanner, and the command run after the tests.

Every planted secret sits in a folder of ``tempfile`` outside pytest's basetemp, deleted
at the end of the test: the scan of the real run must not find them.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability import Reliability, write_report
from secrets_scan import (
    FAKE_GITHUB_TOKEN,
    SCAN_ROW,
    SECRETS,
    all_needles,
    scan,
    write_record,
)

COMMAND = Path(__file__).resolve().parents[1] / "secrets_scan.py"


@pytest.mark.reliability("Secrets", "The scanner finds every form of a planted secret")
def test_the_scanner_finds_every_form_of_each_secret_it_looks_for(
    reliability: Reliability,
) -> None:
    forms: dict[str, bytes] = {}
    for number, secret in enumerate(SECRETS):
        forms[f"{number}-whole.txt"] = f"value={secret}\n".encode()
        forms[f"{number}-upper.txt"] = secret.upper().encode()
        forms[f"{number}-prefix.log"] = f"key {secret[:12]}...".encode()
        forms[f"{number}-utf16.bin"] = f"x{secret}x".encode("utf-16-le")
        for offset in range(3):
            encoded = base64.b64encode(b"u" * offset + f"user:{secret}".encode())
            forms[f"{number}-base64-{offset}.txt"] = b"Authorization: Basic " + encoded
    reliability.tried(
        f"plant {len(forms) + 3} files, each with one form of one of the {len(SECRETS)} "
        "secrets (whole, upper case, first 12 characters, UTF-16, base64 at 3 alignments) "
        "or of a runtime's connection token (alone, in text, inside a longer word)",
        times=len(forms) + 3,
    )
    with tempfile.TemporaryDirectory(prefix="planted-secrets-") as folder:
        token = secrets.token_urlsafe(32)
        forms["token-alone.txt"] = token.encode()
        forms["token-in-text.log"] = f"Authorization: Bearer {token}\n".encode()
        forms["token-in-a-longer-word.txt"] = f"xx{token}yy".encode()
        for name, data in forms.items():
            Path(folder, name).write_bytes(data)
        Path(folder, "clean.txt").write_text("sk-****** ghp_****** nothing to see\n")
        another = secrets.token_urlsafe(32)  # a token not looked for
        Path(folder, "another-token.txt").write_text(another)
        own_file = Path(folder, "copilot-magic", "runtime", "some-host")
        own_file.mkdir(parents=True)
        (own_file / "token").write_text(token)  # the token's own file, of a running server
        result = scan([Path(folder)], all_needles(), {token.encode()})

    found = {Path(path).name for path, _label in result.hits}
    assert found == set(forms), f"missed: {sorted(set(forms) - found)}"
    assert result.files == len(forms) + 3
    reliability.held(
        f"all {len(forms)} planted files found; the clean file, another token and the server's "
        "own token file not flagged"
    )


# -- the command -------------------------------------------------------------------------------
@pytest.fixture
def place() -> Iterator[Path]:
    """A folder outside the basetemp: records, a recorded basetemp and an artifacts folder."""
    with tempfile.TemporaryDirectory(prefix="secrets-scan-") as folder:
        root = Path(folder)
        for name in ("records", "basetemp", "outputs", "artifacts"):
            (root / name).mkdir()
        (root / "basetemp" / "home").mkdir()
        (root / "basetemp" / "home" / "notes.txt").write_text("nothing to see\n")
        (root / "artifacts" / "demo.log").write_text("ran\n")
        yield root


def _record(place: Path, token: str = "", **fields: object) -> Path:
    record = {
        "started": "2026-01-01T00:00:00+00:00",
        "finished": "2026-01-01T00:01:00+00:00",
        "pid": 1,
        "worker": None,
        "invocation": "tests/e2e/test_runtime_e2e.py",
        "basetemp": str(place / "basetemp"),
        "outputs": str(place / "outputs"),
        "carried_fake_token": True,
        "runtime_tokens": [token] if token else [],
        **fields,
    }
    return write_record(record, "main", place / "records")


def _scan(place: Path, report: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python tests/secrets_scan.py`` on the records, basetemp and artifacts of ``place``."""
    argv = [sys.executable, str(COMMAND), "--records", str(place / "records")]
    argv += ["--artifacts", str(place / "artifacts")]
    argv += ["--report", str(report or place / "no-report.md")]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def test_a_secret_in_a_recorded_basetemp_fails_the_scan_naming_file_and_label_not_value(
    place: Path,
) -> None:
    token = secrets.token_urlsafe(32)
    record = _record(place, token)
    planted = place / "basetemp" / "home" / "kernel.log"
    planted.write_text(f"GH_TOKEN={FAKE_GITHUB_TOKEN}\n")
    (place / "outputs" / "commands.jsonl").write_text(json.dumps({"stdout": token}) + "\n")

    ran = _scan(place)

    assert ran.returncode == 1, ran.stdout + ran.stderr
    head, *lines = ran.stdout.splitlines()
    assert head.startswith("secrets scan: FAILED: 2 of 4 files hold a secret (4 hits)"), head
    assert (
        lines[-1]
        == f"secrets scan: no report of these runs at {place / 'no-report.md'}; no row added"
    )
    assert sorted(lines[:-1]) == [
        f"  secret in {planted}: fake GitHub token: first 12 characters, "
        "fake GitHub token: its core, fake GitHub token: whole value",
        f"  secret in {place / 'outputs' / 'commands.jsonl'}: a served runtime's connection token",
    ]
    for shown in (FAKE_GITHUB_TOKEN, FAKE_GITHUB_TOKEN[:12], "FAKEcopilotmagicSECRET", token):
        assert shown.lower() not in (ran.stdout + ran.stderr).lower()
    assert record.stat().st_mode & 0o777 == 0o600  # it holds the runtime's token
    assert "secret in" not in ran.stderr


def test_a_recorded_basetemp_that_is_gone_fails_the_scan(place: Path) -> None:
    _record(place)
    _record(place, basetemp=str(place / "deleted-basetemp"))

    ran = _scan(place)

    assert ran.returncode == 1, ran.stdout + ran.stderr
    head, *lines = ran.stdout.splitlines()
    assert head.startswith("secrets scan: FAILED: 0 of 2 files hold a secret"), head
    assert head.endswith("; 1 problems")
    assert f"  not scanned: {place / 'deleted-basetemp'} (gone)" in lines


def test_without_records_or_without_the_fake_token_the_scan_fails(place: Path) -> None:
    ran = _scan(place)
    assert ran.returncode == 1
    assert ran.stdout.startswith("secrets scan: FAILED: no records of a test run in ")

    _record(place, carried_fake_token=False)
    ran = _scan(place)
    assert ran.returncode == 1
    assert "  ran without the fake GitHub token: tests/e2e/test_runtime_e2e.py" in ran.stdout


def test_a_clean_scan_passes_and_adds_its_row_to_the_runs_reliability_report(
    place: Path,
) -> None:
    _record(place, secrets.token_urlsafe(32))
    (place / "records" / "is-skipped.txt").write_text(FAKE_GITHUB_TOKEN)  # the records: not read
    report = place / "artifacts" / "reliability.md"
    earlier = Reliability("Secrets", "The scanner finds every form of a planted secret", "t")
    earlier.result = "passed"
    stale = Reliability(*SCAN_ROW, nodeid="an older scan")
    write_report([earlier, stale], report, stamp="2026-01-01 00:00 UTC")

    ran = _scan(place, report)

    assert ran.returncode == 0, ran.stdout + ran.stderr
    head, added = ran.stdout.splitlines()
    assert head.startswith("secrets scan: no secret found: 0 of 4 files hold"), head
    assert added == f"secrets scan: its row added to {report}"
    text = report.read_text()
    assert text.startswith("2 cases, 2 held; run of 2026-01-01 00:00 UTC")
    rows = json.loads(report.with_suffix(".json").read_text())
    assert [(r["case"], r["result"]) for r in rows] == [
        (earlier.case, "passed"),
        (SCAN_ROW[1], "passed"),
    ]
    assert rows[1]["outcomes"][0].startswith("0 hits in 4 files")


def test_a_report_older_than_the_recorded_runs_gets_no_row(place: Path) -> None:
    report = place / "artifacts" / "reliability.md"
    write_report([], report)
    _record(place, started="2999-01-01T00:00:00+00:00")

    ran = _scan(place, report)

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert f"no report of these runs at {report}; no row added" in ran.stdout
    assert json.loads(report.with_suffix(".json").read_text()) == []
