"""The decode and classify steps over the hand-written corpus in tests/data/mail."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import config

from gateway.inbound.inspection import inspect_bytes

MAIL = Path(__file__).parent / "data" / "mail"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

EXPECTED = {
    "ooo-outlook.eml": ("auto_reply", True, None),
    "vacation-gmail.eml": ("auto_reply", True, None),
    "dsn-postfix.eml": ("bounce", True, None),
    "ndr-exchange.eml": ("bounce", True, None),
    "read-receipt.eml": ("auto_reply", True, None),
    "list-newsletter.eml": ("auto_reply", True, None),
    "our-own-loop.eml": ("auto_reply", True, None),
    # A worried person in their own words is a (free-text, incomplete) referral.
    "person-plain.eml": ("referral", False, None),
    "auto-submitted-no.eml": ("unknown", False, None),
    "garbage.eml": ("unknown", False, "malformed"),
    "empty.eml": ("unknown", False, "malformed"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_classification(name: str) -> None:
    kind, automatic, reason = EXPECTED[name]
    result = inspect_bytes((MAIL / name).read_bytes(), config(), NOW)
    assert result["kind"] == kind, result["reasons"]
    assert result["auto_reply"] is automatic, result["reasons"]
    assert result["quarantine_reason"] == reason
    assert result["reasons"], "the steps that decided are always listed"


def test_corpus_is_complete() -> None:
    assert {p.name for p in MAIL.glob("*.eml")} == set(EXPECTED)


def test_oversize_quarantined_before_parsing() -> None:
    cfg = config("[limits]\nmax_message_bytes = 2048\n")
    result = inspect_bytes(b"Subject: x\r\n\r\n" + b"a" * 5000, cfg, NOW)
    assert result["quarantine_reason"] == "too-large"
    assert result["reasons"] == ["limits: over a cap: too-large"]


def test_huge_header_quarantined() -> None:
    cfg = config("[limits]\nmax_header_bytes = 1024\n")
    raw = b"Subject: x\r\n" + b"X-Filler: " + b"y" * 4000 + b"\r\n\r\nbody\r\n"
    assert inspect_bytes(raw, cfg, NOW)["quarantine_reason"] == "header-too-large"


def _nested(depth: int) -> bytes:
    head = b"From: a@example.org\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    body = b"leaf\r\n"
    for level in range(depth):
        boundary = f"b{level}".encode()
        body = (
            b"Content-Type: multipart/mixed; boundary="
            + boundary
            + b"\r\n\r\n--"
            + boundary
            + b"\r\n"
            + body
            + b"\r\n--"
            + boundary
            + b"--\r\n"
        )
    return head + body


def test_deep_mime_quarantined() -> None:
    cfg = config("[limits]\nmax_mime_depth = 5\n")
    assert inspect_bytes(_nested(4), cfg, NOW)["quarantine_reason"] is None
    assert inspect_bytes(_nested(12), cfg, NOW)["quarantine_reason"] == "too-deep"


def test_many_parts_quarantined() -> None:
    cfg = config("[limits]\nmax_mime_parts = 10\n")
    parts = b"".join(b"--B\r\nContent-Type: text/plain\r\n\r\npart\r\n" for _ in range(30))
    raw = (
        b"From: a@example.org\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n" + parts + b"--B--\r\n"
    )
    assert inspect_bytes(raw, cfg, NOW)["quarantine_reason"] == "too-many-parts"
