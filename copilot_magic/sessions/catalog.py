"""What the session browser needs from the world, and its real implementation.

:class:`SessionCatalog` is the small interface the panel is written against
(list, search, history, delete, clean up, activate, and the controls: rename,
fork, rewind, star), so the panel can be
tested on an in-memory catalog as well as on the real runtime.
:class:`StoreCatalog` implements it over a :class:`~copilot_magic.sessions.store.SessionStore`
and, in a notebook, the magics' notion of the active session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Protocol

from copilot_magic.kernel.notebook import AppliedChange
from copilot_magic.kernel.notebook_revert import Changes
from copilot_magic.sessions.controls import Rewound
from copilot_magic.sessions.models import CleanupPlan, Opened, SessionSummary
from copilot_magic.sessions.store import SessionStore
from copilot_magic.sessions.transcript import Turn


class SessionCatalog(Protocol):
    """The operations the session browser performs."""

    @property
    def abstain_signal(self) -> str: ...

    def sessions(self) -> list[SessionSummary]:
        """Every session, most recently active first, with ``active`` set."""
        ...

    def begin_sessions(self) -> Callable[[], list[SessionSummary]]:
        """Start listing and return at once; calling the result returns :meth:`sessions`."""
        ...

    def search(self, text: str, session_ids: Iterable[str]) -> set[str]:
        """Ids among ``session_ids`` whose conversation contains ``text``."""
        ...

    def history(self, session_id: str) -> list[Turn]: ...

    def delete(self, session_id: str) -> None: ...

    def plan_cleanup(self, older_than_days: int) -> CleanupPlan:
        """Sessions idle for more than that many days; the active one, starred ones, ones
        held elsewhere and ones used in the last hour are kept, with the reason."""
        ...

    def cleanup(self, plan: CleanupPlan) -> list[str]: ...

    def activate(self, session_id: str) -> Opened:
        """Make the session the notebook's active one, resumed with its history."""
        ...

    def rename(self, session_id: str, title: str) -> str:
        """Give the session a title; returns it as stored (refused: blank, control
        characters, too long)."""
        ...

    def fork(self, handle: str, source: str, at: int | None = None) -> Opened:
        """A new session ``handle`` with ``source``'s turns (up to turn ``at``, 1-based).

        The notebook's active session stays what it was ("Use here" switches)."""
        ...

    def rewind(self, session_id: str, count: int) -> Rewound:
        """Remove the session's last ``count`` turns; says which prompts went."""
        ...

    def notebook_changes(self, session_id: str, after: int) -> list[tuple[int, AppliedChange]]:
        """The notebook changes of the session's turns after turn ``after``."""
        ...

    def offer_back(self, changes: Changes, announce: Callable[[], object]) -> list[str] | None:
        """Offer rewound notebook changes back on their cells (``announce`` first), and say
        what became of each; ``None`` where no notebook frontend answers."""
        ...

    def star(self, session_id: str, on: bool = True) -> None:
        """Star the session (listed first, kept by clean-ups), or take the star away."""
        ...


class StoreCatalog:
    """A :class:`SessionCatalog` over a real :class:`SessionStore`.

    ``get_active`` and ``set_active`` read and change the active session (the
    magics pass their own); without them the catalog keeps its own. ``offer_back``
    reaches the notebook frontend (the magics pass theirs; without it, none answers).
    """

    def __init__(
        self,
        store: SessionStore,
        get_active: Callable[[], str | None] | None = None,
        set_active: Callable[[str | None], None] | None = None,
        offer_back: Callable[[Changes, Callable[[], object]], list[str] | None] | None = None,
    ) -> None:
        self.store = store
        self._offer_back = offer_back
        self._own_active: str | None = None
        self._get_active = get_active or (lambda: self._own_active)
        self._set_active = set_active or self._remember_active

    def _remember_active(self, session_id: str | None) -> None:
        self._own_active = session_id

    @property
    def abstain_signal(self) -> str:
        return self.store.settings.abstain_signal

    def sessions(self) -> list[SessionSummary]:
        return self.begin_sessions()()

    def begin_sessions(self) -> Callable[[], list[SessionSummary]]:
        finish = self.store.begin_summaries()
        return lambda: self._mark_active(finish())

    def _mark_active(self, summaries: list[SessionSummary]) -> list[SessionSummary]:
        active = self._get_active()
        return [replace(s, active=True) if s.session_id == active else s for s in summaries]

    def search(self, text: str, session_ids: Iterable[str]) -> set[str]:
        return self.store.search(text, session_ids)

    def history(self, session_id: str) -> list[Turn]:
        return self.store.history(session_id)

    def delete(self, session_id: str) -> None:
        self.store.delete(session_id)
        if session_id == self._get_active():
            self._set_active(None)

    def plan_cleanup(self, older_than_days: int) -> CleanupPlan:
        active = self._get_active()
        return self.store.plan_cleanup(older_than_days, protect=[active] if active else [])

    def cleanup(self, plan: CleanupPlan) -> list[str]:
        deleted = self.store.cleanup(plan)
        if self._get_active() in deleted:
            self._set_active(None)
        return deleted

    def activate(self, session_id: str) -> Opened:
        opened = self.store.open(session_id, must_exist=True)  # never creates one
        self._set_active(session_id)
        return opened

    def rename(self, session_id: str, title: str) -> str:
        return self.store.rename(session_id, title)

    def fork(self, handle: str, source: str, at: int | None = None) -> Opened:
        opened = self.store.fork(handle, source, at)
        self.store.let_go(handle)  # not the active session: this kernel does not hold it
        return opened

    def rewind(self, session_id: str, count: int) -> Rewound:
        return self.store.rewind(session_id, count)  # the active one is resumed at its next turn

    def notebook_changes(self, session_id: str, after: int) -> list[tuple[int, AppliedChange]]:
        return self.store.notebook_changes(session_id, after)

    def offer_back(self, changes: Changes, announce: Callable[[], object]) -> list[str] | None:
        return None if self._offer_back is None else self._offer_back(changes, announce)

    def star(self, session_id: str, on: bool = True) -> None:
        self.store.star(session_id, on)
