"""Throw-away OpenPGP identities made with the real gpg binary (ed25519/cv25519: fast).

Partners build their replies with gpg directly, not with the gateway's code, so the tests
judge the gateway against messages it did not make.
"""

from __future__ import annotations

import secrets

from gateway_dev.demo.world import Identity


class Party(Identity):
    """The demo's throw-away identity, with what the hostile-reply tests need besides."""

    def revoke(self) -> bytes:
        """Revoke our own key; the revoked public key, for others to import."""
        cert = (self.home / "openpgp-revocs.d" / f"{self.fingerprint}.rev").read_bytes()
        self.gpg("--import", data=cert.replace(b":-----BEGIN", b"-----BEGIN"))
        return self.public()

    def detach_sign(self, data: bytes) -> bytes:
        return self.gpg("--armor", "--detach-sign", "-u", self.fingerprint, data=data)

    def clearsign(self, text: bytes) -> bytes:
        return self.gpg("--clearsign", "-u", self.fingerprint, data=text)

    def encrypt(self, data: bytes, to: list[str], *, sign: bool = True, mdc: bool = True) -> bytes:
        args = ["--armor", "--encrypt", *(a for r in to for a in ("-r", r))]
        if sign:
            args += ["--sign", "-u", self.fingerprint]
        return self.gpg(*args, data=data)

    def decrypt(self, data: bytes) -> bytes:
        return self.gpg("--decrypt", data=data)


def crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def entity(text: str, *, subject: str | None = None) -> bytes:
    """A text/plain MIME entity (headers and body), as a partner's client signs it."""
    head = 'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: 8bit\r\n'
    if subject is not None:
        head = f"Subject: {subject}\r\n" + head
        head = head.replace('charset="utf-8"', 'charset="utf-8"; protected-headers="v1"')
    return crlf(head.encode() + b"\r\n" + text.encode())


def signed_entity(party: Party, inner: bytes, *, signer: Party | None = None) -> bytes:
    boundary = f"sig{secrets.token_hex(6)}".encode()
    signature = (signer or party).detach_sign(inner)
    return crlf(
        b'Content-Type: multipart/signed; micalg="pgp-sha512";'
        b' protocol="application/pgp-signature"; boundary="' + boundary + b'"\r\n\r\n'
        b"--" + boundary + b"\r\n" + inner + b"\r\n"
        b"--"
        + boundary
        + b"\r\nContent-Type: application/pgp-signature\r\n\r\n"
        + signature
        + b"\r\n--"
        + boundary
        + b"--\r\n"
    )


def encrypted_entity(armored: bytes) -> bytes:
    boundary = f"enc{secrets.token_hex(6)}".encode()
    return crlf(
        b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";'
        b' boundary="' + boundary + b'"\r\n\r\n'
        b"--" + boundary + b"\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
        b"--"
        + boundary
        + b"\r\nContent-Type: application/octet-stream\r\n\r\n"
        + armored
        + b"\r\n--"
        + boundary
        + b"--\r\n"
    )


def message(headers: dict[str, str], body_entity: bytes) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return crlf(head.encode() + b"MIME-Version: 1.0\r\n") + body_entity
