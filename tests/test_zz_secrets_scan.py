"""No secret in anything the run wrote: data directories, notebooks, exports, logs, outputs.

The run carries a recognisable fake GitHub token (``GH_TOKEN``, ``GITHUB_TOKEN``,
``COPILOT_GITHUB_TOKEN``) and fake provider keys (see ``tests/secrets_scan.py``).
The last test of the run searches pytest's basetemp of this run (every
``tmp_path``: data directories, the runtime's logs, saved and exported
notebooks, Markdown exports, HOMEs) and ``artifacts/`` (the demo's notebooks and
kernel logs, screenshots, and the recorded outputs of kernels, commands and
pytest) for every form of them.
"""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
from pathlib import Path

import output_log
import pytest
from reliability import Reliability
from secrets_scan import (
    RUNTIME_TOKENS,
    SECRETS,
    TOKEN_VARIABLES,
    all_needles,
    fake_github_env,
    scan,
)

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
MB = 1024 * 1024
RUNTIME_SAW_THE_TOKEN = b"Classic PATs are not supported"


def _runtime_logs(root: Path) -> list[Path]:
    return [p for p in root.rglob("process-*.log") if p.parent.name == "logs"]


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


@pytest.mark.secrets_scan
@pytest.mark.reliability("Secrets", "No token or provider key in any file or output of the run")
def test_no_file_or_output_of_this_run_contains_a_secret(
    tmp_path_factory: pytest.TempPathFactory, reliability: Reliability
) -> None:
    assert {name: os.environ.get(name) for name in TOKEN_VARIABLES} == fake_github_env(), (
        "the run did not carry the fake GitHub token"
    )
    basetemp = tmp_path_factory.getbasetemp()
    roots = [basetemp, ARTIFACTS]
    needles = all_needles()

    result = scan([root for root in roots if root.exists()], needles, RUNTIME_TOKENS)
    reliability.tried(
        f"run with a fake GitHub token in {', '.join(TOKEN_VARIABLES)} and "
        f"{len(SECRETS) - 1} fake provider keys; search every file of this run's basetemp "
        f"and of artifacts/ for {len(needles)} forms of them (whole, first 12 characters, "
        "core, any case, UTF-16, base64) and for the connection tokens of the "
        f"{len(RUNTIME_TOKENS)} served runtimes the tests saw: once per file",
        times=result.files,
    )

    assert result.hits == []
    recorded = output_log.run_dir()
    kernel_logs = len(list(recorded.rglob("kernel-*.jsonl"))) if recorded else 0
    commands = (
        sum(len(p.read_text().splitlines()) for p in recorded.rglob("commands.jsonl"))
        if recorded
        else 0
    )
    logs = _runtime_logs(basetemp)
    saw = sum(RUNTIME_SAW_THE_TOKEN in p.read_bytes() for p in logs)
    reliability.held(
        f"0 hits in {result.files} files, {result.bytes / MB:.1f} MB "
        f"({result.skipped_files} identical copies of the runtime's own package files, "
        f"{result.skipped_bytes / MB:.0f} MB, not read again); recorded outputs of "
        f"{kernel_logs} kernels and {commands} commands; the runtime read the fake token "
        f"in {saw} of {len(logs)} runtime logs"
    )
