"""Times as a manager reads them: in words, never four-digit minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.durations import ago, due, in_words

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(seconds=20), "less than a minute"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(minutes=40), "40 minutes"),
        (timedelta(minutes=60), "1 hour"),
        (timedelta(minutes=80), "1 hour 20 minutes"),
        (timedelta(hours=2, minutes=59), "2 hours 59 minutes"),
        (timedelta(hours=3, minutes=59), "3 hours"),
        (timedelta(minutes=1340), "22 hours"),
        (timedelta(hours=47), "47 hours"),
        (timedelta(hours=49), "2 days"),
        (timedelta(days=9), "9 days"),
    ],
)
def test_in_words(delta: timedelta, words: str) -> None:
    assert in_words(delta) == words


def test_ago_and_due() -> None:
    assert ago(NOW, NOW - timedelta(minutes=1340)) == "22 hours ago"
    assert ago(NOW, NOW - timedelta(seconds=5)) == "just now"
    assert due(NOW, NOW + timedelta(minutes=40)) == "due in 40 minutes"
    assert due(NOW, NOW - timedelta(hours=2)) == "overdue by 2 hours"
    assert due(NOW, NOW + timedelta(seconds=30)) == "due now"
