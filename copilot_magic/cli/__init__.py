"""The ``copilot-magic`` command: the sessions of a data directory, from a terminal.

Each verb is one function below; its docstring is its ``--help`` text. The
command reads its settings from the environment, like the magics, and shares
their :class:`~copilot_magic.store.SessionStore`. Errors are one line on stderr;
the provider's API key and GitHub tokens are never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import inspect
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot_magic import __version__
from copilot_magic.config import ENV_CLI_PATH, ENV_DATA_DIR, ENV_PROVIDER_URL, Settings
from copilot_magic.errors import CopilotMagicError, InvalidArgument, InvalidSessionId, one_line
from copilot_magic.runtime.bridge import NOT_SIGNED_IN, START_TIMEOUT, RuntimeBridge
from copilot_magic.sessions.ids import validate_session_id
from copilot_magic.views.text import (
    damage_warning,
    format_history,
    format_session_table,
    plural,
    when,
)

if TYPE_CHECKING:  # imported in main(): nbformat alone takes a second or more to import
    from copilot_magic.sessions.store import CleanupPlan, SessionStore, SessionSummary

PROG = "copilot-magic"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
TOKEN_VARIABLES = ("GH_TOKEN", "GITHUB_TOKEN", "COPILOT_GITHUB_TOKEN")
BUNDLED_RUNTIME = "the SDK's bundled runtime"
NO_TERMINAL = "Not deleting without confirmation: stdin is not a terminal; pass --yes."
EPILOG = f"""\
exit status: 0 done, 1 failed (e.g. no such session, runtime down), 2 bad usage.

Settings come from the environment, as in the magics: {ENV_DATA_DIR} (the data
directory, default ~/.copilot), {ENV_CLI_PATH} (the runtime),
{ENV_PROVIDER_URL} and the other COPILOT_MAGIC_* variables (see the README).
"""

Verb = Callable[[argparse.Namespace, "SessionStore", "Console"], int]


class NotConfirmed(CopilotMagicError):
    """A deletion nobody confirmed: no --yes, and no terminal to ask on or a "no"."""


USAGE_ERRORS = (InvalidSessionId, InvalidArgument, NotConfirmed)


class Console:
    """Prints results on stdout and errors on stderr, with every secret masked."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "********")
        return text

    def say(self, text: str) -> None:
        print(self.scrub(text), flush=True)

    def error(self, message: object) -> None:
        print(f"{PROG}: error: {self.scrub(one_line(message))}", file=sys.stderr, flush=True)


def _secrets(settings: Settings) -> list[str]:
    """The values no output may show: the provider key and GitHub tokens."""
    tokens = [os.environ.get(name, "") for name in TOKEN_VARIABLES]
    return [settings.provider_api_key.reveal(), *tokens]


def _confirm(question: str) -> None:
    """Ask on the terminal; raise :class:`NotConfirmed` unless the answer is yes."""
    if sys.stdin is None or not sys.stdin.isatty():
        raise NotConfirmed(NO_TERMINAL)
    try:
        answer = input(question)
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise NotConfirmed("Not confirmed: nothing deleted.")


# -- the verbs ----------------------------------------------------------------------


