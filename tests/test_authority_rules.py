"""Issue 11's pure rules: one sender identity, our boundary's DMARC, the command grammar,
who `--by` may name, and name keys that cannot match nothing to something."""

from __future__ import annotations

from email import message_from_string
from email.message import EmailMessage
from email.policy import default

import pytest
from helpers import config

from gateway.domain.formats import name_key
from gateway.domain.managers import UnknownManager, resolve_manager
from gateway.inbound.commands import VERBS, CommandError, is_command, parse, verb
from gateway.mail.authresults import boundary_dmarc
from gateway.mail.sender import Sender, identity_of, sender_identity

MANAGER = "duty.manager@hackney.example"


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ("Duty Manager <duty.manager@hackney.example>", MANAGER),
        ("Duty <Duty.Manager@HACKNEY.example>", MANAGER),  # case does not matter
        ("Duty Manager\r\n <duty.manager@hackney.example>", MANAGER),  # folded
        ("duty.manager\u200b@hackney.example", MANAGER),  # zero-width removed
        ("\u202eduty.manager@hackney.example", MANAGER),  # a bidi mark
        ("\uff44uty.manager@hackney.example", MANAGER),  # full-width letter, NFKC
        ("=?utf-8?q?Duty_Manager?= <duty.manager@hackney.example>", MANAGER),
        ('"duty.manager@hackney.example" <duty.manager@hackney.example>', MANAGER),
        ("Duty <duty.manager@b\u00fccher.example>", "duty.manager@xn--bcher-kva.example"),
    ],
)
def test_one_sender_address(value: str, address: str) -> None:
    found = identity_of(value)
    assert (found.address, found.problem) == (address, None)


@pytest.mark.parametrize(
    "value",
    [
        "duty.manager@hackney.example <attacker@evil.example>",  # the attack in the issue
        '"duty.manager@hackney.example" <attacker@evil.example>',
        "=?utf-8?q?duty.manager=40hackney.example?= <attacker@evil.example>",  # encoded word
        "=?utf-8?b?ZHV0eS5tYW5hZ2VyQGhhY2tuZXkuZXhhbXBsZQ==?= <attacker@evil.example>",
        '"duty.manager\uff20hackney.example" <attacker@evil.example>',  # full-width @
        "duty.manager@hackney.example (attacker@evil.example)",  # a comment
        "Duty Manager <duty.manager@hackney.example>\r\n <attacker@evil.example>",  # folded
        "<attacker@evil.example> duty.manager@hackney.example",
        "attacker@evil.example, duty.manager@hackney.example",
        "managers: duty.manager@hackney.example, attacker@evil.example;",
        "=?utf-8?q?duty.manager=40hackney.example?=",  # an address only in an encoded word
        "Duty Manager",  # a phrase the two parsers read differently
    ],
)
def test_a_from_that_reads_two_ways_has_no_sender(value: str) -> None:
    found = identity_of(value)
    assert found.address is None and found.problem


@pytest.mark.parametrize(
    "value",
    ["MAILER-DAEMON", "undisclosed-recipients:;", ""],
)
def test_a_from_with_no_readable_address_is_nobody(value: str) -> None:
    assert identity_of(value) == Sender(None)  # matched to nobody, but not ambiguous


def test_two_from_fields_have_no_sender() -> None:
    message = message_from_string(
        f"From: {MANAGER}\nFrom: attacker@evil.example\nSubject: x\n\nx\n", policy=default
    )
    assert sender_identity(message).problem == "2 From: fields"
    assert sender_identity(EmailMessage()).address is None  # no From at all: nobody


GOOGLE = (
    "mx.google.com;\r\n       dkim=pass header.i=@hackney.example header.s=20230601;\r\n"
    "       spf=pass (google.com: domain of duty.manager@hackney.example designates 192.0.2.1 "
    "as permitted sender) smtp.mailfrom=duty.manager@hackney.example;\r\n"
    "       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=hackney.example"
)
MICROSOFT = (
    "spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=hackney.example; dkim=pass (signature was "
    "verified) header.d=hackney.example;dmarc=pass action=none header.from=hackney.example;"
    "compauth=pass reason=100"
)


def _with(*results: str) -> EmailMessage:
    head = "".join(f"Authentication-Results: {r}\n" for r in results)
    message = message_from_string(f"{head}From: {MANAGER}\n\nx\n", policy=default)
    assert isinstance(message, EmailMessage)
    return message


