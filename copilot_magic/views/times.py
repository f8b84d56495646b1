"""When something happened, as a person reads it in a list: "3 min ago", "yesterday"."""

from __future__ import annotations

from datetime import datetime

MINUTE, HOUR, DAY = 60, 3600, 86400


def ago(moment: datetime | None, now: datetime) -> str:
    """How long before ``now`` ``moment`` was: "just now", "3 min ago", "5 h ago",
    "yesterday", "12 days ago", then the date; "never" for none."""
    if moment is None:
        return "never"
    seconds = (now - moment).total_seconds()
    if seconds < MINUTE:
        return "just now"
    if seconds < HOUR:
        return f"{int(seconds // MINUTE)} min ago"
    if seconds < DAY:
        return f"{int(seconds // HOUR)} h ago"
    if seconds < 2 * DAY:
        return "yesterday"
    if seconds < 30 * DAY:
        return f"{int(seconds // DAY)} days ago"
    return moment.astimezone().strftime("%Y-%m-%d")
