"""The urgency screen: what alerts and what does not, phrase by phrase."""

from __future__ import annotations

import pytest

from gateway.domain.urgency import (
    DEFAULT_INCREASED_RISK_PHRASES,
    DEFAULT_URGENT_PHRASES,
    find_phrases,
    screen,
    urgent_hint,
)


def _urgent(text: str, subject: str = "") -> list[str]:
    return [
        r.matched.lower()
        for r in screen(
            subject=subject,
            text=text,
            urgent_phrases=DEFAULT_URGENT_PHRASES,
            increased_risk_phrases=DEFAULT_INCREASED_RISK_PHRASES,
        )
    ]


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("The children are in immediate danger.", "immediate danger"),
        ("He has come back and he has a knife.", "knife"),
        ("Dad threatened to kill mum in front of the kids", "threatened to kill"),
        ("She says she wants to kill herself", "kill herself"),
        ("Disclosed self harm last night", "self harm"),
        ("He is SELF-HARMING again", "self-harming"),
        ("The baby has been left alone since this morning", "left alone"),
        ("Tyler has gone missing from home", "gone missing"),
        ("She told me she was raped by an uncle", "raped"),
        ("There is no food, and the child is home alone", "home alone"),
        ("No one is looking after her; she is in danger", "in danger"),
        ("Nobody looking after the toddler", "nobody looking after"),
        ("Is she in danger? I don't know.", "in danger"),
        ("The police have a Section 47 strategy", "section 47"),
        ("I\u2019m worried he\u2019ll kill her", "kill her"),
    ],
)
def test_what_alerts(text: str, matched: str) -> None:
    assert matched in _urgent(text)


@pytest.mark.parametrize(
    "text",
    [
        "There is no immediate danger to the children.",
        "no immediate risk",
        "The child is not at immediate risk tonight.",
        "She is not in any immediate danger, but we are worried about school.",
        "He has never self-harmed.",
        "Immediate risk: No",
        "Immediate risk - none known",
        "Denies any weapons in the house",
        "Please find the missing details below.",
        "The children were missing school on Fridays.",
        "If a child is in immediate danger, call 999.",
        "They were playing with a gunge kit; the guns were water pistols? no",
        "He was kind and stable; he likes skills clubs",
        "The grape juice spilled",
    ],
)
def test_what_does_not(text: str) -> None:
    found = _urgent(text)
    # "guns" is not "gun"; the water-pistol line must not match "gun" either.
    assert found == [], found


def test_negation_stays_in_its_clause() -> None:
    assert _urgent("There is no risk at home, but he has a knife") == ["knife"]
    assert _urgent("No injuries seen. The children are in immediate danger.") == [
        "immediate danger"
    ]


def test_partner_signals_and_the_form() -> None:
    reasons = screen(
        subject="RE: [RED] MASH check [URGENT]",
        text="RISK: INCREASED\nFather released from custody today.",
        urgent_phrases=(),
        increased_risk_phrases=("increased risk",),
        immediate_risk=True,
    )
    assert [r.signal for r in reasons] == ["immediate-risk", "urgent-tag", "risk-line"]
    assert [r.matched for r in reasons] == ["immediate risk: yes", "[URGENT]", "RISK: INCREASED"]


def test_configured_phrases_extend_with_wildcards() -> None:
    assert find_phrases("He stabbed the door", ["stab*"]) == ["stabbed"]
    assert find_phrases("She was stable", ["stab*"]) == ["stable"]  # the user's choice
    assert find_phrases("no stabbing", ["stab*"]) == []


def test_hint_reads_bodies_cheaply() -> None:
    raw = (
        b"From: a@b.example\r\nSubject: referral\r\nContent-Type: text/plain\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + __import__("base64").encodebytes(b"Immediate risk: Yes\nConcern: worried\n")
    )
    assert urgent_hint(raw, DEFAULT_URGENT_PHRASES, DEFAULT_INCREASED_RISK_PHRASES)
    routine = b"From: a@b.example\r\nSubject: hello\r\n\r\nThanks for the letter.\r\n"
    assert not urgent_hint(routine, DEFAULT_URGENT_PHRASES, DEFAULT_INCREASED_RISK_PHRASES)
    assert not urgent_hint(b"\x00\xff garbage", (), ())