def test_dmarc_is_read_only_from_our_boundary() -> None:
    assert boundary_dmarc(_with(GOOGLE), "mx.google.com").passed_for("hackney.example")
    assert not boundary_dmarc(_with(GOOGLE), "mx.google.com").passed_for("evil.example")
    assert not boundary_dmarc(_with(GOOGLE), None).found  # no authserv_id: nothing counts
    # Microsoft 365 writes no authserv-id: it cannot be told from one a sender wrote.
    assert not boundary_dmarc(_with(MICROSOFT), "mx.google.com").found
    forged_below = _with("mx.hackney.example; dmarc=fail", "mx.hackney.example; dmarc=pass")
    assert boundary_dmarc(forged_below, "mx.hackney.example").failed
    others = _with("evil.example; dmarc=pass header.from=hackney.example")
    assert not boundary_dmarc(others, "mx.hackney.example").found
    reject = _with("mx.hackney.example; dmarc=none (p=reject) header.from=met.example")
    assert boundary_dmarc(reject, "mx.hackney.example").failed
    relaxed = _with("mx.hackney.example; dmarc=none (p=none) header.from=met.example")
    assert not boundary_dmarc(relaxed, "mx.hackney.example").failed


@pytest.mark.parametrize(
    "text",
    [
        "Decision pending\n",  # a referral's words
        "Outcome NFA\n",  # a partner's words
        "Checks red police\nContext: x\n",  # not in capitals
        "Please ask:\nCHECKS RED police\nContext: x\n",  # not the first line
        "RISK: INCREASED\nCHECKS RED police\n",
        "DECISIONS ARE HARD\n",  # not a verb
        "",
    ],
)
def test_everyday_words_are_not_commands(text: str) -> None:
    assert not is_command(text) and parse(text) is None


def test_the_first_line_in_capitals_is_a_command() -> None:
    command = parse(
        "\n  CHECKS AMBER police, health and camhs\nContext: Bruising reported;\n"
        "household may be known.\n\nQuestion: Any call-outs?\nQuestion: GP registered?\n"
    )
    assert command is not None and command.verb == "CHECKS"
    args = command.args
    assert args.rag == "amber" and args.agencies == ["police", "health", "camhs"]  # type: ignore[attr-defined]
    assert args.context == "Bruising reported; household may be known."  # type: ignore[attr-defined]
    assert args.questions == ["Any call-outs?", "GP registered?"]  # type: ignore[attr-defined]
    ruling = parse("DECISION C\nReason: Bruising and a\ndisclosure.\n\nSECTION 47\nNO LETTER\n")
    assert ruling is not None
    assert (ruling.args.code, ruling.args.section, ruling.args.letter) == ("C", "47", False)  # type: ignore[attr-defined]
    assert ruling.args.reason == "Bruising and a disclosure."  # type: ignore[attr-defined]
    assert ruling.args.letter_category is None  # type: ignore[attr-defined]
    ruling = parse("OUTCOME early-help\nReason: Police asked.\nNO LETTER: Investigation\n")
    assert ruling is not None and ruling.args.letter is False  # type: ignore[attr-defined]
    assert ruling.args.letter_category == "investigation"  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="NO LETTER takes one of"):
        parse("OUTCOME early-help\nReason: x\nNO LETTER because the police asked\n")
    with pytest.raises(CommandError, match="unknown decision"):
        parse("DECISION pending\n")
    with pytest.raises(CommandError, match="RAG"):
        parse("CHECKS police\n")


def test_a_verb_is_one_entry() -> None:
    @verb("PING-TEST", "PING-TEST")
    def _ping(rest: str, lines: list[str]) -> str:
        return rest

    try:
        found = parse("PING-TEST hello\n")
        assert found is not None and found.args == "hello"
        with pytest.raises(ValueError, match="taken"):
            verb("PING-TEST", "again")(_ping)
        with pytest.raises(ValueError, match="capitals"):
            verb("ping", "lower")(_ping)
    finally:
        del VERBS["PING-TEST"]


MANAGERS = config(
    '[[manager]]\nname = "Ana Lead"\naddress = "Ana.Lead@hackney.example"\nos_user = "ana"\n'
)


def test_by_names_a_configured_manager() -> None:
    assert resolve_manager(MANAGERS, "ana lead", None).name == "Ana Lead"
    assert resolve_manager(MANAGERS, "ANA.LEAD@HACKNEY.EXAMPLE", None).name == "Ana Lead"
    assert resolve_manager(MANAGERS, None, "ana").name == "Ana Lead"  # os_user
    assert resolve_manager(MANAGERS, "Duty Manager", "ana").name == "Duty Manager"
    for by, user in (("A Stranger", "ana"), ("x@evil.example", None), (None, "root"), (None, None)):
        with pytest.raises(UnknownManager) as refused:
            resolve_manager(MANAGERS, by, user)
        assert "Duty Manager <duty.manager@hackney.example>" in str(refused.value)
        assert "Ana Lead <Ana.Lead@hackney.example>" in str(refused.value)


def test_name_keys_transliterate_and_ignore_zero_width() -> None:
    assert name_key("Мария", "Иванова") == name_key("Mariya", "Ivanova") != ""
    assert name_key("أميرة", "حسن") not in ("", name_key("Мария", "Иванова"))
    assert name_key("Zo\u200be", "Bront\u00eb-Smith") == name_key("zoe", "bronte smith")
    assert name_key("\u200b", "\u200d") == ""
