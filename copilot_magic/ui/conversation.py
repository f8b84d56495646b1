"""One ``%%copilot`` turn on screen: send the prompt, stream the reply, end it cleanly.

The turn is the store's context manager, and the live display is built inside
it, so whatever fails (the model, the runtime, the display itself, an
interrupt) the turn ends and the session takes the next prompt.
"""

from __future__ import annotations

from copilot_magic.errors import TurnFailed, TurnInterrupted
from copilot_magic.output_metadata import Stage
from copilot_magic.sessions.store import SessionStore
from copilot_magic.sessions.turn import Delta
from copilot_magic.ui.live_reply import LiveReply
from copilot_magic.values import mask_secrets

INTERRUPTED = "Interrupted: the reply was stopped; the session is ready for the next cell."


def converse(store: SessionStore, session_id: str, prompt: str, *, rich: bool) -> None:
    """Send ``prompt`` to the session and show the reply as it streams.

    ``rich`` is true in a notebook (one display, updated in place); a terminal
    gets the text printed as it arrives.
    """
    settings = store.settings
    with store.turn(session_id, prompt, settings.reply_timeout) as stream:
        view = LiveReply(
            session_id,
            stream.number,
            settings.abstain_signal,
            rich=rich,
            per_second=settings.updates_per_second,
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
            raise TurnInterrupted(INTERRUPTED) from None
        except TurnInterrupted:
            view.finish(stream.text, Stage.INTERRUPTED)
            raise
        except TurnFailed as error:
            view.finish(stream.text, Stage.FAILED, mask_secrets(str(error), settings.secrets()))
            raise
        view.finish(stream.text, Stage.DONE)
