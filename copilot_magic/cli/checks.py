"""``copilot-magic doctor``: is everything in place, one "name: value" line per check."""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.metadata
import json
import os
import stat
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from copilot_magic import __version__
from copilot_magic.cli.advice import worded
from copilot_magic.cli.console import EXIT_FAILED, EXIT_OK, Console
from copilot_magic.config import RUNTIME_OWN, RUNTIME_SHARED, Settings, declaration
from copilot_magic.errors import CopilotMagicError, one_line
from copilot_magic.owner_only import chmod_command, open_to_others
from copilot_magic.runtime import sdk
from copilot_magic.runtime.bridge import NOT_SIGNED_IN, SET_PROVIDER
from copilot_magic.runtime.launcher import START_TIMEOUT
from copilot_magic.runtime.shared import running_shared
from copilot_magic.values import Secret

if TYPE_CHECKING:
    from copilot_magic.sessions.store import SessionStore

BUNDLED_RUNTIME = "the SDK's bundled runtime"
PROBE_TIMEOUT = 5.0  # seconds the model server has to answer GET <provider_url>/models
MOST_LISTED = 10


def doctor(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Check the installation, one "name: value" line per check.

    Reports the versions of copilot_magic, the SDK and the runtime, whether
    the runtime starts (and how long that takes), the model access (the
    provider's GET /models answered, with its key but never showing it, within
    5 s; or the GitHub sign-in), the data directory with
    its size, whether it is private (a warning with the `chmod` that makes it
    owner-only when other users can enter or read anything in it), and the
    number of sessions; then every setting with its value (a key shows as
    asterisks) and where it came from. Exit status 0 when the runtime starts
    and a model is reachable, 1 otherwise.
    """
    settings = store.settings
    which, check = _which_runtime(settings)
    starts, runtime_problem = _runtime_starts(store)
    access, access_problem = _model_access(store, runtime_ok=runtime_problem is None)
    report = [
        ("copilot_magic", __version__),
        ("github-copilot-sdk", _package_version("github-copilot-sdk")),
        ("runtime", which),
        ("runtime version", _runtime_version(settings.cli_path)),
        (check, starts),
        ("model access", access),
        ("data directory", str(settings.data_path)),
        ("data size", _human_size(_disk_usage(settings.data_path))),
        ("data privacy", data_privacy(settings.data_path)),
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


def _which_runtime(settings: Settings) -> tuple[str, str]:
    """What a kernel would use, and the name of the check of it ("starts" or "answers")."""
    binary = settings.cli_path or BUNDLED_RUNTIME
    if settings.runtime == RUNTIME_OWN:
        return f"{binary}, one for each kernel", "runtime starts"
    if settings.runtime != RUNTIME_SHARED:
        return f"served at {settings.runtime} (COPILOT_MAGIC_RUNTIME)", "runtime answers"
    serving = running_shared(settings.data_path)
    if serving is None:
        idle = f"stops {settings.runtime_idle:g} s after its last kernel"
        return f"shared, none runs now: the first kernel starts {binary} ({idle})", "runtime starts"
    return (
        f"shared, served at {serving.address} for every kernel of {settings.data_path}",
        "runtime answers",
    )


def _runtime_starts(store: SessionStore) -> tuple[str, str | None]:
    began = time.perf_counter()
    try:
        store.bridge.client()
    except CopilotMagicError as error:
        return f"no: {one_line(error)}", worded(error)
    return f"OK ({(time.perf_counter() - began) * 1000:.0f} ms)", None


def _model_access(store: SessionStore, runtime_ok: bool) -> tuple[str, str | None]:
    settings = store.settings
    if settings.uses_provider:
        answered, problem = provider_answers(settings)
        return f"{settings.describe_model()}; {answered}", problem
    if not runtime_ok:
        return "unknown (the runtime did not start)", None
    try:
        status = store.bridge.call(store.bridge.client().get_auth_status(), START_TIMEOUT)
    except CopilotMagicError as error:
        return f"unknown: {one_line(error)}", worded(error)
    signed_in, login = sdk.sign_in(status)
    if not signed_in:
        return "not signed in", worded(NOT_SIGNED_IN, SET_PROVIDER)
    return f"{settings.describe_model()}, signed in as {login or 'an unnamed user'}", None


def provider_answers(settings: Settings) -> tuple[str, str | None]:
    """Ask the provider for its models: what it said, and the one-line problem if it failed."""
    url = settings.provider_url.rstrip("/") + "/models"
    request = urllib.request.Request(url, headers=_key_headers(settings))
    began = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT) as answer:
            body = answer.read(4_000_000)
    except urllib.error.HTTPError as error:
        error.close()
        key = declaration("provider_api_key").env
        refused = f" (check {key})" if error.code in (401, 403) else ""
        problem = f"The model server at {url} refused: HTTP {error.code} {error.reason}{refused}."
        return f"no: HTTP {error.code} {error.reason}", problem
    except (OSError, ValueError, http.client.HTTPException) as error:  # URLError is an OSError
        why = _network_reason(error)
        return f"no: {why}", f"The model server at {url} could not be reached: {why}."
    took = (time.perf_counter() - began) * 1000
    models = _model_ids(body)
    listed = ", ".join(models[:MOST_LISTED]) + (
        f" … ({len(models)} in all)" if models[MOST_LISTED:] else ""
    )
    return f"the model server answered in {took:.0f} ms, listing {listed or 'no models'}", None


def _key_headers(settings: Settings) -> dict[str, str]:
    """The provider's key, in the header its kind expects."""
    key = settings.provider_api_key.reveal()
    if not key:
        return {}
    if settings.provider_type == "azure":
        return {"api-key": key}
    if settings.provider_type == "anthropic":
        return {"x-api-key": key, "anthropic-version": "2023-06-01"}
    return {"Authorization": f"Bearer {key}"}


def _network_reason(error: Exception) -> str:
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, http.client.HTTPException):
        return f"its answer is not HTTP ({type(reason).__name__}: {one_line(reason) or 'empty'})"
    if isinstance(reason, TimeoutError):
        return f"no answer within {PROBE_TIMEOUT:g} s"
    if isinstance(reason, OSError) and reason.strerror:
        return str(reason.strerror)
    return one_line(reason) or type(reason).__name__


def _model_ids(body: bytes) -> list[str]:
    """The ids in an OpenAI- or Anthropic-style model list (``{"data": [{"id": ...}]}``)."""
    try:
        listing = json.loads(body)
    except ValueError:
        return []
    entries = listing.get("data") if isinstance(listing, dict) else None
    if not isinstance(entries, list):
        return []
    return [str(e["id"]) for e in entries if isinstance(e, dict) and e.get("id")]


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


def data_privacy(root: Path) -> str:
    """``owner-only``, or a warning naming what other users can reach in the data directory
    and the command that makes it owner-only."""
    if not root.is_dir():
        return "owner-only (no data directory yet: it will be made owner-only)"
    found = open_to_others(root)
    if not found:
        return "owner-only"
    path, mode = found[0]
    shown = "the data directory itself" if path == root else str(path.relative_to(root))
    others = len(found) - 1
    more = f", and {others} more {'path' if others == 1 else 'paths'}" if others else ""
    return (
        f"WARNING: other users may read it: {shown} is {stat.filemode(mode)}{more}; "
        f"make it owner-only with: {chmod_command(root)}"
    )


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
