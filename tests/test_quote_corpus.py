"""The splitter on 224 real replies from six public projects' test suites, in 16 languages.

The floors are a little under what the splitter scores today (bench/quotes.py prints the
table, side by side with email-reply-parser and mail-parser-reply): a change that loses replies
fails here. talon's and quotequail's replies are labelled by those projects, not by us.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from gateway.inbound.quotes import new_text

CORPUS = Path(__file__).parent / "data" / "replies" / "corpus"


def _cases() -> list[tuple[str, str, str]]:
    cases = []
    for path in sorted(CORPUS.rglob("*.txt")):
        reply, marker, expected = path.read_text(encoding="utf-8").partition("=== NEW ===\n")
        assert marker, path
        cases.append((path.parent.name, reply, expected))
    return cases


def _right(reply: str, expected: str) -> bool:
    return " ".join(new_text(reply).split()) == " ".join(expected.split())


def test_the_corpus_is_large_and_from_several_public_sources() -> None:
    sources = Counter(source for source, _, _ in _cases())
    assert sum(sources.values()) >= 150
    assert len(sources) >= 4
    assert (CORPUS / "SOURCES.md").is_file()


def test_new_text_is_right_on_nearly_every_real_reply() -> None:
    cases = _cases()
    right = sum(_right(reply, expected) for _, reply, expected in cases)
    assert right / len(cases) >= 0.95, f"{right}/{len(cases)}"


def test_replies_labelled_by_other_projects_are_read_as_they_say() -> None:
    for source, floor in (("talon", 0.90), ("quotequail", 0.95)):
        cases = [(r, e) for s, r, e in _cases() if s == source]
        right = sum(_right(reply, expected) for reply, expected in cases)
        assert right / len(cases) >= floor, f"{source}: {right}/{len(cases)}"


def _seconds(text: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        new_text(text)
        best = min(best, time.perf_counter() - start)
    return best


def test_the_cost_grows_linearly_with_the_text() -> None:
    # A pasted chronology: every line dated (so each may open an attribution) and some ending
    # in a colon. Quadratic work would make ten times the text cost a hundred times as much.
    line = "03/03/2026 10:15 Home visit: child seen alone.\nNotes:\n"
    small, large = line * 2_500, line * 25_000
    ratio = _seconds(large) / _seconds(small)
    assert ratio < 25, ratio
