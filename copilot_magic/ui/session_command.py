"""What ``%copilot_session`` does with a parsed line: open a session, or run an operation.

The operations come from the one table (:mod:`copilot_magic.operations.table`);
:func:`run` picks the one the line names (and refuses two at once), fills a session
left out with the active one, asks before one that destroys (:func:`ask_in_kernel`),
prints the result's lines and returns a value that displays (the table, a transcript).
What only a notebook does follows: the active session after a fork or a delete, and
a rewind's notebook changes offered back on their cells.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from IPython.core.error import StdinNotImplementedError, UsageError

from copilot_magic.errors import InvalidArgument, NotSignedIn, RuntimeUnavailable
from copilot_magic.kernel.notebook_revert import (
    NO_FRONTEND_TO_REVERT,
    NOT_REWOUND,
    OFFERED_BACK,
    Changes,
    revert,
    summary,
)
from copilot_magic.operations.grammar import NobodyToAsk, Operation, answered_yes, either, perform
from copilot_magic.operations.table import OPERATIONS, options_by_flag
from copilot_magic.sessions.ids import is_session_id
from copilot_magic.ui.arguments import NEEDS_ID, NO_ACTIVE_SESSION, ONE_ACTION
from copilot_magic.views.text import damage_warning, plural, when

if TYPE_CHECKING:
    from copilot_magic.sessions.models import Opened
    from copilot_magic.sessions.store import SessionStore
    from copilot_magic.ui.kernel_view import ShellKernel
    from copilot_magic.views.results import SessionTable, Transcript


class SessionMagics(Protocol):
    """What the actions need of :class:`~copilot_magic.ui.magics.CopilotMagics`."""

    active_session: str | None

    @property
    def store(self) -> SessionStore: ...

    def _open(
        self, session_id: str, *, new: bool, model: str | None, takeover: bool = False
    ) -> None: ...

    def _open_notebook_session(self) -> None: ...

    def _set_active(self, session_id: str | None) -> None: ...

    def kernel(self) -> ShellKernel: ...


def _chosen(args: Any) -> list[Operation]:
    return [op for op in OPERATIONS if getattr(args, op.name) is not None]


def _check_options(args: Any, chosen: list[Operation]) -> None:
    """An operation's option without that operation is refused, naming where it goes."""
    for option, owners in options_by_flag().values():
        if option.command_line_only or getattr(args, option.name) in (None, False):
            continue
        if not any(op in owners for op in chosen):
            if len(owners) == 1:
                form = owners[0].magic_form()
                raise UsageError(f"{option.flag} goes with --{owners[0].name}: {form}.")
            goes = either([f"--{op.name}" for op in owners])
            raise UsageError(f"{option.flag} goes with {goes}.")


def run(magics: SessionMagics, args: Any) -> SessionTable | Transcript | None:
    """Do what the parsed line asks (see ``%copilot_session?``)."""
    chosen = _chosen(args)
    if args.fork is not None and args.session_id is not None:  # the grammar before the table's
        words = " ".join([args.session_id, *args.fork])
        raise UsageError(f"--fork takes NEW [SRC]: %copilot_session --fork {words}")
    if len(chosen) + (args.session_id is not None) > 1:
        raise UsageError(ONE_ACTION)
    _check_options(args, chosen)
    if (args.new or args.model or args.takeover) and args.session_id is None:
        raise UsageError(NEEDS_ID)
    if chosen:
        return _perform(magics, chosen[0], args)
    if args.session_id is not None:
        _check_model(magics.store, args.model)
        magics._open(args.session_id, new=args.new, model=args.model, takeover=args.takeover)
    elif magics.active_session:
        print(f"Active session: {magics.active_session}")
    else:
        magics._open_notebook_session()
    return None


