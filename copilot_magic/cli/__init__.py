"""The ``copilot-magic`` command: the sessions of a data directory, from a terminal.

The verbs on stored sessions come from the table of operations
(:mod:`copilot_magic.operations.table`, run by :mod:`~copilot_magic.cli.verbs`), as
``%copilot_session``'s options do; ``doctor`` (:mod:`~copilot_magic.cli.checks`) and
``serve`` (:mod:`~copilot_magic.cli.serve`) are the command line's own, their
docstrings their ``--help`` text. The command reads its settings from the
environment, like the magics, and shares their
:class:`~copilot_magic.sessions.store.SessionStore`. Errors are one line on
stderr; the provider's API key and GitHub tokens are never printed.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import traceback
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from copilot_magic import __version__
from copilot_magic.cli.checks import doctor
from copilot_magic.cli.console import EXIT_USAGE, PROG, Console, Verb
from copilot_magic.cli.serve import serve
from copilot_magic.cli.verbs import verb
from copilot_magic.config import ENV_CLI_PATH, ENV_DATA_DIR, ENV_PROVIDER_URL, Settings
from copilot_magic.errors import InvalidSetting, exit_status
from copilot_magic.operations.grammar import Operation
from copilot_magic.operations.table import OPERATIONS
from copilot_magic.runtime.bridge import RuntimeBridge

__all__ = ["build_parser", "doctor", "main"]

EPILOG = f"""\
exit status: 0 done, 1 failed (e.g. no such session, runtime down), 2 bad usage.

Settings come from the environment, as in the magics: {ENV_DATA_DIR} (the data
directory, default ~/.copilot), {ENV_CLI_PATH} (the runtime),
{ENV_PROVIDER_URL} and the other COPILOT_MAGIC_* variables (see the README).
"""
WITH_SERVER = "--with-server"
BUG = (
    "unexpected error ({kind}: {message}); this is a bug in copilot_magic: please report it "
    "with the traceback below."
)


def _add_operation(sub: argparse.ArgumentParser, op: Operation) -> None:
    """The verb's arguments and options; their values are parsed as the table declares
    (one line for a wrong one, as in the notebook) when the verb runs."""
    for argument in op.arguments:
        sub.add_argument(argument.name, metavar=argument.metavar, help=argument.help)
    for option in op.all_options():
        if option.metavar:
            sub.add_argument(option.flag, metavar=option.metavar, help=option.help)
        else:
            sub.add_argument(option.flag, action="store_true", help=option.help)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)")
    return int(text)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError("the number of seconds is above 0")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``copilot-magic`` and its verbs."""
    data_dir_help = f"the data directory to use (overrides {ENV_DATA_DIR}; default ~/.copilot)"
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Manage the Copilot sessions of copilot_magic: list, read, rename, "
        "star, fork, rewind, compact, export, delete and clean up; see the models and the "
        "tokens used; check the installation; serve one runtime to all your kernels.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--data-dir", metavar="DIR", help=data_dir_help)
    shared = argparse.ArgumentParser(add_help=False)  # --data-dir also after the verb
    shared.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS, help=data_dir_help)
    verbs = parser.add_subparsers(title="commands", dest="verb", required=True, metavar="COMMAND")

    def add(name: str, run: Verb, aliases: Sequence[str] = ()) -> argparse.ArgumentParser:
        doc = inspect.getdoc(run) or ""
        sub = verbs.add_parser(
            name,
            aliases=list(aliases),
            parents=[shared],
            help=doc.splitlines()[0],
            description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(run=run)
        return sub

    for op in OPERATIONS:
        _add_operation(add(op.name, verb(op), op.aliases), op)
    add("doctor", doctor)
    serving = add("serve", serve)
    serving.add_argument(
        "--port", metavar="PORT", type=_port, default=0, help="the port (default: a free one)"
    )
    serving.add_argument(
        "--idle",
        metavar="SECONDS",
        type=_seconds,
        help="stop once no kernel has been attached for SECONDS (default: run until stopped)",
    )
    serving.add_argument("--log", metavar="FILE", help="what it says after start-up goes to FILE")
    serving.add_argument(
        "--with-server",
        metavar="CMD",
        nargs=argparse.REMAINDER,
        help="run CMD (and its arguments: all that follows) and the runtime as long as CMD runs",
    )
    return parser


def _server_command(argv: Sequence[str]) -> tuple[list[str], list[str] | None]:
    """``argv`` up to ``serve ... --with-server``, and the server's command after it (a
    leading ``--`` dropped), which argparse would read as options of its own otherwise."""
    argv = list(argv)
    if WITH_SERVER not in argv or "serve" not in argv[: argv.index(WITH_SERVER)]:
        return argv, None
    at = argv.index(WITH_SERVER)
    command = argv[at + 1 :]
    return argv[: at + 1], command[1:] if command[:1] == ["--"] else command


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``copilot-magic`` with ``argv`` (default: the process's); return the exit status."""
    own, server_command = _server_command(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(own)
        if server_command is not None:
            args.with_server = server_command
    except SystemExit as stop:  # --help, --version, or a usage error argparse reported
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    try:
        settings = Settings.from_environment()
    except InvalidSetting as error:
        Console([]).error(error)
        return EXIT_USAGE
    if args.data_dir is not None:
        settings = replace(settings, data_dir=str(Path(args.data_dir).expanduser().absolute()))
    out = Console(settings.secrets())
    from copilot_magic.sessions.store import SessionStore

    # A command uses the shared runtime when one runs, and never leaves one running.
    store = SessionStore(settings, RuntimeBridge(lambda: settings, starts_shared=False))

    def bug(error: Exception) -> None:
        out.error(BUG.format(kind=type(error).__name__, message=error))
        print(out.scrub("".join(traceback.format_exception(error))), end="", file=sys.stderr)

    try:
        return exit_status(lambda: int(args.run(args, store, out)), out.error, bug)
    finally:
        store.close()
