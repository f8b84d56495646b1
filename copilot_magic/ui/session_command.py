"""What each ``%copilot_session`` option does, given the parsed arguments.

One function per action; :func:`run` picks the one the line asked for (and
refuses two at once). Each prints its result in one or a few lines, or
returns a value that displays (the table, a transcript).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from IPython.core.error import UsageError

from copilot_magic.errors import InvalidArgument, NotSignedIn, RuntimeUnavailable
from copilot_magic.kernel.notebook_revert import (
    NO_FRONTEND_TO_REVERT,
    NOT_REWOUND,
    OFFERED_BACK,
    Changes,
    revert,
    summary,
)
from copilot_magic.sessions.ids import validate_session_id
from copilot_magic.ui.arguments import NEEDS_ID, NO_ACTIVE_SESSION, ONE_ACTION
from copilot_magic.ui.session_actions import cleanup, opened_lines
from copilot_magic.views.text import clipped, compaction_words, plural

if TYPE_CHECKING:
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


_ACTIONS = ("list", "show", "delete", "export", "cleanup", "rename", "rewind", "compact")
_ACTIONS_TOO = ("usage", "models", "star", "unstar")  # each has its function in _DO, below


def _given(args: Any, name: str) -> bool:
    value = getattr(args, name)
    return value is not None and value is not False  # --cleanup 0 and --rewind 0 are given


def run(magics: SessionMagics, args: Any) -> SessionTable | Transcript | None:
    """Do what the parsed line asks (see ``%copilot_session?``)."""
    chosen = [name for name in (*_ACTIONS, *_ACTIONS_TOO) if _given(args, name)]
    if len(chosen) + (args.session_id is not None) > 1:
        raise UsageError(ONE_ACTION)
    if args.yes and args.cleanup is None:
        raise UsageError("--yes goes with --cleanup DAYS.")
    if args.at is not None and args.fork is None:
        raise UsageError("--at goes with --fork: %copilot_session NEW --fork SRC --at TURN.")
    if (args.new or args.model or args.takeover or args.fork) and args.session_id is None:
        raise UsageError(NEEDS_ID)
    if args.fork is not None and (args.new or args.model or args.takeover):
        raise UsageError("--fork makes a new session: it goes alone with its ID (and --at).")
    if args.client is not None and not args.list:
        raise UsageError("--client goes with --list: %copilot_session --list --client NAME.")
    store = magics.store
    if args.list:
        from copilot_magic.views.results import SessionTable

        listed = store.summaries()
        made = [s for s in listed if s.made_by(args.client)] if args.client is not None else listed
        return SessionTable(tuple(made))
    if args.show is not None:
        return _transcript(store, args.show or magics.active_session)
    if chosen:
        _DO[chosen[0]](magics, args)
    elif args.fork is not None:
        _fork(magics, args.session_id, args.fork, args.at)
    elif args.session_id is not None:
        _check_model(store, args.model)
        magics._open(args.session_id, new=args.new, model=args.model, takeover=args.takeover)
    elif magics.active_session:
        print(f"Active session: {magics.active_session}")
    else:
        magics._open_notebook_session()
    return None


def _active(magics: SessionMagics) -> str:
    if not magics.active_session:
        raise UsageError(NO_ACTIVE_SESSION)
    return magics.active_session


def _transcript(store: SessionStore, session_id: str | None) -> Transcript:
    from copilot_magic.views.results import transcript_of

    if not session_id:
        raise UsageError(NO_ACTIVE_SESSION)
    return transcript_of(store, session_id)


def _cleanup(magics: SessionMagics, args: Any) -> None:
    active = [magics.active_session] if magics.active_session else []
    print("\n".join(cleanup(magics.store, args.cleanup, delete=args.yes, protect=active)))


def _delete(magics: SessionMagics, args: Any) -> None:
    session_id = validate_session_id(args.delete)
    magics.store.delete(session_id)
    if session_id == magics.active_session:
        magics.active_session = None
        print(f"Deleted session {session_id} and all its data; no session is active now.")
    else:
        print(f"Deleted session {session_id} and all its data.")


def _export(magics: SessionMagics, args: Any) -> None:
    from copilot_magic.views.export import export_session  # nbformat: when needed

    session_id, path = args.export
    written = export_session(magics.store, validate_session_id(session_id), Path(path))
    print(f"Exported session {session_id} to {written}")


def _rename(magics: SessionMagics, args: Any) -> None:
    session_id, title = args.rename
    title = magics.store.rename(validate_session_id(session_id), title)
    print(f"Renamed session {session_id}: {title}")


def _fork(magics: SessionMagics, handle: str, source: str, at: int | None) -> None:
    store = magics.store
    opened = store.fork(validate_session_id(handle), validate_session_id(source), at)
    magics._set_active(opened.session_id)
    kept = "all its turns" if at is None else f"its turns 1 to {at}"
    print(f"Forked {source} into {handle} ({kept}); {handle} is the active session now.")
    print("\n".join(opened_lines(opened)))


def _rewind(magics: SessionMagics, args: Any) -> None:
    session_id = _active(magics)
    rewound = magics.store.rewind(session_id, args.rewind)
    quoted = ", ".join(f"“{clipped(prompt)}”" for prompt in rewound.prompts)
    print(
        f"Removed {plural(len(rewound.prompts), 'turn')} from {session_id} ({quoted}), from its "
        f"history and from disk; {plural(rewound.turns_left, 'turn')} left."
    )
    if rewound.changes:
        _revert_notebook(magics, rewound.changes)


def _revert_notebook(magics: SessionMagics, changes: Changes) -> None:
    """Offer back, on their cells, the notebook changes of the rewound turns."""
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


def _compact(magics: SessionMagics, args: Any) -> None:
    session_id = _active(magics)
    print(compaction_words(session_id, magics.store.compact(session_id)))


def _usage(magics: SessionMagics, args: Any) -> None:
    session_id = validate_session_id(args.usage) if args.usage else _active(magics)
    usage = magics.store.usage(session_id)
    print(f"{session_id}: {usage.line() if usage else '— (no model request yet)'}")


def _models(magics: SessionMagics, args: Any) -> None:
    store = magics.store
    current = store.settings.model
    names = store.models()
    for name in names:
        print(f"{'*' if name == current else ' '} {name}")
    if current and current not in names:
        print(f"(the configured model {current!r} is not in this list)")


def _star(magics: SessionMagics, args: Any) -> None:
    magics.store.star(validate_session_id(args.star))
    print(f"Starred {args.star}: listed first, and clean-ups keep it.")


def _unstar(magics: SessionMagics, args: Any) -> None:
    magics.store.star(validate_session_id(args.unstar), on=False)
    print(f"Took the star away from {args.unstar}.")


_DO = {
    "delete": _delete,
    "cleanup": _cleanup,
    "export": _export,
    "rename": _rename,
    "rewind": _rewind,
    "compact": _compact,
    "usage": _usage,
    "models": _models,
    "star": _star,
    "unstar": _unstar,
}


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
