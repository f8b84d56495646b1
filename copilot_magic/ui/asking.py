"""What a ``%%copilot`` cell sends: the prompt, the kernel context it names, and its code.

``{df}``, ``{In[3]}`` and ``{Out[3]}`` in the cell attach bounded descriptions,
``--error`` attaches the last error; all of it passes through the one
redaction step (:func:`redacted`) before it is sent. The history keeps what the
person wrote and names what was attached. With ``--code`` the reply's code
blocks become the next cell.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError

from copilot_magic.config import Settings
from copilot_magic.errors import NoCode, NoLastError
from copilot_magic.kernel.attachments import Attachment, with_context
from copilot_magic.kernel.references import error_attachment, expand
from copilot_magic.sessions.ids import validate_session_id
from copilot_magic.sessions.store import SessionStore
from copilot_magic.ui.arguments import NO_ACTIVE_SESSION
from copilot_magic.ui.conversation import converse
from copilot_magic.ui.kernel_view import ShellKernel
from copilot_magic.ui.rerun import (
    SEND,
    EditedEarlierCell,
    edited_turn,
    plan_for,
    remember,
    replace_last,
    replay,
)
from copilot_magic.values import mask_secrets
from copilot_magic.views.code import code_of_reply

NO_LAST_ERROR = "No cell has failed in this kernel yet, so --error has nothing to attach."
NO_CODE = "The reply has no code block, so no cell was added."


@dataclass(frozen=True)
class Prompt:
    """What is sent (with context), and what the history shows (``None``: the same)."""

    sent: str
    shown: str | None


def redacted(attachment: Attachment, secrets: list[str]) -> Attachment:
    """The one redaction step for context: keys and tokens become asterisks."""
    return Attachment(
        attachment.name,
        mask_secrets(attachment.summary, secrets),
        mask_secrets(attachment.text, secrets),
    )


def prompt_of(cell: str, kernel: ShellKernel, settings: Settings, *, error: bool) -> Prompt:
    """The prompt of a cell, with the context its references and ``--error`` attach."""
    expanded = expand(
        cell, kernel.shell.user_ns, kernel.inputs(), kernel.outputs(), settings.context_limit
    )
    attachments = list(expanded.attachments)
    if error:
        last = kernel.last_error()
        if last is None:
            raise NoLastError(NO_LAST_ERROR)
        attachments.append(error_attachment(last, settings.context_limit, kernel.traceback_of))
    if not attachments:
        return Prompt(expanded.text, None if expanded.text == cell else expanded.text)
    secrets = settings.secrets()
    sent = with_context(expanded.text, [redacted(a, secrets) for a in attachments])
    return Prompt(sent, expanded.text)


def ask(
    store: SessionStore,
    shell: Any,
    kernel: ShellKernel,
    session_id: str,
    cell: str,
    *,
    rich: bool,
    error: bool = False,
    code: bool = False,
    rerun: Rerun | None = None,
) -> None:
    """One ``%%copilot`` cell: send it with its context, stream the reply, and with ``code``
    put the reply's code into the next cell. ``rerun`` applies the rule of
    :mod:`~copilot_magic.ui.rerun` to a cell that ran before."""
    rerun = rerun or Rerun()
    if rerun.fork:
        session_id = _forked(store, session_id, rerun)
        plan = SEND
    else:
        try:
            plan = plan_for(
                store, session_id, rerun.cell_id, cell, again=rerun.again, ran_here=rerun.ran_here
            )
        except EditedEarlierCell as edited:  # the cell keeps showing what it had, then why
            if edited.stored is not None:
                replay(store, session_id, edited.stored, rich=rich)
            raise
    if plan.replay is not None:
        replay(store, session_id, plan.replay, rich=rich)
        if code:
            next_cell(shell, code_of_reply(plan.replay.reply))
        return
    prompt = prompt_of(cell, kernel, store.settings, error=error)
    if plan.replaced:
        replace_last(store, session_id)
        print(f"Asked again: this cell's earlier reply (turn {plan.replaced}) is replaced.")
    answer = converse(store, session_id, prompt.sent, shown=prompt.shown, rich=rich, kernel=kernel)
    remember(store, rerun.cell_id, session_id, answer.turn, cell)
    if code and answer.complete:
        next_cell(shell, code_of_reply(answer.text))


@dataclass(frozen=True)
class Rerun:
    """What a cell knows of its earlier runs: its id, the person's ``--again``/``--fork``,
    and whether it ran in this kernel before."""

    cell_id: str | None = None
    again: bool = False
    fork: str | None = None
    activate: Callable[[str], None] = lambda session_id: None
    ran_here: bool = False  # the cell asked or replayed in this kernel before


def _forked(store: SessionStore, session_id: str, rerun: Rerun) -> str:
    """``--fork NEW``: a new session with the turns before the one this cell asked (all of
    them for a cell that asked none), made active."""
    assert rerun.fork is not None
    asked = edited_turn(store, session_id, rerun.cell_id)
    at = None if asked is None else asked - 1
    if at == 0:
        store.open(validate_session_id(rerun.fork), new=True)
    else:
        store.fork(validate_session_id(rerun.fork), session_id, at)
    rerun.activate(rerun.fork)
    kept = "all its turns" if at is None else "its turn 1" if at == 1 else f"its turns 1 to {at}"
    print(f"Forked {session_id} into {rerun.fork} ({kept}); {rerun.fork} is active now.")
    return rerun.fork


def next_cell(shell: Any, code: str) -> None:
    """Put ``code`` into a new cell below (the frontend's ``set_next_input``)."""
    if not code:
        print(NO_CODE)
        return
    shell.set_next_input(code, replace=False)


def pull_code(store: SessionStore, shell: Any, session_id: str | None, which: str) -> None:
    """``%copilot_code [TURN]``: the code of a reply of ``session_id`` into the next cell."""
    if not session_id:
        raise UsageError(NO_ACTIVE_SESSION)
    if which and not which.isdigit():
        raise UsageError(f"%copilot_code takes a turn number, not {which!r}.")
    turns = store.history(session_id)
    if which:
        chosen = [t for t in turns if t.index == int(which)]
        if not chosen:
            raise UsageError(f"Session {session_id!r} has no turn {which}: it has {len(turns)}.")
    else:
        chosen = [t for t in reversed(turns) if code_of_reply(t.reply)][:1]
        if not chosen:
            raise NoCode(f"No reply of session {session_id!r} has a Python code block.")
    code = code_of_reply(chosen[0].reply)
    if not code:
        raise NoCode(f"The reply of turn {chosen[0].index} has no Python code block.")
    next_cell(shell, code)
    print(f"The code of turn {chosen[0].index} is in the next cell.")
