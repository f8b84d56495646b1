"""The plain values the sessions domain hands out: list lines, what an open did, clean-up plans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from copilot_magic.values import plural

TITLE_WIDTH = 60  # a title in a text table
NAME_LIMIT = 100  # the runtime refuses longer session names (ids may have 250 characters)
OUR_CLIENT = "copilot_magic"  # the client name the runtime records for sessions made here
SDK_CLIENT = "sdk"  # what it records for an SDK program that gives no name (older copilot_magic)


def one_line_title(text: str, width: int = TITLE_WIDTH) -> str:
    """``text`` on one line, cut after a word to at most ``width`` characters, with "…".

    For showing a title where room is short; a title is stored with :func:`stored_title`.
    """
    line = " ".join(text.split())
    return line if len(line) <= width else _cut_after_word(line, width - 1) + "…"


def stored_title(text: str) -> str:
    """The title kept for ``text`` (a first prompt, a fork's name): one line, and whole.

    Only a text longer than the runtime accepts as a name (:data:`NAME_LIMIT`
    characters) is cut, after a word and without "…": a view marks its own cuts,
    and a stored mark would end up in the title the next rename starts from.
    """
    line = " ".join(text.split())
    return line if len(line) <= NAME_LIMIT else _cut_after_word(line, NAME_LIMIT)


def _cut_after_word(line: str, width: int) -> str:
    """At most ``width`` characters of ``line``, ending after a word when one ends late enough."""
    space = line.rfind(" ", 0, width + 1)
    return line[:space] if space > width // 2 else line[:width]


def in_utc(moment: datetime | None) -> datetime | None:
    """A runtime time in the standard library's UTC (the SDK's time zone objects are slow
    to compare, and a list of a thousand sessions compares and sorts them a lot)."""
    return moment.astimezone(UTC) if moment is not None else None


@dataclass(frozen=True)
class Usage:
    """Tokens in and out and model requests of a session, from the runtime's usage records."""

    input_tokens: int
    output_tokens: int
    requests: int
    models: tuple[str, ...]  # in order of first use

    def line(self) -> str:
        """``1,204 in · 310 out · 3 requests (gpt-4.1)``."""
        requests = plural(self.requests, "request")
        models = f" ({', '.join(self.models)})" if self.models else ""
        return f"{self.input_tokens:,} in · {self.output_tokens:,} out · {requests}{models}"


@dataclass(frozen=True)
class SessionSummary:
    """One line of the session list."""

    session_id: str
    title: str
    created: datetime | None
    last_active: datetime | None
    turns: int
    abstentions: int = 0
    held_elsewhere: bool = False  # open in another kernel or process right now
    active: bool = False  # this notebook's active session (set by the caller)
    damage: str = ""  # why the history file is not sound, if it is not
    starred: bool = False
    usage: Usage | None = None  # None: the runtime recorded no model request yet
    client: str = ""  # the program that made it, as the runtime recorded it ("": not recorded)

    def names(self, text: str) -> bool:
        """Whether the id or the title contains ``text``, ignoring case."""
        needle = text.casefold()
        return needle in self.session_id.casefold() or needle in self.title.casefold()

    def made_by(self, client: str) -> bool:
        """Whether the recorded client contains ``client``, ignoring case (``--client``)."""
        return client.casefold() in self.client.casefold()

    @property
    def made_elsewhere(self) -> str:
        """The client that made the session when it is another one that names itself, else
        ``""`` (also for ``sdk``: any SDK program, copilot_magic before it gave its name)."""
        return "" if self.client in ("", OUR_CLIENT, SDK_CLIENT) else self.client


@dataclass(frozen=True)
class Opened:
    """What opening a session did."""

    session_id: str
    created: bool
    turns: int
    last_active: datetime | None
    damage: str = ""  # the history has unreadable lines, which the runtime skipped
    waited: float = 0.0  # seconds a takeover waited for the other holder's reply to end


@dataclass(frozen=True)
class CleanupPlan:
    """Sessions a clean-up would delete, and those it leaves alone with the reason."""

    older_than_days: int
    doomed: tuple[SessionSummary, ...]
    spared: tuple[tuple[str, str], ...]  # (session id, reason)

    @property
    def turns(self) -> int:
        return sum(s.turns for s in self.doomed)
