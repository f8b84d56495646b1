"""The verbs that change a session between turns, and those that report on it.

rename, fork, rewind, star, unstar and compact change a stored session; usage
and models report. Each is a function whose docstring is its ``--help`` text,
as in :mod:`~copilot_magic.cli.verbs`; ``%copilot_session`` has the same
controls (``--rename``, ``--fork``, ``--rewind``...).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from copilot_magic.cli.console import EXIT_OK, Console, NotConfirmed, Verb, confirm
from copilot_magic.errors import InvalidArgument
from copilot_magic.kernel.notebook_revert import summary
from copilot_magic.sessions.ids import validate_session_id
from copilot_magic.views.text import clipped, compaction_words, plural, usage_words

if TYPE_CHECKING:
    from copilot_magic.sessions.store import SessionStore

CHANGES_STAY = (
    "Those changes stay in the notebook: the command line cannot reach it "
    "(%copilot_session --rewind in one of its cells would offer them back)."
)
NO_TERMINAL_REWIND = "Not rewinding without confirmation: stdin is not a terminal; pass --yes."


def rename(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Give a session a title, shown by list, the panel and other Copilot tools.

    The title is one line of 1 to 100 characters, without control characters.
    It is kept as plain text: markup in it is shown as written, never rendered.
    """
    session_id = validate_session_id(args.session_id)
    title = store.rename(session_id, args.title)
    out.say(f"Renamed session {session_id}: {title}")
    return EXIT_OK


def fork(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Start session NEW from a copy of session SRC's conversation.

    NEW holds SRC's turns (with --at TURN only turns 1 to TURN), so its next
    prompt goes on from there; the model sees those turns. SRC is only read,
    never changed. NEW must be an id that no session has yet.
    """
    new, source = validate_session_id(args.new_id), validate_session_id(args.source_id)
    opened = store.fork(new, source, args.at)
    out.say(f"Forked {source} into {new} ({plural(opened.turns, 'turn')}).")
    return EXIT_OK


def rewind(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Remove the last N turns of a session, for good.

    They go from its history, from what the model sees on the next turn and
    from every file under the data directory; the turns before them stay.
    Asks first on a terminal; without a terminal (a script), pass --yes.
    """
    session_id = validate_session_id(args.session_id)
    count: int = args.count
    if count < 1:
        raise InvalidArgument("rewind takes a number of turns, 1 or more.")
    if not args.yes:
        if sys.stdin is None or not sys.stdin.isatty():
            raise NotConfirmed(NO_TERMINAL_REWIND)
        turns = store.history(session_id)  # no question about a session that does not exist
        if count > len(turns):
            raise InvalidArgument(
                f"Session {session_id!r} has {plural(len(turns), 'turn')}; cannot rewind {count}."
            )
        quoted = ", ".join(f"“{clipped(turn.prompt)}”" for turn in turns[-count:])
        changes = store.notebook_changes(session_id, len(turns) - count)
        if changes:
            out.say(f"{summary(changes)} {CHANGES_STAY}")
        confirm(f"Remove the last {plural(count, 'turn')} of {session_id} ({quoted})? [y/N] ")
    rewound = store.rewind(session_id, count)
    quoted = ", ".join(f"“{clipped(prompt)}”" for prompt in rewound.prompts)
    out.say(
        f"Rewound {session_id} by {plural(len(rewound.prompts), 'turn')}: removed {quoted} "
        f"from its history and from disk; {plural(rewound.turns_left, 'turn')} left."
    )
    if rewound.changes and args.yes:  # asked: the question said so already
        out.say(f"{summary(rewound.changes)} {CHANGES_STAY}")
    return EXIT_OK


def star(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Star a session: it is listed first, and clean-ups never delete it.

    The star stays until unstar; delete still deletes a starred session.
    """
    session_id = validate_session_id(args.session_id)
    store.star(session_id)
    out.say(f"Starred {session_id}: listed first, and clean-ups keep it.")
    return EXIT_OK


def unstar(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Take a session's star away: clean-ups may delete it again."""
    session_id = validate_session_id(args.session_id)
    store.star(session_id, on=False)
    out.say(f"Unstarred {session_id}: clean-ups may delete it again.")
    return EXIT_OK


def usage(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Print what a session used: tokens in and out, model requests, and the models.

    The sums of the usage the runtime recorded for each model request of the
    session; "—" when it made none yet. Works from the files alone when the
    runtime cannot start.
    """
    session_id = validate_session_id(args.session_id)
    out.say(f"{session_id}: {usage_words(store.usage(session_id))}")
    return EXIT_OK


def models(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """List the models you can use, one per line; "*" marks the configured one.

    With a model provider (COPILOT_MAGIC_PROVIDER_URL) they are the models its
    GET /models lists; otherwise those your GitHub Copilot sign-in offers.
    COPILOT_MAGIC_MODEL sets the model new sessions use.
    """
    configured = store.settings.model
    names = store.models()
    for name in names:
        out.say(f"{'*' if name == configured else ' '} {name}")
    if not names:
        out.say("No models listed.")
    if configured and configured not in names:
        out.say(f"(the configured model {configured!r} is not in this list)")
    return EXIT_OK


def compact(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Summarise a session's earlier conversation, to free the model's context.

    From the next turn on the model sees a summary in place of the older
    messages; the history (show, export) keeps every turn. Says how many
    messages the summary replaced, the tokens that freed when there are any,
    and what the model sees now.
    """
    session_id = validate_session_id(args.session_id)
    out.say(compaction_words(session_id, store.compact(session_id)))
    return EXIT_OK


def _turn_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def add_control_verbs(add: Callable[[str, Verb], argparse.ArgumentParser]) -> None:
    """Add the verbs of this module to the parser through ``add(name, verb)``."""
    naming = add("rename", rename)
    naming.add_argument("session_id", metavar="ID", help="the session to rename")
    naming.add_argument("title", metavar="TITLE", help="its new title (quote it)")
    forking = add("fork", fork)
    forking.add_argument("new_id", metavar="NEW", help="the id of the new session")
    forking.add_argument("source_id", metavar="SRC", help="the session to copy")
    forking.add_argument(
        "--at", metavar="TURN", type=_turn_number, help="keep turns 1 to TURN only (default: all)"
    )
    rewinding = add("rewind", rewind)
    rewinding.add_argument("session_id", metavar="ID", help="the session to rewind")
    rewinding.add_argument(
        "count", metavar="N", type=_turn_number, help="how many of its last turns to remove"
    )
    rewinding.add_argument("--yes", action="store_true", help="remove them without asking")
    for name, verb, what in (
        ("star", star, "the session to star"),
        ("unstar", unstar, "the session to unstar"),
        ("usage", usage, "the session to report on"),
        ("compact", compact, "the session to compact"),
    ):
        add(name, verb).add_argument("session_id", metavar="ID", help=what)
    add("models", models)
