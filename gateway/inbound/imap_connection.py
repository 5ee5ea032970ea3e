"""The IMAP connection: the one place a socket is made, keepalive, and reading IDLE's signals."""

from __future__ import annotations

import contextlib
import select as io_select
import socket
import ssl
from pathlib import Path

from imapclient import IMAPClient

from gateway.clock import Clock
from gateway.config import Config, MailboxSection
from gateway.inbound.oauth import TokenProvider
from gateway.outbound.smtp import tls_context

# At most this much mail in one FETCH, so memory stays bounded on a big catch-up.
FETCH_BYTES = 50 * 1024 * 1024


def connect_imap(box: MailboxSection, config: Config, clock: Clock) -> IMAPClient:
    """The only place an IMAP socket is made: tests pass another factory."""
    context = tls_context(box.ca_file) if box.tls != "none" else None
    client = IMAPClient(
        box.host,
        port=box.effective_port,
        ssl=box.tls == "implicit",
        ssl_context=context,
        timeout=box.socket_timeout.total_seconds(),
    )
    try:
        if box.tls == "starttls":
            client.starttls(context)
        keepalive(client.socket())
        if box.oauth2 is not None:
            cache = Path(config.gateway.state_dir) / f"oauth2-{box.name}.json"
            client.oauth2_login(box.username, TokenProvider(box.oauth2, cache, clock).token())
        else:
            client.login(box.username, box.password.resolve(f"mailbox {box.name}"))
    except BaseException:
        close_quietly(client)
        raise
    client.normalise_times = False
    return client


def keepalive(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 15), ("TCP_KEEPCNT", 4)):
        if hasattr(socket, name):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


def close_quietly(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - closing a broken connection; nothing to report
        with contextlib.suppress(Exception):
            client.shutdown()


def untagged(client: IMAPClient) -> dict[str, list[bytes]]:
    # imapclient has no public view of responses that arrive outside a command's own reply.
    return client._imap.untagged_responses  # type: ignore[no-any-return]


def announced(client: IMAPClient) -> bool:
    return any(key in untagged(client) for key in ("EXISTS", "RECENT"))


def is_news(response: tuple[object, ...]) -> bool:
    return (len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT", b"BYE")) or (
        len(response) >= 1 and response[0] == b"BYE"
    )


def at_eof(sock: socket.socket) -> bool:
    """Readable with nothing buffered right after an empty IDLE check means end of stream."""
    poller = io_select.poll()
    poller.register(sock.fileno(), io_select.POLLIN | io_select.POLLHUP | io_select.POLLERR)
    events = poller.poll(0)
    if not events:
        return False
    if any(mask & (io_select.POLLHUP | io_select.POLLERR) for _fd, mask in events):
        return True
    if isinstance(sock, ssl.SSLSocket):
        return sock.pending() == 0 and peek_eof(sock)
    return peek_eof(sock)


def peek_eof(sock: socket.socket) -> bool:
    try:
        if isinstance(sock, ssl.SSLSocket):
            # A TLS socket cannot peek; a readable socket whose read gives nothing is closed.
            sock.setblocking(False)
            try:
                return sock.recv(1) == b""
            except (ssl.SSLWantReadError, BlockingIOError):
                return False
            finally:
                sock.setblocking(True)
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def plan_batches(
    client: IMAPClient, fetch_batch: int, cap: int, uids: list[int]
) -> tuple[list[list[int]], dict[int, int]]:
    """Group UIDs so one FETCH never pulls more than FETCH_BYTES or fetch_batch messages;
    those over the message cap are set apart with their sizes (never fetched whole)."""
    batches: list[list[int]] = []
    too_large: dict[int, int] = {}
    for start in range(0, len(uids), fetch_batch):
        chunk = uids[start : start + fetch_batch]
        sizes = client.fetch(chunk, ["RFC822.SIZE"])
        current: list[int] = []
        total = 0
        for uid in chunk:
            size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
            if size > cap:
                too_large[uid] = size
                continue
            if current and total + size > FETCH_BYTES:
                batches.append(current)
                current, total = [], 0
            current.append(uid)
            total += size
        if current:
            batches.append(current)
    return batches, too_large
