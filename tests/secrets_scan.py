"""The test run carries recognisable fake secrets, and nothing it writes may contain them.

A pytest plugin (``pytest_plugins`` in ``tests/conftest.py``). When pytest starts:

- ``GH_TOKEN``, ``GITHUB_TOKEN`` and ``COPILOT_GITHUB_TOKEN`` are set to
  :data:`FAKE_GITHUB_TOKEN` for the whole run (the values they had are put back
  at the end, and are searched for too, never printed). The token has the
  shape of a classic personal access token (``ghp_``), which the runtime
  refuses without going on the network ("Classic PATs are not supported" in
  its log), so the tests stay offline and as fast. Processes the tests start
  from ``os.environ`` (runtimes of in-process stores, the demo) inherit it.
- :mod:`output_log` starts this run's directory of recorded outputs, and this
  plugin tells it which test runs and keeps what pytest captured of each test.

:func:`scan` searches files for every form of the secrets listed in
:data:`SECRETS` (the whole value, its first 12 characters, a distinctive core,
ignoring case, and its base64 and UTF-16 encodings). The test carrying
``@pytest.mark.secrets_scan`` (``tests/test_zz_secrets_scan.py``) runs last
and scans this run's basetemp and ``artifacts/``.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import output_log
import pytest

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


def _regular_files(roots: Iterable[Path]) -> Iterator[tuple[Path, int]]:
    for root in roots:
        for folder, _dirs, names in os.walk(root):
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
    roots: Iterable[Path], needles: list[Needle], tokens: set[bytes] | None = None
) -> ScanResult:
    """Search every regular file under ``roots`` for every needle, and for ``tokens``.

    The runtime unpacks its own program files into ``~/.cache/copilot/pkg`` of
    every HOME it runs with (about 235 MB, once per test). The first copy of
    each of those files is scanned; further copies with the same path inside
    the package and the same size are counted as skipped.
    """
    result = ScanResult()
    package_files: set[tuple[tuple[str, ...], int]] = set()
    for path, size in _regular_files(roots):
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
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "secrets_scan: the scan of the run's outputs for secrets; runs last"
    )
    for name in TOKEN_VARIABLES:
        _original_tokens[name] = os.environ.get(name)
        os.environ[name] = FAKE_GITHUB_TOKEN
    output_log.start_run()


def pytest_unconfigure(config: pytest.Config) -> None:
    for name, value in _original_tokens.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The scan comes after every other test, wherever its file sorts."""
    items.sort(key=lambda item: item.get_closest_marker("secrets_scan") is not None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    output_log.set_current_test(item.nodeid)
    try:
        return (yield)
    finally:
        output_log.set_current_test(None)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    output_log.record_captured(report.nodeid, report.when or "", report.sections)
