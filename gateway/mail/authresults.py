"""What our own boundary server said about a message's DMARC (RFC 8601 Authentication-Results).

Only the topmost field whose authserv-id is `gateway.authserv_id` counts: the boundary adds its
field above everything the sender wrote, and RFC 8601 section 5 has it remove fields that carry
its own authserv-id from arriving mail. A field with no authserv-id (Microsoft 365 writes them so)
or another server's is never read.

    Authentication-Results: mx.google.com; dkim=pass header.i=@hackney.example;
        spf=pass smtp.mailfrom=duty.manager@hackney.example;
        dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=hackney.example
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from gateway.mail.addresses import AddressError, normalise_domain
from gateway.mail.decode import headers

_COMMENT = re.compile(r"\((?:[^()\\]|\\.)*\)")
_DMARC = re.compile(r"^dmarc\s*=\s*([a-z]+)\b", re.I)
_HEADER_FROM = re.compile(r"\bheader\.from\s*=\s*\"?([^\s;\"]+)", re.I)
_REJECT = re.compile(r"\bp\s*=\s*reject\b", re.I)


@dataclass(frozen=True)
class Dmarc:
    """The boundary's DMARC result for the message: `result` is pass, fail, none, ... or
    `absent` when our boundary's field says nothing about DMARC (or there is no field)."""

    result: str
    header_from: str | None = None
    reject_policy: bool = False
    found: bool = False  # a field from our boundary server was there

    def passed_for(self, domain: str | None) -> bool:
        return self.result == "pass" and domain is not None and self.header_from == domain

    @property
    def failed(self) -> bool:
        """dmarc=fail, or dmarc=none where the field says the domain publishes p=reject."""
        return self.result == "fail" or (self.result == "none" and self.reject_policy)


def authserv_id_of(value: str) -> str | None:
    """The authserv-id: the first token, when it is not already a `method=result`."""
    first = _COMMENT.sub(" ", value).split(";", 1)[0].strip()
    token = first.split()[0] if first else ""
    return None if not token or "=" in token else token.lower()


def boundary_dmarc(message: Message, authserv_id: str | None) -> Dmarc:
    if not authserv_id:
        return Dmarc("absent")
    for value in headers(message, "Authentication-Results"):
        if authserv_id_of(value) != authserv_id.lower():
            continue
        return _dmarc_in(value)
    return Dmarc("absent")


def _dmarc_in(value: str) -> Dmarc:
    results: list[Dmarc] = []
    for resinfo in value.split(";")[1:]:
        found = _DMARC.match(resinfo.strip())
        if found is None:
            continue
        domain = _HEADER_FROM.search(_COMMENT.sub(" ", resinfo))
        try:
            header_from = normalise_domain(domain.group(1)) if domain else None
        except AddressError:
            header_from = None
        results.append(
            Dmarc(
                found.group(1).lower(),
                header_from,
                _REJECT.search(resinfo) is not None,
                found=True,
            )
        )
    if not results:
        return Dmarc("absent", found=True)
    # Several dmarc results in one field: any failure wins, a pass needs every one to pass.
    for result in results:
        if result.failed:
            return result
    if all(r.result == "pass" for r in results) and len({r.header_from for r in results}) == 1:
        return results[0]
    return next((r for r in results if r.result != "pass"), Dmarc("mixed", found=True))
