"""Bounded cost: a message's attachments are measured before they are read, and read in a
child process under a time and a memory limit, so one hostile file never blocks the queue."""

from __future__ import annotations

import time
from collections.abc import Callable
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from bombs import docx_bomb, three_bombs_message
from forms import docx_form
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from sqlalchemy import select

from gateway.clock import FrozenClock
from gateway.config import Config
from gateway.daemon import Daemon
from gateway.inbound.referral.budget import Budget, TooCostly, check_budget, pdf_objects
from gateway.inbound.referral.sandbox import Limits, SandboxFailed, SandboxLimit, read_in_child
from gateway.store.models import Contact, Message

REFERRALS = Path(__file__).parent / "data" / "referrals"
MakeConfig = Callable[..., tuple[Config, Path]]


def test_three_word_bombs_are_too_costly_before_anything_is_decompressed() -> None:
    message = message_from_bytes(three_bombs_message(), policy=default)
    start = time.perf_counter()
    with pytest.raises(TooCostly, match=r"r0\.docx: \d+ bytes of XML"):
        check_budget(message, Budget())
    with pytest.raises(TooCostly, match=r"2 Word attachment\(s\) expand to \d+ bytes"):
        check_budget(message, Budget(max_docx_xml_bytes=10**9))
    assert time.perf_counter() - start < 2  # measured from the zip directories alone


def test_a_pdf_with_too_many_objects_is_too_costly() -> None:
    pdf = b"%PDF-1.7\n" + b"".join(b"%d 0 obj\n<<>>\nendobj\n" % n for n in range(1, 2001))
    pdf += b"trailer\n<< /Size 2001 >>\n%%EOF\n"
    assert pdf_objects(pdf) == 2001
    message = message_from_bytes(
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
        b"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=f.pdf\r\n\r\n"
        + pdf
        + b"\r\n--B--\r\n",
        policy=default,
    )
    check_budget(message, Budget())
    with pytest.raises(TooCostly, match=r"f\.pdf: 2001 PDF objects"):
        check_budget(message, Budget(max_pdf_objects=1000))


def test_the_child_reads_a_real_form_and_stops_at_its_limits() -> None:
    text, pairs, _items = read_in_child("docx", docx_form(), Limits())
    assert ("Child's name", "Kofi Mensah") in pairs and "MASH referral form" in text
    with pytest.raises(SandboxLimit, match="MB"):
        read_in_child("docx", docx_bomb(), Limits(seconds=60, memory_bytes=150 * 2**20))
    with pytest.raises(SandboxLimit, match="took over"):
        read_in_child("docx", docx_form(), Limits(seconds=0.01))
    with pytest.raises(SandboxFailed, match="BadZipFile"):
        read_in_child("docx", b"PK\x03\x04 not a zip", Limits())


def test_the_bomb_is_quarantined_and_the_referral_behind_it_is_not_held_up(
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
) -> None:
    config, _ = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    dovecot.append("mash", three_bombs_message(), arrived=clock.now())
    dovecot.append("mash", (REFERRALS / "plain-school.eml").read_bytes(), arrived=clock.now())
    daemon = Daemon(config, clock)
    daemon.prepare()
    start = time.perf_counter()
    assert daemon.run_once().mailbox_errors == {}
    assert time.perf_counter() - start < 30
    with daemon.db.transaction() as session:
        bomb, referral = session.execute(select(Message).order_by(Message.id)).scalars()
        assert bomb.state == "quarantined" and bomb.quarantine_reason == "too-costly"
        assert "bytes of XML" in (bomb.quarantine_detail or "")
        assert referral.state == "processed" and referral.kind == "referral"
        assert session.execute(select(Contact)).scalar_one() is not None
