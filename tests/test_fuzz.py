"""Mutated MIME into decode and classify: nothing escapes, every input gets a kind or a reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from helpers import config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.inbound.handlers.spine import default_handlers
from gateway.inbound.inspection import _NoState, inspect_bytes
from gateway.inbound.pipeline import KINDS, PROCESS_STEPS, StepContext, Work, run

DATA = Path(__file__).parent / "data"
SEEDS = [p.read_bytes() for p in sorted(DATA.glob("*/*.eml"))]
CONFIG = config("[limits]\nmax_mime_depth = 8\nmax_mime_parts = 50\n")
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

TOKENS = [
    b"\r\n",
    b"\n",
    b":",
    b"--",
    b"boundary=",
    b"Content-Type: multipart/mixed; ",
    b"=?utf-8?q?",
    b"?=",
    b"\x00",
    b"\xff",
    b"Content-Transfer-Encoding: base64\r\n",
    b"message/rfc822",
    b"multipart/report; report-type=delivery-status",
    b"<",
    b">",
    b'"',
    b"\t",
    b" ",
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 12))):
        op = draw(st.sampled_from(["insert", "delete", "flip", "dup"]))
        at = draw(st.integers(0, max(len(data), 1) - 1)) if data else 0
        if op == "insert":
            data[at:at] = draw(st.sampled_from(TOKENS) | st.binary(max_size=20))
        elif op == "delete" and data:
            del data[at : at + draw(st.integers(1, 40))]
        elif op == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "dup" and data:
            chunk = data[at : at + draw(st.integers(1, 200))]
            data[at:at] = chunk * draw(st.integers(1, 5))
    return bytes(data)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_mime_never_escapes(raw: bytes) -> None:
    result = inspect_bytes(raw, CONFIG, NOW)
    assert result["kind"] in KINDS
    assert isinstance(result["auto_reply"], bool)
    assert result["reasons"]
    assert not str(result["quarantine_reason"]).startswith("step-failed"), result["reasons"]
    # Through the whole pipeline every input ends processed, or quarantined with a reason.
    ctx = StepContext(CONFIG, NOW, _NoState(), default_handlers())
    decision = run(PROCESS_STEPS, Work(raw=raw), ctx).decision
    assert decision is not None
    assert decision.kind in KINDS
    if decision.state == "quarantined":
        assert decision.quarantine_reason
    else:
        assert decision.state == "processed"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_never_escape(raw: bytes) -> None:
    result = inspect_bytes(raw, CONFIG, NOW)
    assert result["kind"] in KINDS
    assert result["reasons"]
    assert not str(result["quarantine_reason"]).startswith("step-failed"), result["reasons"]
