"""The words of ``%copilot_session``, ``%%copilot`` and their errors, parsed one way.

The operations on stored sessions come from the one table
(:mod:`copilot_magic.operations.table`): a flag each here (``--rewind [ID] N``), as
IPython magics take them, a verb each on the command line (``copilot-magic rewind ID
N``), with the same values in the same order; a session left out here is the active one.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicHelpFormatter, argument, kwds, magic_arguments
from IPython.utils.process import arg_split  # type: ignore[attr-defined]

from copilot_magic.errors import CopilotMagicError, FileAccessFailed, PersonsMistake, one_line
from copilot_magic.operations.grammar import Operation, Option, either
from copilot_magic.operations.table import OPERATIONS, options_by_flag
from copilot_magic.values import mask_secrets

NO_ACTIVE_SESSION = (
    "No active Copilot session: run %copilot_session (this notebook's own) "
    "or %copilot_session ID to create or resume one."
)
NO_NOTEBOOK = (
    "No active Copilot session, and this kernel cannot tell which notebook it runs: "
    "name one with %copilot_session ID, or set CopilotMagics.notebook_path."
)
EMPTY_CELL = "The cell is empty: write your prompt below %%copilot."
ONE_ACTION = f"Use one of ID, {either([f'--{op.name}' for op in OPERATIONS])} at a time."
NEEDS_ID = "--new, --model and --takeover go with a session id: %copilot_session ID --new."
BUG = (
    "This is a bug in copilot_magic ({kind}): the traceback below says where. Please report "
    "it with the traceback."
)


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        return token[1:-1]
    return token


def parse(magic: Any, line: str) -> Any:
    """The arguments of ``magic``: quoted parts are one argument, without their quotes."""
    try:
        argv = arg_split(line, posix=False, strict=True)
    except ValueError as error:  # shlex: "No closing quotation"
        raise UsageError(f"{error} in the arguments: {line.strip()}") from None
    return magic.parser.parse_args([_unquote(token) for token in argv])


@contextlib.contextmanager
def reported(verbose: bool, secrets: Iterable[str] = ()) -> Iterator[None]:
    """The error policy: what a person sees when a command fails (README, "Errors").

    The person's mistake (a :class:`~copilot_magic.errors.PersonsMistake`) is one line,
    ``UsageError: ...``. The environment's failure (any other
    :class:`~copilot_magic.errors.CopilotMagicError`; a file the system will not read or
    write, as :class:`~copilot_magic.errors.FileAccessFailed`) is one line under its own
    name; with ``verbose``, its traceback too. Anything else is a bug: a line that says so,
    then its traceback. An interrupt goes on. No line shows a secret.
    """
    from copilot_magic.ui.advice import worded  # the way out, in the magics' commands

    try:
        yield
    except UsageError as error:
        raise UsageError(mask_secrets(str(error), secrets)) from None
    except PersonsMistake as error:
        raise UsageError(mask_secrets(worded(error), secrets)) from None
    except CopilotMagicError as error:
        error.args = (mask_secrets(worded(error), secrets),)
        if verbose:
            raise _with_traceback(error) from error
        raise error from None
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        line = f"{error.strerror or one_line(error) or type(error).__name__}{where}."
        if verbose:
            raise
        raise FileAccessFailed(mask_secrets(line, secrets)) from None
    except Exception as error:
        print(BUG.format(kind=type(error).__name__), file=sys.stderr, flush=True)
        masked = mask_secrets(str(error), secrets)
        if masked != str(error):
            error.args = (masked,)
        raise


class _Traced(Exception):
    """An environment's failure shown with its traceback (``verbose_errors``)."""


def _with_traceback(error: CopilotMagicError) -> Exception:
    """``error`` as an exception IPython shows with its traceback (and its cause's)."""
    return _Traced(f"{type(error).__name__}: {error}")


