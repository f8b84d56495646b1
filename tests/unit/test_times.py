"""When something happened, as lists say it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from copilot_magic.views.times import ago

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("before", "said"),
    [
        (timedelta(seconds=5), "just now"),
        (timedelta(minutes=3, seconds=40), "3 min ago"),
        (timedelta(minutes=59), "59 min ago"),
        (timedelta(hours=5), "5 h ago"),
        (timedelta(hours=30), "yesterday"),
        (timedelta(days=12), "12 days ago"),
    ],
)
def test_a_recent_moment_is_said_in_words(before: timedelta, said: str) -> None:
    assert ago(NOW - before, NOW) == said


def test_an_old_moment_is_its_date_and_none_is_never() -> None:
    assert ago(NOW - timedelta(days=90), NOW) == (NOW - timedelta(days=90)).astimezone().strftime(
        "%Y-%m-%d"
    )
    assert ago(None, NOW) == "never"
