"""``copilot-magic doctor``: is everything in place, one "name: value" line per check."""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import os
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from copilot_magic import __version__
from copilot_magic.cli.console import EXIT_FAILED, EXIT_OK, Console
from copilot_magic.config import Settings, declaration
from copilot_magic.errors import CopilotMagicError, one_line
from copilot_magic.runtime import sdk
from copilot_magic.runtime.bridge import NOT_SIGNED_IN
from copilot_magic.runtime.launcher import START_TIMEOUT
from copilot_magic.values import Secret

if TYPE_CHECKING:
    from copilot_magic.sessions.store import SessionStore

BUNDLED_RUNTIME = "the SDK's bundled runtime"


def doctor(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Check the installation, one "name: value" line per check.

    Reports the versions of copilot_magic, the SDK and the runtime, whether
    the runtime starts (and how long that takes), the model access (the
    provider, never its key, or the GitHub sign-in), the data directory with
    its size, and the number of sessions; then every setting with its value
    (a key shows as asterisks) and where it came from. Exit status 0 when the
    runtime starts and a model is reachable, 1 otherwise.
    """
    settings = store.settings
    starts, runtime_problem = _runtime_starts(store)
    access, access_problem = _model_access(store, runtime_ok=runtime_problem is None)
    report = [
        ("copilot_magic", __version__),
        ("github-copilot-sdk", _package_version("github-copilot-sdk")),
        ("runtime", settings.cli_path or BUNDLED_RUNTIME),
        ("runtime version", _runtime_version(settings.cli_path)),
        ("runtime starts", starts),
        ("model access", access),
        ("data directory", str(settings.data_path)),
        ("data size", _human_size(_disk_usage(settings.data_path))),
        ("sessions", _session_count(store) if runtime_problem is None else "unknown"),
    ]
    given = {"data_dir": "--data-dir"} if getattr(args, "data_dir", None) else {}
    for name, value in report + _settings_lines(settings, given):
        out.say(f"{name}: {value}")
    problem = runtime_problem or access_problem
    if problem:
        out.error(problem)
        return EXIT_FAILED
    return EXIT_OK


def _settings_lines(settings: Settings, given: dict[str, str]) -> list[tuple[str, str]]:
    """``setting NAME``: the value in force and its source, for each declared setting.

    ``given`` names the settings an option of the command set (``--data-dir``).
    """
    lines = []
    for name, value in settings.items():
        variable = declaration(name).env
        source = f"from {variable}" if os.environ.get(variable) else "default"
        source = f"from {given[name]}" if name in given else source
        shown = repr(value) if value not in ("", Secret("")) else "empty"
        lines.append((f"setting {name}", f"{shown} ({source})"))
    return lines


def _runtime_starts(store: SessionStore) -> tuple[str, str | None]:
    began = time.perf_counter()
    try:
        store.bridge.client()
    except CopilotMagicError as error:
        return f"no: {one_line(error)}", one_line(error)
    return f"OK ({(time.perf_counter() - began) * 1000:.0f} ms)", None


def _model_access(store: SessionStore, runtime_ok: bool) -> tuple[str, str | None]:
    settings = store.settings
    if settings.uses_provider:
        return settings.describe_model(), None
    if not runtime_ok:
        return "unknown (the runtime did not start)", None
    try:
        status = store.bridge.call(store.bridge.client().get_auth_status(), START_TIMEOUT)
    except CopilotMagicError as error:
        return f"unknown: {one_line(error)}", one_line(error)
    signed_in, login = sdk.sign_in(status)
    if not signed_in:
        return "not signed in", NOT_SIGNED_IN
    return f"{settings.describe_model()}, signed in as {login or 'an unnamed user'}", None


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _runtime_version(cli_path: str) -> str:
    path = cli_path or sdk.cached_runtime()
    if not path:
        return "unknown (the SDK installs its runtime when it first starts)"
    try:
        done = subprocess.run(
            [path, "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as error:
        return f"unknown ({one_line(error) or type(error).__name__})"
    first = one_line(done.stdout) or one_line(done.stderr)
    if done.returncode != 0:
        return f"unknown (--version exited with {done.returncode}: {first or 'no output'})"
    return first or "unknown (no output)"


def _disk_usage(root: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):  # a file that went away meanwhile
                info = os.lstat(os.path.join(folder, name))
                blocks = getattr(info, "st_blocks", None)
                total += info.st_size if blocks is None else blocks * 512
    return total


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value, unit = size / 1024, "KiB"
    for bigger in ("MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"


def _session_count(store: SessionStore) -> str:
    try:
        return str(len(store.summaries()))
    except CopilotMagicError as error:
        return f"unknown: {one_line(error)}"