COPILOT_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [  # of %%copilot
    (
        ("--session", "-s"),
        {"metavar": "ID", "help": "Talk to this session instead of the active one."},
    ),
    (("--error", "-e"), {"action": "store_true", "help": "Attach the last error and traceback."}),
    (("--code", "-c"), {"action": "store_true", "help": "Put the reply's code in a new cell."}),
    (
        ("--again",),
        {"action": "store_true", "help": "Ask again as a new turn, though this cell asked before."},
    ),
    (
        ("--fork",),
        {
            "metavar": "NEW",
            "help": "Ask in a new session NEW holding the turns before this cell's.",
        },
    ),
]
OPEN_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [  # %copilot_session ID ...
    (("session_id",), {"nargs": "?", "metavar": "ID", "help": "Session to create or resume."}),
    (("--model", "-m"), {"help": "Model for this session (overrides CopilotMagics.model)."}),
    (("--new",), {"action": "store_true", "help": "Only create: refuse an id that exists."}),
    (
        ("--takeover",),
        {
            "action": "store_true",
            "help": "Resume a session even though another kernel holds it open.",
        },
    ),
]


class _Values(argparse.Action):
    """An operation's values, shown in the help as the table declares them (``[ID] N``)."""

    def __init__(self, *args: Any, shown: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shown = shown

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        setattr(namespace, self.dest, list(values))


class _Formatter(MagicHelpFormatter):
    """IPython's help formatter, with an operation's values as the table writes them."""

    def _format_args(self, action: argparse.Action, default_metavar: str) -> str:
        shown = getattr(action, "shown", "")
        return shown or super()._format_args(action, default_metavar)

    def _format_action_invocation(self, action: argparse.Action) -> str:
        shown = getattr(action, "shown", "")
        if not shown:
            return str(super()._format_action_invocation(action))  # type: ignore[no-untyped-call]
        return ", ".join(f"{flag} {shown}" for flag in action.option_strings)


def _operation_option(op: Operation) -> tuple[tuple[str, ...], dict[str, Any]]:
    flags = (f"--{op.name}", *(f"--{alias}" for alias in op.aliases))
    settings: dict[str, Any] = {"dest": op.name, "help": op.summary, "default": None}
    if not op.arguments:
        return flags, {**settings, "action": "store_const", "const": []}
    least = sum(1 for a in op.arguments if not a.active_default)
    nargs: int | str = len(op.arguments) if least == len(op.arguments) else "+"
    nargs = "*" if least == 0 else nargs
    shown = " ".join(op.magic_metavars())
    return flags, {**settings, "action": _Values, "nargs": nargs, "shown": shown}


def _shared_option(option: Option) -> tuple[tuple[str, ...], dict[str, Any]]:
    owners = either([f"--{op.name}" for op in options_by_flag()[option.flag][1]])
    shown = f"With {owners}: {option.help}."
    if not option.metavar:
        return (option.flag,), {"dest": option.name, "action": "store_true", "help": shown}
    return (option.flag,), {"dest": option.name, "metavar": option.metavar, "help": shown}


SESSION_OPTIONS = [  # of %copilot_session: opening, then the table of operations
    *OPEN_OPTIONS,
    *(_operation_option(op) for op in OPERATIONS),
    *(
        _shared_option(option)
        for option, _ in options_by_flag().values()
        if not option.command_line_only
    ),
]


def _with_options(
    options: list[tuple[tuple[str, ...], dict[str, Any]]],
) -> Callable[[Callable[..., Any]], Any]:
    def decorate(magic: Callable[..., Any]) -> Any:
        for names, settings in reversed(options):
            magic = argument(*names, **settings)(magic)  # type: ignore[no-untyped-call]
        magic = kwds(formatter_class=_Formatter)(magic)  # type: ignore[no-untyped-call]
        return magic_arguments()(magic)  # type: ignore[no-untyped-call]

    return decorate


# The options of ``%copilot_session`` and ``%%copilot``, declared once (``?`` lists them).
session_arguments = _with_options(SESSION_OPTIONS)
copilot_arguments = _with_options(COPILOT_OPTIONS)
