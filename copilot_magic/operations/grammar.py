"""How an operation on stored sessions is declared, and the one rule for those that destroy.

An :class:`Operation` names its verb, its arguments in order, its options, what it
does (a line, and a paragraph), and whether it destroys. From that one declaration
come the magic's option (``%copilot_session --rewind [ID] N``), the command line's
verb (``copilot-magic rewind ID N``), the help of both and the README's reference.

An argument that names a session may be left out in a notebook, where it means the
active session; on the command line every argument is given.

An operation that destroys says first what would go (its preview), then asks, in the
notebook through the kernel's standard input (JupyterLab shows a box), in a terminal
on the terminal. ``--yes`` skips the question, ``--dry-run`` stops after the preview,
and where nobody can answer, nothing is done and one line says to add ``--yes``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from copilot_magic.errors import PersonsMistake

if TYPE_CHECKING:
    from copilot_magic.kernel.notebook_revert import Changes
    from copilot_magic.sessions.models import Opened
    from copilot_magic.sessions.store import SessionStore
    from copilot_magic.views.results import SessionTable, Transcript

Request = Mapping[str, Any]  # the arguments and options by name (``dry_run``), and ``active``


class NotConfirmed(PersonsMistake):
    """A destructive operation nobody could confirm: no ``--yes``, and nobody to ask."""


class NobodyToAsk(Exception):
    """Raised by a front end's question when no person can answer it; says why."""


@dataclass(frozen=True)
class Argument:
    """One positional argument: ``name`` in the request, ``metavar`` in the help."""

    name: str
    metavar: str
    help: str
    parse: Callable[[str], Any] = str  # the text to its value; ValueError says what is wrong
    active_default: bool = False  # a session: left out in a notebook, the active session


