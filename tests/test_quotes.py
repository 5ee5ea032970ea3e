"""A reply's new text apart from the quoted request, on samples in each client's shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.inbound.quotes import new_text

SAMPLES = sorted((Path(__file__).parent / "data" / "replies").glob("*.txt"))


def _sample(path: Path) -> tuple[str, str]:
    reply, _, expected = path.read_text(encoding="utf-8").partition("=== NEW ===\n")
    return reply, expected.strip()


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_new_text_is_separated_from_the_quoted_history(path: Path) -> None:
    reply, expected = _sample(path)
    assert new_text(reply) == expected


def test_the_sample_set_covers_each_client_shape() -> None:
    assert len(SAMPLES) >= 12
