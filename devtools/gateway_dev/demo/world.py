"""The demo's mail world: an IMAP server in this process, an SMTP server that delivers into it,
throw-away OpenPGP identities, and the configuration that joins them to the gateway."""

from __future__ import annotations

import os
import subprocess
from email.utils import make_msgid
from pathlib import Path

from gateway.clock import Clock
from gateway_dev.localworld.pymap_server import PymapServer
from gateway_dev.localworld.smtpsink import Received, RecordingSmtp

DOMAIN = "hackney.example"
MASH = f"mash@{DOMAIN}"
MANAGER = f"duty.manager@{DOMAIN}"
MEETING = f"mash-meeting@{DOMAIN}"
SOCIAL_WORK = f"s47-unit@{DOMAIN}"
SERVICE_MANAGER = f"mash-service-manager@{DOMAIN}"
EDT = f"edt@{DOMAIN}"  # the Emergency Duty Team: the MASH's night and weekends
# One IMAP login per person or team; the SMTP server delivers by address.
ADDRESSES = {
    MASH: "mash",
    MANAGER: "manager",
    MEETING: "manager",
    SOCIAL_WORK: "socialwork",
    SERVICE_MANAGER: "manager",
    EDT: "edt",
    "police-mash@met.example": "police",
    "health-mash@nhs.example": "health",
    "duty@probation.example": "probation",
    "senior-manager@probation.example": "probation",
    "dsl@stjohns-school.example": "school",
    "hana.visitor@nhs.example": "visitor",
    "jo.nurse@nhs.example": "nurse",
    "worried.neighbour@mail.example": "neighbour",
}
USERS = {user: f"demo-{user}-{os.getpid()}" for user in set(ADDRESSES.values())}


def dsn(original: Received, recipient: str) -> bytes:
    """What a real MTA sends back for an unknown user: a DSN to the envelope sender."""
    return (
        f"Return-Path: <>\r\nFrom: MAILER-DAEMON@{DOMAIN}\r\nTo: {original.envelope_from}\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {make_msgid(domain=DOMAIN)}\r\nAuto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="DSN"\r\n\r\n'
        "--DSN\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--DSN\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.{DOMAIN}\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        f"--DSN\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {original.message_id}\r\n"
        "--DSN--\r\n"
    ).encode()


class Identity:
    """A throw-away OpenPGP key pair, made and used with the real gpg binary."""

    def __init__(
        self,
        root: Path,
        name: str,
        email: str,
        *,
        expire: str = "1y",
        faked_time: str | None = None,  # gpg's --faked-system-time, for keys made in the past
    ) -> None:
        self.email = email
        self.home = root / email
        self.home.mkdir(parents=True, mode=0o700)
        self.faked_time = faked_time
        self.gpg("--quick-gen-key", f"{name} <{email}>", "ed25519", "sign", expire)
        listing = self.gpg("--list-keys", "--with-colons").decode()
        self.fingerprint = next(
            line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")
        )
        self.gpg("--quick-add-key", self.fingerprint, "cv25519", "encr", expire)

    def gpg(self, *args: str, data: bytes | None = None) -> bytes:
        faked = ["--faked-system-time", self.faked_time] if self.faked_time else []
        done = subprocess.run(
            [
                "gpg",
                "--homedir",
                str(self.home),
                "--batch",
                "--yes",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--trust-model",
                "always",
                *faked,
                *args,
            ],
            input=data,
            capture_output=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr.decode(errors="replace").strip())
        return done.stdout

    def public(self) -> bytes:
        return self.gpg("--armor", "--export", self.fingerprint)

    def secret(self) -> bytes:
        return self.gpg("--armor", "--export-secret-keys", self.fingerprint)

    def learn(self, key: bytes) -> None:
        self.gpg("--import", data=key)

    def stop(self) -> None:
        subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "all"], check=False)


class World:
    def __init__(self, root: Path, clock: Clock) -> None:
        self.root = root
        self.clock = clock
        self.imap = PymapServer(USERS)
        self.smtp = RecordingSmtp(on_message=self._deliver)
        self.bounced = 0

    def _deliver(self, received: Received) -> None:
        """Local delivery stamped with simulated time, or a bounce for an unknown user."""
        for recipient in received.recipients:
            user = ADDRESSES.get(recipient.lower())
            if user is not None:
                self.imap.append(user, received.data, arrived=self.clock.now())
            elif received.envelope_from:
                self.bounced += 1
                self.imap.append("mash", dsn(received, recipient), arrived=self.clock.now())

    def start(self) -> None:
        self.imap.start()
        self.smtp.start()

    def stop(self) -> None:
        self.smtp.stop()
        self.imap.stop()
