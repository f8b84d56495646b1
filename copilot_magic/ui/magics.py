"""``%copilot_session`` and ``%%copilot``: persistent Copilot conversations in IPython."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.utils.process import arg_split  # type: ignore[attr-defined]
from traitlets import Enum, Float, TraitType, Unicode, default, observe

from copilot_magic.config import PROVIDER_TYPES, Secret, Settings
from copilot_magic.errors import (
    CopilotMagicError,
    InvalidSessionId,
    SessionNotFound,
    TurnFailed,
    TurnInterrupted,
    one_line,
)
from copilot_magic.sessions.ids import validate_session_id
from copilot_magic.views.text import (
    damage_warning,
    format_history,
    format_session_table,
    plural,
    when,
)

if TYPE_CHECKING:  # imported on first use, so that %load_ext stays quick (see __init__)
    from copilot_magic.sessions.catalog import StoreCatalog
    from copilot_magic.sessions.store import SessionStore

NO_ACTIVE_SESSION = (
    "No active Copilot session: run %copilot_session (this notebook's own) "
    "or %copilot_session ID to create or resume one."
)
NO_NOTEBOOK = (
    "No active Copilot session, and this kernel cannot tell which notebook it runs: "
    "name one with %copilot_session ID, or set CopilotMagics.notebook_path."
)
EMPTY_CELL = "The cell is empty: write your prompt below %%copilot."
ONE_ACTION = "Use one of ID, --list, --history, --delete or --export at a time."


class SecretString(TraitType[Secret, str | Secret]):
    """A string trait whose value never prints (``%config`` shows asterisks)."""

    default_value = Secret("")
    info_text = "a secret string"

    def validate(self, obj: Any, value: Any) -> Secret:
        if isinstance(value, Secret):
            return value
        if isinstance(value, str):
            return Secret(value)
        self.error(obj, value)
        raise AssertionError  # error() raises TraitError


def _environment_default(name: str) -> Any:
    """A traitlets ``@default`` that reads the trait's value from the environment."""

    def read(self: Any) -> Any:
        return getattr(Settings.from_environment(), name)

    return default(name)(read)


def _valid_id(session_id: str) -> bool:
    try:
        validate_session_id(session_id)
    except InvalidSessionId:
        return False
    return True


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        return token[1:-1]
    return token


def _parse(magic: Any, line: str) -> Any:
    """The arguments of ``magic``: quoted parts are one argument, without their quotes."""
    try:
        argv = arg_split(line, posix=False, strict=True)
    except ValueError as error:  # shlex: "No closing quotation"
        raise UsageError(f"{error} in the arguments: {line.strip()}") from None
    return magic.parser.parse_args([_unquote(token) for token in argv])


def _in_kernel(shell: Any) -> bool:
    return shell is not None and getattr(shell, "kernel", None) is not None


