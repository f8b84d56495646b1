"""One ``%%copilot`` turn on screen: send the prompt, stream the reply, end it cleanly.

The turn is the store's context manager, and the live display is built inside
it, so whatever fails (the model, the runtime, the display itself, an
interrupt) the turn ends and the session takes the next prompt. Tool calls
arrive in the same stream and are answered here, on the kernel's main thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from copilot_magic.errors import TurnFailed, TurnInterrupted
from copilot_magic.kernel.notebook import AppliedChange
from copilot_magic.kernel.tool import Kernel, answer
from copilot_magic.kernel.tools import by_name, offered
from copilot_magic.output_metadata import Stage
from copilot_magic.sessions.inbox import ToolCall
from copilot_magic.sessions.store import SessionStore
from copilot_magic.sessions.turn import Delta, Notice
from copilot_magic.ui.advice import worded
from copilot_magic.ui.kernel_view import ShellKernel
from copilot_magic.ui.live_reply import LiveReply

NOT_KEPT = (
    "⚠ A change was made, but could not be kept for a rewind (the data directory is not writable)."
)
NOT_OFFERED = "This tool is not offered in this session."
INTERRUPTED_TOOL = "interrupted: the person stopped the reply (and any code it was running)."


def converse(
    store: SessionStore,
    session_id: str,
    prompt: str,
    *,
    rich: bool,
    shown: str | None = None,
    kernel: ShellKernel | None = None,
) -> Answer:
    """Send ``prompt`` to the session, show the reply as it streams, and return it with
    its turn number.

    ``rich`` is true in a notebook (one display, updated in place); a terminal
    gets the text printed as it arrives. ``shown`` is the prompt as the history
    keeps it, when ``prompt`` carries attached context. ``kernel`` answers the
    model's tool calls (without one, each call is told the kernel is not available);
    what it shows in the cell (code to run, the question, the output) goes between the
    reply so far and the rest, which shows in a display of its own under it.

    An interrupt stops the reply calmly: the partial reply stays under one line that
    says so, and the cell ends without an error (the person asked for it). A failure
    raises its one-line error, so Run All stops there.
    """
    settings = store.settings
    notebook = kernel.notebook() if kernel is not None else None
    frontend = notebook is not None
    with store.turn(session_id, prompt, settings.reply_timeout, shown, frontend=frontend) as stream:
        view = LiveReply(
            session_id,
            stream.number,
            settings.abstain_signal,
            rich=rich,
            per_second=settings.updates_per_second,
        )
        view.start()
        if kernel is not None:
            kernel.reply = view
        if notebook is not None:  # what the person accepts is kept with the turn, to rewind
            number = stream.number

            def keep(made: AppliedChange) -> None:
                if not store.keep_notebook_change(session_id, number, made):
                    view.notice(NOT_KEPT)

            notebook.watch(keep)
        try:
            for update in stream:
                if isinstance(update, Delta):
                    view.stream(update.read)  # joined only if it is shown
                elif isinstance(update, Notice):
                    view.notice(worded(update.message, update.advice))
                elif kernel is not None:
                    _call_tool(update, kernel, view, store)
        except (KeyboardInterrupt, TurnInterrupted):
            stream.abort()
            view.finish(stream.text, Stage.INTERRUPTED)
            store.keep_partial(session_id, stream.number, stream.text)
            return Answer(stream.text, stream.number, complete=False)
        except TurnFailed:
            view.finish(stream.text, Stage.FAILED)  # the cell's error line gives the reason
            store.keep_partial(session_id, stream.number, stream.text)
            raise
        view.finish(stream.text, Stage.DONE)
        return Answer(stream.text, stream.number)


@dataclass(frozen=True)
class Answer:
    """A reply as the cell ended: its text, its turn, and whether it came whole."""

    text: str
    turn: int
    complete: bool = True


def _call_tool(call: ToolCall, kernel: Kernel, view: LiveReply, store: SessionStore) -> None:
    """Answer one tool call: show its line, run it, give the model its redacted result."""
    settings = store.settings
    tool = by_name(call.name)
    notebook = settings.notebook_tools_on and kernel.notebook() is not None
    tools = offered(settings.kernel_tools, settings.run_code, notebook)
    if tool is None or tool not in tools:
        call.answer(NOT_OFFERED)
        return
    if call.answered:  # the runtime dropped the call meanwhile: nothing to ask or run
        return
    try:
        result = answer(tool, kernel, call.arguments, settings.context_limit, settings.secrets())
    except BaseException:  # interrupted while asking the person: the model hears so
        call.answer(INTERRUPTED_TOOL)
        raise
    call.answer(result)
    view.step(tool.shown(call.arguments, result))