@dataclass(frozen=True)
class Option:
    """One option: a switch when ``metavar`` is empty, else it takes a value."""

    flag: str
    help: str
    metavar: str = ""
    parse: Callable[[str], Any] = str
    command_line_only: bool = False  # a script's need (``--json``): not in the magic

    @property
    def name(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class Outcome:
    """What an operation did: lines to show, and what the front ends act on."""

    lines: tuple[str, ...] = ()
    shown: SessionTable | Transcript | None = None  # a value the notebook displays
    opened: Opened | None = None  # a session made (fork)
    deleted: tuple[str, ...] = ()
    changes: Changes = ()  # notebook changes the removed turns had made (rewind)
    declined: bool = False  # asked, and the answer was no


@dataclass(frozen=True)
class Preview:
    """What a destructive operation would do: ``lines``, then ``question`` (``None``:
    there is nothing to do). ``plan`` goes to the run, which does exactly that."""

    lines: tuple[str, ...]
    question: str | None
    plan: Any = None
    changes: Changes = ()  # notebook changes of what would go (rewind)


Run = Callable[["SessionStore", Request, Any], Outcome]  # store, request, the preview's plan


@dataclass(frozen=True)
class Operation:
    """One operation on stored sessions, as all front ends offer it."""

    name: str
    summary: str  # one line: the option's and the verb's help
    details: str  # the --help text and the README's description
    run: Run
    arguments: tuple[Argument, ...] = ()
    options: tuple[Option, ...] = ()
    preview: Callable[[SessionStore, Request], Preview] | None = None  # it destroys
    nothing_done: str = "Nothing deleted"  # said when it stops before acting
    aliases: tuple[str, ...] = ()
    plans: bool = False  # its run does what the preview planned: previewed even with --yes

    @property
    def destroys(self) -> bool:
        return self.preview is not None

    def all_options(self) -> tuple[Option, ...]:
        return self.options + (DESTROYING_OPTIONS if self.destroys else ())

    def magic_form(self) -> str:
        """``--rewind [ID] N [--yes] [--dry-run]``."""
        words = [f"--{self.name}", *self.magic_metavars()]
        words += [_option_form(o) for o in self.all_options() if not o.command_line_only]
        return " ".join(words)

    def magic_metavars(self) -> list[str]:
        return [f"[{a.metavar}]" if a.active_default else a.metavar for a in self.arguments]

    def command_form(self) -> str:
        """``rewind ID N [--yes] [--dry-run]``."""
        words = [self.name, *(a.metavar for a in self.arguments)]
        words += [_option_form(o) for o in self.all_options()]
        return " ".join(words)

    def request(self, values: list[str], active: str | None, options: Request) -> dict[str, Any]:
        """The request from the typed values and options, each parsed as declared; in a
        notebook a session argument left out is ``active`` (on the command line, ``None``)."""
        arguments = self.arguments
        if len(values) < len(arguments):
            optional = [a for a in arguments if a.active_default]
            if len(values) + len(optional) < len(arguments) or len(optional) != 1:
                raise PersonsMistake(self._wrong_count(values))
            arguments = tuple(a for a in arguments if not a.active_default)
        elif len(values) > len(arguments):
            raise PersonsMistake(self._wrong_count(values))
        request: dict[str, Any] = {"active": active}
        for option in self.all_options():
            given = options.get(option.name)
            if option.metavar and isinstance(given, str):
                given = parsed(option.parse, given, option.flag)
            request[option.name] = given
        for argument in self.arguments:
            if argument not in arguments:
                request[argument.name] = active
        for argument, text in zip(arguments, values, strict=True):
            request[argument.name] = parsed(argument.parse, text, argument.metavar)
        return request

    def _wrong_count(self, values: list[str]) -> str:
        takes = " ".join(self.magic_metavars()) or "nothing"
        given = " ".join(values) if values else "none"
        return f"--{self.name} takes {takes}; it was given {len(values)}: {given}."


def parsed(parse: Callable[[str], Any], text: str, metavar: str) -> Any:
    """``parse(text)``; a ValueError becomes the person's mistake, naming ``metavar``."""
    try:
        return parse(text)
    except PersonsMistake:
        raise
    except ValueError as error:
        raise PersonsMistake(f"{metavar}: {error}") from None


def _option_form(option: Option) -> str:
    return f"[{option.flag}{' ' + option.metavar if option.metavar else ''}]"


DESTROYING_OPTIONS = (
    Option("--yes", "do it without asking (needed where nobody can answer: a script, nbconvert)"),
    Option("--dry-run", "only show what would go; change nothing"),
)
NOT_CONFIRMED = "Not confirmed: {nothing}."


def answered_yes(answer: str) -> bool:
    """Whether a typed answer to a [y/N] question is yes."""
    return answer.strip().lower() in ("y", "yes")


def either(words: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def perform(
    operation: Operation,
    store: SessionStore,
    request: Request,
    say: Callable[[str], None],
    ask: Callable[[str], bool],
    *,
    before_asking: Callable[[Preview], None] | None = None,
) -> Outcome:
    """Do ``operation``; one that destroys previews, then asks (see the module's docstring).

    ``say`` shows a line at once (the preview, before the question); ``ask`` puts a
    yes/no question to the person, or raises :class:`NobodyToAsk`; ``before_asking``
    adds what only that front end says (the command line: notebook changes stay).
    """
    dry_run, yes = bool(request.get("dry_run")), bool(request.get("yes"))
    if operation.preview is None or (yes and not dry_run and not operation.plans):
        return operation.run(store, request, None)
    preview = operation.preview(store, request)
    for line in preview.lines:
        say(line)
    if preview.question is None:
        return Outcome()
    if dry_run:
        return Outcome((f"Dry run: {operation.nothing_done.lower()}.",))
    if not yes:
        if before_asking is not None:
            before_asking(preview)
        try:
            confirmed = ask(preview.question)
        except NobodyToAsk as why:
            raise NotConfirmed(
                f"{operation.nothing_done}: {why}, so nobody can confirm; add --yes to go "
                "ahead without asking, or --dry-run to see what would go."
            ) from None
        if not confirmed:
            return Outcome(
                (NOT_CONFIRMED.format(nothing=operation.nothing_done.lower()),), declined=True
            )
    return operation.run(store, request, preview.plan)
