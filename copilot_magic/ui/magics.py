"""``%copilot_session``, ``%copilot_sessions`` and ``%%copilot``: persistent Copilot conversations.

The settings are traits made from :mod:`copilot_magic.config`
(``%config CopilotMagics``); the store reads them afresh at every command, so
a change applies from the next command on. Errors follow one policy
(:func:`~copilot_magic.ui.arguments.reported`): one line, never a traceback,
unless it is a bug and ``verbose_errors`` is on.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import display
from traitlets import HasTraits

from copilot_magic.config import Settings, setting_names
from copilot_magic.errors import SessionNotFound
from copilot_magic.sessions.ids import is_session_id, validate_session_id
from copilot_magic.ui.arguments import (
    EMPTY_CELL,
    NO_ACTIVE_SESSION,
    NO_NOTEBOOK,
    copilot_arguments,
    parse,
    reported,
    session_arguments,
)
from copilot_magic.ui.browse import LivePanels
from copilot_magic.ui.frontend_link import FrontendProbe
from copilot_magic.ui.kernel_view import CellWatch, ErrorWatch, ShellKernel
from copilot_magic.ui.session_command import opened_lines
from copilot_magic.ui.traits import settings_traits
from copilot_magic.values import is_blank

if TYPE_CHECKING:  # imported on first use, so that %load_ext stays quick (see __init__)
    from copilot_magic.sessions.catalog import StoreCatalog
    from copilot_magic.sessions.store import SessionStore
    from copilot_magic.views.results import SessionTable, Transcript

    CopilotSettings = HasTraits
else:
    CopilotSettings = settings_traits()


def _in_kernel(shell: Any) -> bool:
    return shell is not None and getattr(shell, "kernel", None) is not None


@magics_class
class CopilotMagics(Magics, CopilotSettings):
    """GitHub Copilot conversations that persist across kernels, notebooks and restarts."""

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.active_session: str | None = None
        self._store: SessionStore | None = None
        self.errors = ErrorWatch()  # the last error, for --error and the tools
        self.cells = CellWatch()  # the running cell's id, so a cell run again is not re-sent
        self.frontends = FrontendProbe(shell)  # the notebook frontend that ran a cell
        self.panels = LivePanels()  # the session browsers shown: told when a turn ends
        if shell is not None:
            self.errors.register(shell)
            self.cells.register(shell)

    # -- plumbing -----------------------------------------------------------------
    def settings(self) -> Settings:
        """The settings in force now: the traits (which default to the environment)."""
        return Settings(**{name: getattr(self, name) for name in setting_names()})

    @property
    def store(self) -> SessionStore:
        if self._store is None:
            from copilot_magic.sessions.store import SessionStore

            self._store = SessionStore(self.settings)
        return self._store

    def close(self) -> None:
        """Stop the runtime; the active session is resumed on the next use."""
        if self.shell is not None:
            self.errors.unregister(self.shell)
            self.cells.unregister(self.shell)
        if self._store is not None:
            self._store.close()
            self._store = None

    def _reported(self) -> Any:
        try:
            settings = self.settings()
        except Exception:  # noqa: BLE001 - a bad setting is itself reported in one line
            return reported(verbose=False)
        return reported(verbose=settings.verbose_errors, secrets=settings.secrets())

    # -- %copilot_session -----------------------------------------------------------
    @session_arguments
    @line_magic
    def copilot_session(self, line: str = "") -> SessionTable | Transcript | None:
        """Open a Copilot session, or run an operation on the stored ones.

        ``%copilot_session ID`` resumes the session ID with its whole history, or
        creates it if no session has that id, and makes it the active session
        that ``%%copilot`` cells talk to. Sessions are stored on disk by the
        Copilot runtime, so they outlive the kernel: run the same line tomorrow
        to continue. Ids are 1 to 250 letters, digits, '-' and '_'.

        Without an id it names the active session; if there is none yet, it
        resumes this notebook's own conversation (the session the notebook used
        last, found even after the notebook was renamed or moved), or creates one
        named after you and the notebook.

        Examples::

            %copilot_session                      # this notebook's conversation
            %copilot_session analysis-2026        # create or resume by id
            %copilot_session scratch --new        # create only
            %copilot_session --list               # id, title, last active, turns
            %copilot_session --show               # transcript of the active session
            %copilot_session --delete scratch     # asks, then gone with all its data
            %copilot_session --export a.ipynb     # the active session; or .md
            %copilot_session --cleanup 30         # what is idle over 30 days; asks first
            %copilot_session --rename "Q3 churn"  # the title in every list
            %copilot_session --fork try-b --at 3  # a copy of turns 1-3, made active
            %copilot_session --rewind 1           # asks, then the last turn is gone
            %copilot_session --compact            # summarise the context for the model
            %copilot_session --usage              # tokens in and out, requests, models
            %copilot_session --models             # the models you can use; * is in use
            %copilot_session --star analysis-2026 # listed first, kept by clean-ups

        The operations (``--list`` to ``--cleanup``) are the ``copilot-magic``
        command's verbs, with the same values in the same order
        (``copilot-magic rewind ID N``); here a session left out is the active
        one. One that destroys (``--rewind``, ``--delete``, ``--cleanup``) says
        what would go and asks y/N; ``--yes`` skips the question, ``--dry-run``
        only shows. ``--list`` and ``--show`` return values (a table, a
        transcript) that display in the cell and can be kept:
        ``sessions = %copilot_session --list``.
        """
        args = parse(self.copilot_session, line)
        with self._reported():
            from copilot_magic.ui.session_command import run

            return run(self, args)

    def notebook_file(self) -> Path | None:
        """The notebook this kernel runs, when it can be known (see ``notebook_path``)."""
        from copilot_magic.sessions.notebooks import find_notebook

        user_ns = getattr(self.shell, "user_ns", {}) or {}
        return find_notebook(self.settings().notebook_path, user_ns, os.environ)

    def _open_notebook_session(self) -> None:
        from copilot_magic.sessions.notebooks import current_user, new_session_id

        notebook = self.notebook_file()
        if notebook is None:
            raise UsageError(NO_NOTEBOOK)
        store = self.store
        tied = [s for s in store.notebook_sessions(notebook) if is_session_id(s)]
        session_id = next((s for s in tied if store.exists(s)), None) or new_session_id(
            current_user(os.environ), notebook, store.exists
        )
        self._open(session_id, new=False, model=None)

    def _open(
        self, session_id: str, *, new: bool, model: str | None, takeover: bool = False
    ) -> None:
        validate_session_id(session_id)
        starting = None
        if _in_kernel(self.shell) and not self.store.bridge.runtime_alive():  # a second or so
            note = {"text/plain": f"⏳ Starting Copilot to open {session_id}…"}
            starting = display(note, raw=True, display_id=True)
        try:
            opened = self.store.open(session_id, new=new, model=model, takeover=takeover)
        finally:
            if starting is not None:
                starting.update({"text/plain": ""}, raw=True)  # the lines below say what happened
        self._set_active(opened.session_id)
        print("\n".join(opened_lines(opened)))

    # -- %copilot_sessions -------------------------------------------------------------
    def catalog(self) -> StoreCatalog:
        """The session browser's view of this kernel's sessions and active session."""
        from copilot_magic.sessions.catalog import StoreCatalog
        from copilot_magic.ui.session_command import offer_back

        reach = partial(offer_back, self.kernel)  # rewound notebook changes, offered back
        return StoreCatalog(self.store, lambda: self.active_session, self._set_active, reach)

    def _set_active(self, session_id: str | None) -> None:
        """Make the session this notebook's active one, tie the notebook to it, and let go
        of the one it replaces (another kernel may open that one now)."""
        previous, self.active_session = self.active_session, session_id
        if previous is not None and previous != session_id:
            self.store.let_go(previous)
        notebook = self.notebook_file() if session_id is not None else None
        if notebook is not None and session_id is not None:
            self.store.tie_notebook(notebook, session_id)

    @line_magic
    def copilot_sessions(self, line: str = "") -> Any:
        """Open the session browser: find, read, delete, clean up and reopen sessions.

        Lists every stored session (id, title, times, turns, abstentions), filters
        by id and title (or the full text), shows a transcript page by page with
        abstentions highlighted, deletes after a confirmation, cleans up sessions
        older than N days after a dry run, and makes a session this notebook's
        active one with "Use here". A terminal IPython has no widgets: there it
        shows the sessions as the text table of ``%copilot_session --list``.
        """
        if line.strip():
            raise UsageError("%copilot_sessions takes no arguments.")
        from copilot_magic.ui.browse import browse

        with self._reported():
            return browse(self.catalog(), widgets=_in_kernel(self.shell), panels=self.panels)

    # -- %%copilot ------------------------------------------------------------------
    def kernel(self) -> ShellKernel:
        """The kernel as Copilot's references and tools see it."""
        settings = self.settings()
        return ShellKernel(
            self.shell,
            self.errors,
            settings.context_limit,
            settings.secrets(),
            rich=_in_kernel(self.shell),
            frontends=self.frontends if settings.notebook_tools_on else None,
            cell_id=self.cells.cell_id,
            apply_at_once=settings.notebook_edits == "apply",
        )

    @copilot_arguments
    @cell_magic
    def copilot(self, line: str, cell: str) -> None:
        """Send the cell to Copilot and stream the reply into the cell as Markdown.

        The cell goes to the active session (see ``%copilot_session``), or to
        ``--session ID``. Interrupt the kernel to stop a reply.

        ``{name}`` attaches a description of the variable ``name`` (a DataFrame's shape,
        columns, dtypes and first rows; an array's shape and a sample...), ``{In[3]}`` and
        ``{Out[3]}`` a cell's source and result; ``{{df}}`` is the text ``{df}``. ``--error``
        attaches the last error; ``--code`` puts the reply's code in a new cell below. While
        it replies, Copilot may look at the kernel (a line in the cell for each look), ask to
        run code (only on your y) and, in JupyterLab and Notebook 7, change cells under review.

        Examples::

            %%copilot
            Why does {df} have NaNs in price?

            %%copilot --error --code
            What went wrong, and what is the fix?

        With no active session, a notebook's ``%%copilot`` opens the notebook's own
        session first, as ``%copilot_session`` with no id does, and says which.

        Running a cell again never asks twice. Its first run in a kernel (Run All
        on a reopened notebook) shows its stored reply without sending, the last
        turn's too; running it again in the same kernel asks the last turn again
        in its place, and shows an earlier one's stored reply. An edited earlier
        cell keeps its reply and asks you to choose ``--fork NEW`` (a new session
        from the turn before) or ``--again`` (a new turn at the end).
        """
        args = parse(self.copilot, line)
        session_id = args.session or self.active_session
        if not session_id and self.notebook_file() is None:
            raise UsageError(NO_ACTIVE_SESSION)
        prompt = cell.strip()
        if is_blank(prompt):
            raise UsageError(EMPTY_CELL)
        with self._reported():
            if not session_id:  # a notebook's first prompt: its own session, as %copilot_session
                self._open_notebook_session()
                session_id = self.active_session
                assert session_id is not None
            if args.session and not self.store.exists(validate_session_id(args.session)):
                raise SessionNotFound(
                    f"No session {args.session!r}: "
                    f"create it first with %copilot_session {args.session}."
                )
            from copilot_magic.ui.asking import Rerun, ask

            cell_id = self.cells.cell_id
            ran_here = cell_id in self.cells.ran
            rerun = Rerun(cell_id, args.again, args.fork, self._set_active, ran_here)
            options = {"rich": _in_kernel(self.shell), "error": args.error, "code": args.code}
            kernel = self.kernel()
            try:
                ask(self.store, self.shell, kernel, session_id, prompt, rerun=rerun, **options)
            finally:
                kernel.let_go()
                self.panels.turn_ended(session_id)  # even interrupted: what was stored
            self.cells.ran_here(cell_id)

    @line_magic
    def copilot_code(self, line: str = "") -> None:
        """Put the code of a reply into a new cell below.

        ``%copilot_code`` takes the last reply of the active session that has
        Python code blocks; ``%copilot_code 3`` the reply of turn 3.
        """
        with self._reported():
            from copilot_magic.ui.asking import pull_code

            pull_code(self.store, self.shell, self.active_session, line.strip())
