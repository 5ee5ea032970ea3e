"""Strict e-mail address handling: the address itself, never the display name."""

from __future__ import annotations

import re
from email import policy
from email.headerregistry import Address

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class AddressError(ValueError):
    pass


def normalise_domain(domain: str) -> str:
    """Lower-case ASCII form of a domain, IDNA-encoded; raises AddressError if it is not one."""
    domain = domain.strip().rstrip(".")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise AddressError(f"invalid domain {domain!r}") from exc
    labels = ascii_domain.split(".")
    if len(labels) < 1 or not all(_LABEL.match(label) for label in labels):
        raise AddressError(f"invalid domain {domain!r}")
    return ascii_domain


def normalise_address(text: str) -> str:
    """A bare addr-spec, local part kept as written, domain lower-cased ASCII.

    Refuses display names, routes, comments, quoted local parts and anything with
    whitespace or control characters: a sender check must compare exactly one address.
    """
    text = text.strip()
    if not text or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise AddressError(f"not a bare address: {text!r}")
    local, sep, domain = text.rpartition("@")
    if not sep or not local or not domain:
        raise AddressError(f"not an address: {text!r}")
    if not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise AddressError(f"invalid local part in {text!r}")
    return f"{local}@{normalise_domain(domain)}"


def single_address(header_value: str | None) -> str | None:
    """The one address in a From-like header, or None when there is not exactly one."""
    if not header_value:
        return None
    try:
        # The modern header parser: quoting and comments are understood, not guessed at.
        parsed = policy.default.header_factory("From", str(header_value))
        found = [a.addr_spec for a in parsed.addresses if a.username and a.domain]
    except Exception:  # noqa: BLE001 - the header registry raises many kinds on bad input
        return None
    if len(found) != 1:
        return None
    try:
        return normalise_address(found[0])
    except AddressError:
        return None


def plus_address(base: str, tag: str) -> str:
    """`local+tag@domain` for VERP and reply tokens."""
    local, _, domain = normalise_address(base).rpartition("@")
    local = local.split("+", 1)[0]
    return str(Address(username=f"{local}+{tag}", domain=domain).addr_spec)


def plus_tag(address: str, base: str) -> str | None:
    """The tag of `local+tag@domain` when it is a plus-address of `base`, else None."""
    try:
        address = normalise_address(address)
    except AddressError:
        return None
    b_local, _, b_domain = normalise_address(base).rpartition("@")
    a_local, _, a_domain = address.rpartition("@")
    b_local = b_local.split("+", 1)[0]
    if a_domain != b_domain or not a_local.lower().startswith(b_local.lower() + "+"):
        return None
    return a_local[len(b_local) + 1 :]


_ANYWHERE = re.compile(r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:]+")


def without_addresses(text: str) -> str:
    """Text for a log line: any address in it (a server's refusal names the recipient, who may be
    a member of the public) replaced by a placeholder."""
    return _ANYWHERE.sub("[address]", text)
