"""Which check or contact a message is about, and for a signed one, by what it signed.

A signature proves who wrote the text, not which child it is about: anyone can re-send a
genuine signed answer with new outer headers. So a signed message is bound only by what its
signature covers: the protected headers inside the signed part (In-Reply-To, References, the
Subject's `[#TOKEN]` tag or reference) or, failing those, the token or reference in the signed
text. Outer headers that point anywhere else make it a mismatch; outer headers never decide.
An unsigned message is matched by its headers as before (it proves nothing either way).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser
from typing import Protocol

from gateway.config import Config
from gateway.crypto.pgp_mime import Unwrapped
from gateway.domain.checks.replies import REQUEST_ID, CheckInfo
from gateway.domain.checks.request import TOKEN
from gateway.inbound.referral.bodies import body_texts
from gateway.inbound.referral.kinds import REFERENCE
from gateway.mail.addresses import plus_tag, single_address
from gateway.mail.decode import Decoded, header, headers, referenced_ids

MAX_BODY = 200_000
_PLUS_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")


@dataclass(frozen=True)
class Bound:
    """What a message names (check tokens or contact references) and how it was found.

    `mismatch`: a signed message whose outer headers name something its signed content does
    not. `unbound`: a signed message whose signed content names nothing (`names` then holds
    what the outer headers say, only so that a person can be pointed at it)."""

    names: tuple[str, ...]
    how: str
    signed: bool = False
    mismatch: str | None = None
    unbound: str | None = None


def _unique(found: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f.upper() for f in found if f))


def _id_tokens(message: Message | None) -> list[str]:
    return REQUEST_ID.findall(" ".join(referenced_ids(message))) if message is not None else []


def _subject_tokens(message: Message | None) -> list[str]:
    return TOKEN.findall(header(message, "Subject") or "") if message is not None else []


def _plus_tokens(message: Message, mash_address: str) -> list[str]:
    return [
        tag
        for name in _PLUS_HEADERS
        for value in headers(message, name)
        for part in value.split(",")
        if (address := single_address(part)) and (tag := plus_tag(address, mash_address))
    ]


def _first(steps: list[tuple[str, list[str]]]) -> tuple[tuple[str, ...], str]:
    for how, found in steps:
        names = _unique(found)
        if names:
            return names, how
    return (), ""


def check_tokens(
    outer: Message,
    body: str,
    mash_address: str,
    *,
    signed_headers: Message | None = None,
    signed: bool = False,
) -> Bound | None:
    """The check tokens a message names; None when it names none anywhere."""
    outer_steps = [
        ("message-id", _id_tokens(outer)),
        ("subject tag", _subject_tokens(outer)),
        ("plus-address", _plus_tokens(outer, mash_address)),
    ]
    if not signed:
        names, how = _first([*outer_steps, ("body tag", TOKEN.findall(body[:MAX_BODY]))])
        return Bound(names, how) if names else None
    inner, how = _first(
        [
            ("signed message-id", _id_tokens(signed_headers)),
            ("signed subject tag", _subject_tokens(signed_headers)),
            ("signed body tag", TOKEN.findall(body[:MAX_BODY])),
        ]
    )
    pointed = _unique(t for _how, found in outer_steps for t in found)
    return _judge(inner, how, pointed, "check")


def contact_references(
    outer: Message,
    body: str,
    reference_of: Callable[[str], str | None],
    exists: Callable[[str], bool],
    *,
    signed_headers: Message | None = None,
    signed: bool = False,
) -> Bound | None:
    """The contact a message is about: a reply to our mail (by Message-ID), or a reference in
    its subject; for a signed message the signed text's reference counts too."""

    def by_ids(message: Message | None) -> list[str]:
        if message is None:
            return []
        return [r for i in referenced_ids(message) if (r := reference_of(i)) is not None]

    def in_text(text: str) -> list[str]:
        return [r for r in REFERENCE.findall(text) if exists(r)]

    def by_subject(message: Message | None) -> list[str]:
        return in_text(header(message, "Subject") or "") if message is not None else []

    if not signed:
        names, how = _first([("message-id", by_ids(outer)[:1]), ("subject", by_subject(outer)[:1])])
        return Bound(names, how) if names else None
    inner, how = _first(
        [
            ("signed message-id", by_ids(signed_headers)),
            ("signed subject", by_subject(signed_headers)),
            ("signed text", in_text(body[:MAX_BODY])),
        ]
    )
    pointed = _unique([*by_ids(outer), *by_subject(outer)])
    return _judge(inner, how, pointed, "contact")


def _judge(inner: tuple[str, ...], how: str, pointed: tuple[str, ...], what: str) -> Bound | None:
    if inner:
        elsewhere = [p for p in pointed if p not in inner]
        if elsewhere:
            return Bound(
                inner,
                how,
                signed=True,
                mismatch=(
                    f"the signed content is about {what} {', '.join(inner)} but the outer "
                    f"headers point to {', '.join(elsewhere)}"
                ),
            )
        return Bound(inner, how, signed=True)
    if pointed:
        return Bound(
            pointed,
            "outer headers only",
            signed=True,
            unbound=(
                f"the signed content names no {what} (no protected headers, no reference in "
                "the signed text); the outer headers alone do not count"
            ),
        )
    return None


def is_signed(crypto: Unwrapped | None) -> bool:
    """A good signature over the whole body: what it covers decides what it is about."""
    return crypto is not None and crypto.signature.status == "good" and not crypto.partial


def signed_headers(crypto: Unwrapped | None) -> Message | None:
    """The header fields inside the signature (protected headers), when there are any."""
    if not is_signed(crypto) or crypto is None or not crypto.signed_headers:
        return None
    return BytesHeaderParser(policy=policy.default).parsebytes(crypto.signed_headers)


class _Context(Protocol):
    @property
    def config(self) -> Config: ...
    @property
    def lookup(self) -> _Checks: ...


class _Checks(Protocol):
    def check_by_token(self, token: str) -> CheckInfo | None: ...


def checks_named(
    decoded: Decoded | None, envelope: Message | None, crypto: Unwrapped | None, ctx: _Context
) -> tuple[tuple[CheckInfo, ...], Bound | None]:
    """The existing checks a message names; a signed one by what its signature covers."""
    assert decoded is not None
    plain, html = body_texts(decoded.message)
    bound = check_tokens(
        envelope if envelope is not None else decoded.message,
        plain or html,
        ctx.config.gateway.mash_address,
        signed_headers=signed_headers(crypto),
        signed=is_signed(crypto),
    )
    if bound is None:
        return (), None
    found = (ctx.lookup.check_by_token(token) for token in bound.names)
    return tuple(c for c in found if c is not None), bound


def tidy(text: str) -> str:
    """One line for a ledger detail or an alert: no control characters."""
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text)[:300]
