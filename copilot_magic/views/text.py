"""Sessions and transcripts as plain text, for ``--list``, ``--history`` and the command line."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from copilot_magic.sessions.models import NAME_LIMIT, TITLE_WIDTH, one_line_title
from copilot_magic.sessions.transcript import Turn, strip_signal
from copilot_magic.values import cut_line
from copilot_magic.values import plural as plural  # noqa: PLC0414 - imported from here too

if TYPE_CHECKING:
    from copilot_magic.runtime.sdk import Compacted
    from copilot_magic.sessions.models import CleanupPlan, SessionSummary, Usage

STAR = "★"
NO_USAGE = "— (no model request yet)"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters but newline and tab as escapes (\\x1b)."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def clipped(text: str, width: int = 40) -> str:
    """``text`` on one line, cut to ``width`` characters with "…" (a prompt in a message)."""
    return cut_line(" ".join(printable(text).split()), width)


def when(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M", missing: str = "never") -> str:
    """A local time as ``2026-11-24 17:03`` (or ``pattern``), or ``missing``."""
    return moment.astimezone().strftime(pattern) if moment else missing


def title_or_damage(summary: SessionSummary, width: int = NAME_LIMIT) -> str:
    """The title (cut to ``width``), or for a damaged session the warning and why."""
    if summary.damage:
        return f"⚠ damaged: {summary.damage}"
    return one_line_title(summary.title, width)


def damage_warning(session_id: str, damage: str) -> str:
    """The line shown above a damaged session's transcript."""
    return f"⚠ Session {session_id} is damaged: {damage}; what could not be read is left out."


def titled(summary: SessionSummary, width: int = NAME_LIMIT) -> str:
    """The title (cut to ``width``) or the damage, after a star for a starred session and
    the client that made it for one made in another (``[Jupyter AI] hello``)."""
    made = f"[{summary.made_elsewhere}] " if summary.made_elsewhere else ""
    title = (made + title_or_damage(summary, width - len(made))).rstrip()
    return f"{STAR} {title}" if summary.starred else title


def usage_words(usage: Usage | None) -> str:
    """``1,204 in · 310 out · 3 requests (echo)``, or a dash when no model request was made."""
    return usage.line() if usage else NO_USAGE


def tokens_cell(usage: Usage | None) -> str:
    """Tokens in and out for the list, ``1,204/310``; ``-`` without a model request."""
    return f"{usage.input_tokens:,}/{usage.output_tokens:,}" if usage else "-"


def format_session_table(sessions: list[SessionSummary]) -> str:
    """The ``--list`` table: id, title (starred ones after a ★), last active, tokens, turns."""
    if not sessions:
        return "No sessions stored yet."
    rows = [("ID", "TITLE", "LAST ACTIVE", "TOKENS IN/OUT", "TURNS")] + [
        (
            s.session_id,
            printable(titled(s, TITLE_WIDTH)),
            when(s.last_active),
            tokens_cell(s.usage),
            str(s.turns),
        )
        for s in sessions
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join(
        "  ".join(
            [
                *(c.ljust(w) for c, w in zip(row[:3], widths, strict=False)),
                *(c.rjust(w) for c, w in zip(row[3:], widths[3:], strict=True)),
            ]
        ).rstrip()
        for row in rows
    )


def format_history(session_id: str, turns: list[Turn], abstain_signal: str) -> str:
    """The ``--history`` transcript: each turn's prompt and reply with their times."""
    if not turns:
        return f"Session {session_id} has no turns yet."
    lines = [f"Session {session_id}: {plural(len(turns), 'turn')}"]
    for turn in turns:
        lines.append(f"\n[{turn.index}] You, {when(turn.asked_at)}:\n{printable(turn.prompt)}")
        if turn.attached:
            lines.append(f"({printable(turn.attached_words)})")
        lines += [printable(step) for step in turn.steps]
        marker = " 🛑 Copilot abstained" if turn.abstained else ""
        if turn.partial and not turn.reply:
            ended = "interrupted" if turn.aborted else "failed"
            at = when(turn.answered_at or turn.asked_at)
            shown = f"({ended} at {at}; what the cell showed:)\n{printable(turn.partial)}"
            lines.append(f"[{turn.index}] Copilot: {shown}")
        elif turn.aborted and not turn.reply:
            at = f" at {when(turn.answered_at)}" if turn.answered_at else ""
            lines.append(f"[{turn.index}] Copilot: (interrupted{at}, no reply)")
        elif turn.error and not turn.reply:
            lines.append(f"[{turn.index}] Copilot: (failed: {printable(turn.error)})")
        else:
            reply = printable(strip_signal(turn.reply, abstain_signal))
            lines.append(f"[{turn.index}] Copilot, {when(turn.answered_at)}:{marker}\n{reply}")
    return "\n".join(lines)


def cleanup_headline(plan: CleanupPlan) -> str:
    """The first sentence of a clean-up plan: how many sessions would go, with their turns;
    it ends with ":" when the sessions follow, with "." when there are none."""
    idle = f"idle for more than {plural(plan.older_than_days, 'day')}"
    return (
        f"{plural(len(plan.doomed), 'session')} {idle} would be deleted "
        f"({plural(plan.turns, 'turn')}){':' if plan.doomed else '.'}"
    )


def cleanup_plan_lines(plan: CleanupPlan) -> list[str]:
    """A clean-up plan as lines: what would go (with its turns), what stays and why."""
    lines = [cleanup_headline(plan)]
    lines += [
        f"  {s.session_id}  {plural(s.turns, 'turn')}, last active {when(s.last_active)}  {s.title}"
        for s in plan.doomed
    ]
    if plan.spared:
        lines.append("Kept:")
        lines += [f"  {session_id} ({reason})" for session_id, reason in plan.spared]
    return lines


def compaction_words(session_id: str, compacted: Compacted) -> str:
    """What a compaction did, in one line (``--compact`` and ``copilot-magic compact``).

    Only what the runtime reported: the messages the summary replaced, the tokens
    that freed when there are any (a short conversation's summary often frees none,
    and "0 tokens saved" reads as a fault), and what the model sees from now on.
    """
    if not compacted.done:
        return f"The runtime did not compact {session_id}: there was nothing new to summarise."
    said = f"Compacted {session_id}: {plural(compacted.messages_removed, 'message')} summarised"
    if compacted.tokens_removed > 0:
        said += f" ({compacted.tokens_removed:,} tokens freed)"
    if compacted.messages_after is not None:
        said += f"; the model now sees {plural(compacted.messages_after, 'message')}"
        if compacted.tokens_after:
            said += f", {compacted.tokens_after:,} tokens"
            said += f" of {compacted.token_limit:,}" if compacted.token_limit else ""
    return f"{said}. The history keeps every turn."