def _perform(magics: SessionMagics, op: Operation, args: Any) -> SessionTable | Transcript | None:
    """Run one operation of the table, as the notebook shows it (see ``grammar.perform``)."""
    active = magics.active_session
    names = {option.name for option in op.all_options() if not option.command_line_only}
    options = {name: getattr(args, name) for name in names}
    values = getattr(args, op.name)
    request = op.request(values, active, options)
    if any(request[a.name] is None for a in op.arguments if a.active_default):
        raise UsageError(NO_ACTIVE_SESSION)
    _check_a_session_left_out(magics.store, op, values)
    outcome = perform(op, magics.store, request, partial(print, flush=True), ask_in_kernel)
    for line in outcome.lines:
        print(line)
    if active is not None and active in outcome.deleted:
        magics.active_session = None
        print(f"{active} was the active session: no session is active now.")
    if outcome.opened is not None:
        magics._set_active(outcome.opened.session_id)
        print(f"{outcome.opened.session_id} is the active session now.")
    if outcome.changes:
        _revert_notebook(magics, outcome.changes, named=not request.get("yes"))
    return None if outcome.lines else outcome.shown  # "No session matches …", not an empty table


def opened_lines(opened: Opened) -> list[str]:
    """ "Created session x", or "Resumed session x: 3 turns, last active ...", and warnings."""
    lines = []
    if opened.waited:
        lines.append(
            f"Waited {opened.waited:.1f} s for the reply running in the other kernel to "
            "end, so it is stored whole before this kernel takes the session over."
        )
    if opened.created:
        lines.append(f"Created session {opened.session_id}")
    else:
        lines.append(
            f"Resumed session {opened.session_id}: {plural(opened.turns, 'turn')}, "
            f"last active {when(opened.last_active)}"
        )
    if opened.damage:
        lines.append(damage_warning(opened.session_id, opened.damage))
    return lines


def _check_a_session_left_out(store: SessionStore, op: Operation, values: list[str]) -> None:
    """``--rename s1`` with the title forgotten would rename the active session "s1": a
    first value that names a stored session, where the session was left out, is refused."""
    first = op.arguments[0] if op.arguments else None
    if first is None or not first.active_default or len(values) != len(op.arguments) - 1:
        return
    if values and is_session_id(values[0]) and store.exists(values[0]):
        rest = " ".join(a.metavar for a in op.arguments[1:])
        raise UsageError(
            f"{values[0]} is a stored session: give its {rest} too (--{op.name} "
            f"{values[0]} {rest}), or leave the session out for the active one."
        )


def ask_in_kernel(question: str) -> bool:
    """Ask through the kernel's standard input (JupyterLab shows a box, a terminal asks)."""
    try:
        return answered_yes(input(question))
    except StdinNotImplementedError:
        raise NobodyToAsk("this frontend takes no typed answer") from None
    except EOFError:
        return False


def _revert_notebook(magics: SessionMagics, changes: Changes, *, named: bool) -> None:
    """Offer back, on their cells, the notebook changes of the rewound turns (``named``:
    the preview named them already)."""
    if not named:
        print(summary(changes))
    said = offer_back(magics.kernel, changes, partial(print, OFFERED_BACK, flush=True))
    print(NO_FRONTEND_TO_REVERT if said is None else "\n".join(said))
    print(NOT_REWOUND)


def offer_back(
    kernel_now: Callable[[], ShellKernel], changes: Changes, announce: Callable[[], object]
) -> list[str] | None:
    """Offer ``changes`` back on their cells through the frontend that ran the current cell
    (``announce`` first), and say what became of each; ``None`` where no frontend answers."""
    kernel = kernel_now()
    if kernel.frontends is not None:
        kernel.frontends.missed = False  # a rewind waits for the frontend as a first cell does
    try:
        notebook = kernel.notebook()
        if notebook is None:
            return None
        announce()
        return revert(notebook, changes, notebook.path)
    finally:
        kernel.let_go()


def _check_model(store: SessionStore, model: str | None) -> None:
    """A ``--model`` the provider does not list is refused before the session is touched.
    A provider that cannot list its models is not asked again: the first turn says why."""
    if not model:
        return
    try:
        names = store.models()
    except (RuntimeUnavailable, NotSignedIn):
        return
    if names and model not in names:
        shown = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
        raise InvalidArgument(f"No model {model!r} here: the choices are {shown}.")