@magics_class
class CopilotMagics(Magics):
    """GitHub Copilot conversations that persist across kernels, notebooks and restarts."""

    model = Unicode(
        help="Model for new and resumed sessions (empty: the runtime's default). "
        "Env: COPILOT_MAGIC_MODEL."
    ).tag(config=True)
    provider_url = Unicode(
        help="Base URL of your own model provider (BYOK), "
        "e.g. http://localhost:11434/v1 for Ollama. Empty: GitHub Copilot. "
        "Env: COPILOT_MAGIC_PROVIDER_URL."
    ).tag(config=True)
    provider_type = Enum(
        PROVIDER_TYPES,
        default_value="openai",
        help="Kind of provider_url: openai (any OpenAI-compatible server), azure or anthropic. "
        "Env: COPILOT_MAGIC_PROVIDER_TYPE.",
    ).tag(config=True)
    provider_api_key = SecretString(
        help="API key for provider_url; never shown. Env: COPILOT_MAGIC_PROVIDER_API_KEY."
    ).tag(config=True)
    data_dir = Unicode(
        help="Where sessions are stored (empty: the runtime's default, ~/.copilot). "
        "Env: COPILOT_HOME."
    ).tag(config=True)
    cli_path = Unicode(
        help="The Copilot runtime binary (empty: the SDK's). Env: COPILOT_CLI_PATH."
    ).tag(config=True)
    abstain_signal = Unicode(
        help="Text that marks a reply as an abstention. Env: COPILOT_MAGIC_ABSTAIN_SIGNAL."
    ).tag(config=True)
    notebook_path = Unicode(
        help="The notebook this kernel runs, when Jupyter or VS Code do not say it "
        "(it ties the notebook to its conversation). Env: COPILOT_MAGIC_NOTEBOOK."
    ).tag(config=True)
    updates_per_second = Float(
        10.0, help="Most display updates a second while a reply streams."
    ).tag(config=True)
    reply_timeout = Float(
        help="Seconds a reply may go without any sign from Copilot before it is stopped "
        "with an error (a hung model server otherwise stalls the cell for many minutes). "
        "Env: COPILOT_MAGIC_REPLY_TIMEOUT."
    ).tag(config=True)

    _default_model = _environment_default("model")
    _default_provider_url = _environment_default("provider_url")
    _default_provider_type = _environment_default("provider_type")
    _default_provider_api_key = _environment_default("provider_api_key")
    _default_data_dir = _environment_default("data_dir")
    _default_cli_path = _environment_default("cli_path")
    _default_abstain_signal = _environment_default("abstain_signal")
    _default_notebook_path = _environment_default("notebook_path")
    _default_reply_timeout = _environment_default("reply_timeout")

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.active_session: str | None = None
        self._store: SessionStore | None = None

    # -- plumbing -----------------------------------------------------------------
    def settings(self) -> Settings:
        """The current configuration, traits first, then the environment."""
        return Settings(
            model=self.model,
            provider_url=self.provider_url,
            provider_type=self.provider_type,
            provider_api_key=self.provider_api_key,
            data_dir=self.data_dir,
            cli_path=self.cli_path,
            abstain_signal=self.abstain_signal,
            reply_timeout=self.reply_timeout,
        )

    @property
    def store(self) -> SessionStore:
        if self._store is None:
            from copilot_magic.runtime.bridge import RuntimeBridge
            from copilot_magic.sessions.store import SessionStore

            self._store = SessionStore(RuntimeBridge(self.settings()))
        return self._store

    @observe(
        "provider_url",
        "provider_type",
        "provider_api_key",
        "data_dir",
        "cli_path",
        "abstain_signal",
    )
    def _settings_changed(self, change: Any) -> None:
        """A new runtime or provider applies from the next command on."""
        self.close()

    def close(self) -> None:
        """Stop the runtime; the active session is resumed on the next use."""
        if self._store is not None:
            self._store.close()
            self._store = None

    @contextlib.contextmanager
    def _user_errors(self) -> Iterator[None]:
        try:
            yield
        except CopilotMagicError as error:
            raise UsageError(one_line(error)) from None

    # -- %copilot_session -----------------------------------------------------------
    @magic_arguments()
    @argument("session_id", nargs="?", metavar="ID", help="Session to create or resume.")
    @argument("--model", "-m", help="Model for this session (overrides CopilotMagics.model).")
    @argument("--new", action="store_true", help="Only create: refuse an id that exists.")
    @argument(
        "--takeover",
        action="store_true",
        help="Resume a session even though another kernel holds it open.",
    )
    @argument("--list", "-l", action="store_true", help="List stored sessions.")
    @argument(
        "--history",
        nargs="?",
        const="",
        metavar="ID",
        help="Show a transcript (default: the active session).",
    )
    @argument("--delete", metavar="ID", help="Delete a session and all its data from disk.")
    @argument(
        "--export",
        nargs=2,
        metavar=("ID", "PATH"),
        help="Write a session to PATH: a notebook (.ipynb) or Markdown (.md).",
    )
    @line_magic
    def copilot_session(self, line: str = "") -> None:
        """Create, resume, list, show or delete Copilot sessions.

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
            %copilot_session --history            # transcript of the active session
            %copilot_session --delete scratch     # gone, with all its data
            %copilot_session --export analysis-2026 analysis.ipynb   # or .md
        """
        args = _parse(self.copilot_session, line)
        actions = [
            args.session_id is not None,
            args.list,
            args.history is not None,
            args.delete is not None,
            args.export is not None,
        ]
        if sum(actions) > 1:
            raise UsageError(ONE_ACTION)
        if (args.new or args.model or args.takeover) and args.session_id is None:
            raise UsageError(
                "--new, --model and --takeover go with a session id: %copilot_session ID --new."
            )
        with self._user_errors():
            if args.list:
                print(format_session_table(self.store.summaries()))
            elif args.history is not None:
                self._show_history(args.history or self.active_session)
            elif args.delete is not None:
                self._delete(args.delete)
            elif args.export is not None:
                from copilot_magic.views.export import (
                    export_session,  # nbformat: imported when needed
                )

                session_id, path = args.export
                written = export_session(self.store, validate_session_id(session_id), Path(path))
                print(f"Exported session {session_id} to {written}")
            elif args.session_id is not None:
                self._open(args.session_id, new=args.new, model=args.model, takeover=args.takeover)
            elif self.active_session:
                print(f"Active session: {self.active_session}")
            else:
                self._open_notebook_session()

    def notebook_file(self) -> Path | None:
        """The notebook this kernel runs, when it can be known (see ``notebook_path``)."""
        from copilot_magic.sessions.notebooks import find_notebook

        user_ns = getattr(self.shell, "user_ns", {}) or {}
        return find_notebook(self.notebook_path, user_ns, os.environ)

    def _open_notebook_session(self) -> None:
        from copilot_magic.sessions.notebooks import (
            current_user,
            new_session_id,
            sessions_of_notebook,
        )

        notebook = self.notebook_file()
        if notebook is None:
            raise UsageError(NO_NOTEBOOK)
        store = self.store
        tied = [s for s in sessions_of_notebook(notebook, store.links) if _valid_id(s)]
        session_id = next((s for s in tied if store.exists(s)), None) or new_session_id(
            current_user(os.environ), notebook, store.exists
        )
        self._open(session_id, new=False, model=None)

    def _open(
        self, session_id: str, *, new: bool, model: str | None, takeover: bool = False
    ) -> None:
        opened = self.store.open(
            validate_session_id(session_id), new=new, model=model, takeover=takeover
        )
        self.active_session = opened.session_id
        notebook = self.notebook_file()
        if notebook is not None:
            self.store.links.link(notebook, opened.session_id)
        if opened.created:
            print(f"Created session {opened.session_id}")
        else:
            print(
                f"Resumed session {opened.session_id}: {plural(opened.turns, 'turn')}, "
                f"last active {when(opened.last_active)}"
            )
        if opened.damage:
            print(damage_warning(opened.session_id, opened.damage))

    def _show_history(self, session_id: str | None) -> None:
        if not session_id:
            raise UsageError(NO_ACTIVE_SESSION)
        turns = self.store.history(validate_session_id(session_id))
        damage = self.store.damage(session_id)
        if damage:
            print(damage_warning(session_id, damage))
        print(format_history(session_id, turns, self.store.settings.abstain_signal))

    def _delete(self, session_id: str) -> None:
        self.store.delete(validate_session_id(session_id))
        if session_id == self.active_session:
            self.active_session = None
            print(f"Deleted session {session_id} and all its data; no session is active now.")
        else:
            print(f"Deleted session {session_id} and all its data.")

    # -- %copilot_sessions -------------------------------------------------------------
    def catalog(self) -> StoreCatalog:
        """The session browser's view of this kernel's sessions and active session."""
        from copilot_magic.sessions.catalog import StoreCatalog

        return StoreCatalog(self.store, lambda: self.active_session, self._set_active)

    def _set_active(self, session_id: str | None) -> None:
        self.active_session = session_id

    @line_magic
    def copilot_sessions(self, line: str = "") -> Any:
        """Open the session browser: find, read, delete, clean up and reopen sessions.

        Lists every stored session (id, title, times, turns, abstentions), filters
        by id and title (or the full text), shows a transcript page by page with
        abstentions highlighted, deletes after a confirmation, cleans up sessions
        older than N days after a dry run, and makes a session this notebook's
        active one with "Use here".
        """
        if line.strip():
            raise UsageError("%copilot_sessions takes no arguments.")
        from copilot_magic.ui.panel import SessionBrowser

        with self._user_errors():
            return SessionBrowser(self.catalog())

    # -- %%copilot ------------------------------------------------------------------
    @magic_arguments()
    @argument(
        "--session", "-s", metavar="ID", help="Talk to this session instead of the active one."
    )
    @cell_magic
    def copilot(self, line: str, cell: str) -> None:
        """Send the cell to Copilot and stream the reply into the cell as Markdown.

        The cell goes to the active session (see ``%copilot_session``), or to
        ``--session ID`` without changing the active one. The reply appears as
        it is written; a reply carrying the abstain signal is shown under a
        "🛑 Copilot abstained" banner. Interrupt the kernel to stop a reply: the
        part received stays visible, and the session is ready for the next cell.

        Example::

            %%copilot
            Explain what this DataFrame's groupby does.
        """
        args = _parse(self.copilot, line)
        session_id = args.session or self.active_session
        if not session_id:
            raise UsageError(NO_ACTIVE_SESSION)
        prompt = cell.strip()
        if not prompt:
            raise UsageError(EMPTY_CELL)
        with self._user_errors():
            if args.session and not self.store.exists(validate_session_id(args.session)):
                raise SessionNotFound(
                    f"No session {args.session!r}: "
                    f"create it first with %copilot_session {args.session}."
                )
            self._converse(session_id, prompt)

    def _converse(self, session_id: str, prompt: str) -> None:
        from copilot_magic.sessions.turn import Delta
        from copilot_magic.ui.live_reply import LiveReply
        from copilot_magic.views.render import Stage

        store = self.store
        stream = store.start_turn(session_id, prompt, silence_timeout=self.reply_timeout)
        view = LiveReply(
            session_id,
            stream.number,
            store.settings.abstain_signal,
            rich=_in_kernel(self.shell),
            per_second=self.updates_per_second,
        )
        view.start()
        try:
            for update in stream:
                if isinstance(update, Delta):
                    view.stream(update.read)  # joined only if it is shown
                else:
                    view.notice(update.message)
        except KeyboardInterrupt:
            stream.abort()
            view.finish(stream.text, Stage.INTERRUPTED)
            raise TurnInterrupted(
                "Interrupted: the reply was stopped; the session is ready for the next cell."
            ) from None
        except TurnInterrupted:
            view.finish(stream.text, Stage.INTERRUPTED)
            raise
        except TurnFailed as error:
            view.finish(stream.text, Stage.FAILED, str(error))
            raise
        finally:
            store.end_turn(session_id)
        view.finish(stream.text, Stage.DONE)