def list_sessions(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """List the stored sessions, most recently active first.

    Shows each session's id, title (its first prompt), last activity and number
    of turns. --search TEXT keeps the sessions whose id or title contains TEXT,
    or whose prompts and replies do (ignoring case). --json prints a JSON array
    of objects with id, title, created, last_active (ISO 8601), turns,
    abstentions, in_use_elsewhere and damaged (why the history file is not
    sound, or null).
    """
    sessions = store.summaries()
    if args.search is not None:
        sessions = _matching(store, sessions, args.search)
    if args.json:
        out.say(json.dumps([_as_json(s) for s in sessions], indent=2, ensure_ascii=False))
    elif args.search is not None and not sessions:
        out.say(f"No session matches {args.search!r}.")
    else:
        out.say(format_session_table(sessions))
    return EXIT_OK


def _matching(
    store: SessionStore, sessions: list[SessionSummary], text: str
) -> list[SessionSummary]:
    named = {s.session_id for s in sessions if s.names(text)}
    said = store.search(text, [s.session_id for s in sessions if s.session_id not in named])
    return [s for s in sessions if s.session_id in named | said]


def _as_json(summary: SessionSummary) -> dict[str, Any]:
    return {
        "id": summary.session_id,
        "title": summary.title,
        "created": summary.created.isoformat() if summary.created else None,
        "last_active": summary.last_active.isoformat() if summary.last_active else None,
        "turns": summary.turns,
        "abstentions": summary.abstentions,
        "in_use_elsewhere": summary.held_elsewhere,
        "damaged": summary.damage or None,
    }


def show(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Print a session's transcript: every prompt and reply, with its time.

    Replies in which Copilot abstained are marked "🛑 Copilot abstained".
    Reading a session never changes it.
    """
    turns = store.history(args.session_id)
    damage = store.damage(args.session_id)
    if damage:
        out.say(damage_warning(args.session_id, damage))
    out.say(format_history(args.session_id, turns, store.settings.abstain_signal))
    return EXIT_OK


def delete(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Delete a session and all its data, for good.

    Removes its history, its rows in the runtime's database and its full-text
    index entries. Asks first on a terminal; without a terminal (a script),
    pass --yes. A session open in another process is refused.
    """
    session_id = validate_session_id(args.session_id)
    if not args.yes:
        if sys.stdin is None or not sys.stdin.isatty():
            raise NotConfirmed(NO_TERMINAL)
        store.summary(session_id)  # no question about a session that does not exist
        _confirm(f"Delete session {session_id} and all its data? [y/N] ")
    store.delete(session_id)
    out.say(f"Deleted session {session_id} and all its data.")
    return EXIT_OK


def export(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Write a session to FILE: a notebook for .ipynb, a document for .md.

    The notebook holds one %%copilot cell per turn, with the reply as its
    output, and the two cells that reconnect to the session.
    """
    from copilot_magic.views.export import export_session

    export_session(store, args.session_id, Path(args.file))
    out.say(f"Exported {args.session_id} to {args.file}")
    return EXIT_OK


def cleanup(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Delete the sessions idle for more than DAYS days (0: all of them).

    Prints the plan first: the sessions that would go, their turns, and those
    kept and why (a session open in another process is never deleted).
    --dry-run stops there. Otherwise asks on a terminal; without a terminal,
    pass --yes. --notebook PATH limits the clean-up to that notebook's sessions.
    """
    plan = store.plan_cleanup(args.older_than, notebook=args.notebook)
    for line in _plan_lines(plan):
        out.say(line)
    if args.dry_run or not plan.doomed:
        out.say("Dry run: nothing deleted." if args.dry_run else "Nothing to delete.")
        return EXIT_OK
    if not args.yes:
        _confirm(f"Delete these {plural(len(plan.doomed), 'session')} and all their data? [y/N] ")
    deleted = store.cleanup(plan)
    turns = sum(s.turns for s in plan.doomed if s.session_id in deleted)
    out.say(f"Deleted {plural(len(deleted), 'session')} ({plural(turns, 'turn')}).")
    skipped = [s.session_id for s in plan.doomed if s.session_id not in deleted]
    if skipped:
        out.say(f"Skipped, because they changed since the plan: {', '.join(skipped)}")
    return EXIT_OK


def _plan_lines(plan: CleanupPlan) -> list[str]:
    idle = f"idle for more than {plural(plan.older_than_days, 'day')}"
    lines = [
        f"{plural(len(plan.doomed), 'session')} {idle} would be deleted "
        f"({plural(plan.turns, 'turn')}){':' if plan.doomed else '.'}"
    ]
    lines += [
        f"  {s.session_id}  {plural(s.turns, 'turn')}, last active {when(s.last_active)}  {s.title}"
        for s in plan.doomed
    ]
    if plan.spared:
        lines.append("Kept:")
        lines += [f"  {session_id} ({reason})" for session_id, reason in plan.spared]
    return lines


def doctor(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Check the installation, one "name: value" line per check.

    Reports the versions of copilot_magic, the SDK and the runtime, whether
    the runtime starts (and how long that takes), the model access (the
    provider, never its key, or the GitHub sign-in), the data directory with
    its size, and the number of sessions. Exit status 0 when the runtime starts
    and a model is reachable, 1 otherwise.
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
    for name, value in report:
        out.say(f"{name}: {value}")
    problem = runtime_problem or access_problem
    if problem:
        out.error(problem)
        return EXIT_FAILED
    return EXIT_OK


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
    if not status.isAuthenticated:
        return "not signed in", NOT_SIGNED_IN
    return f"{settings.describe_model()}, signed in as {status.login or 'an unnamed user'}", None


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _runtime_version(cli_path: str) -> str:
    path = cli_path or _cached_bundled_runtime()
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


def _cached_bundled_runtime() -> str | None:
    try:
        from copilot._cli_download import get_cached_cli_path
    except ImportError:
        return None
    return get_cached_cli_path()


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


# -- the command line ---------------------------------------------------------------


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if days < 0:
        raise argparse.ArgumentTypeError("the number of days is 0 or more")
    return days


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``copilot-magic`` and its verbs."""
    data_dir_help = f"the data directory to use (overrides {ENV_DATA_DIR}; default ~/.copilot)"
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Manage the Copilot sessions of copilot_magic: list, read, export, "
        "delete, clean up, and check the installation.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--data-dir", metavar="DIR", help=data_dir_help)
    shared = argparse.ArgumentParser(add_help=False)  # --data-dir also after the verb
    shared.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS, help=data_dir_help)
    verbs = parser.add_subparsers(title="commands", dest="verb", required=True, metavar="COMMAND")

    def add(name: str, verb: Verb) -> argparse.ArgumentParser:
        doc = inspect.getdoc(verb) or ""
        sub = verbs.add_parser(
            name,
            parents=[shared],
            help=doc.splitlines()[0],
            description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(run=verb)
        return sub

    listing = add("list", list_sessions)
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.add_argument("--search", metavar="TEXT", help="only sessions that mention TEXT")
    add("show", show).add_argument("session_id", metavar="ID", help="the session to print")
    removal = add("delete", delete)
    removal.add_argument("session_id", metavar="ID", help="the session to delete")
    removal.add_argument("--yes", action="store_true", help="delete without asking")
    exporting = add("export", export)
    exporting.add_argument("session_id", metavar="ID", help="the session to export")
    exporting.add_argument("file", metavar="FILE", help="where to write it (.ipynb or .md)")
    tidy = add("cleanup", cleanup)
    tidy.add_argument(
        "--older-than", metavar="DAYS", type=_days, required=True, help="idle for more than DAYS"
    )
    tidy.add_argument("--dry-run", action="store_true", help="only print what would be deleted")
    tidy.add_argument("--notebook", metavar="PATH", help="only the sessions of this notebook")
    tidy.add_argument("--yes", action="store_true", help="delete without asking")
    add("doctor", doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``copilot-magic`` with ``argv`` (default: the process's); return the exit status."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a usage error argparse reported
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    settings = Settings.from_environment()
    if args.data_dir is not None:
        settings = replace(settings, data_dir=str(Path(args.data_dir).expanduser().absolute()))
    out = Console(_secrets(settings))
    from copilot_magic.sessions.store import SessionStore

    store = SessionStore(RuntimeBridge(settings))
    try:
        status: int = args.run(args, store, out)
        return status
    except USAGE_ERRORS as error:
        out.error(error)
        return EXIT_USAGE
    except CopilotMagicError as error:
        out.error(error)
        return EXIT_FAILED
    except KeyboardInterrupt:
        out.error("Interrupted.")
        return EXIT_INTERRUPTED
    finally:
        store.close()
