"""What every local IMAP server (Dovecot, pymap) offers the tests and the demo: a logged-in
client per user, APPEND with an arrival time, and a folder's message count."""

from __future__ import annotations

from datetime import datetime

from imapclient import IMAPClient


class LocalMailboxes:
    port: int
    users: dict[str, str]

    def client(self, user: str) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=30)
        client.login(user, self.users[user])
        return client

    def append(
        self, user: str, raw: bytes, folder: str = "INBOX", arrived: datetime | None = None
    ) -> None:
        """APPEND, optionally with the server arrival time (INTERNALDATE) set to `arrived`."""
        client = self.client(user)
        try:
            client.append(folder, raw, msg_time=arrived)
        finally:
            client.logout()

    def count(self, user: str, folder: str = "INBOX") -> int:
        client = self.client(user)
        try:
            if not client.folder_exists(folder):
                return 0
            return int(client.folder_status(folder, [b"MESSAGES"])[b"MESSAGES"])
        finally:
            client.logout()
