"""The SMTP/LMTP listener: 250 only after the message is committed; our failures answer 451."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from gateway.clock import Clock
from gateway.config import Config
from gateway.inbound.ingest import Source, ingest
from gateway.inbound.screening import priority_of
from gateway.store.db import Database

log = logging.getLogger(__name__)
# aiosmtpd logs the SMTP dialogue (addresses) at INFO and DEBUG: keep personal data out.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class IngestHandler:
    def __init__(
        self, config: Config, db: Database, clock: Clock, on_ingested: Callable[[], None]
    ) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self.on_ingested = on_ingested

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes):
            raw = str(raw).encode("utf-8", "surrogateescape")
        listener = self.config.listener
        source = Source(listener.protocol, listener.name, session_id=uuid.uuid4().hex)
        loop = asyncio.get_running_loop()
        try:
            ingested = await loop.run_in_executor(None, self._commit, raw, source)
        except Exception:
            log.exception("listener: could not commit a message; answered 451")
            return self._status(envelope, "451 4.3.0 Local error: please try again later")
        self.on_ingested()
        return self._status(envelope, f"250 2.0.0 OK queued as {ingested}")

    def _commit(self, raw: bytes, source: Source) -> int:
        now = self.clock.now()
        return ingest(
            self.db,
            raw,
            source,
            received_at=now,
            now=now,
            role="front-door",
            priority=priority_of(raw, self.config),
        ).message_id

    def _status(self, envelope: Envelope, line: str) -> str:
        if self.config.listener.protocol == "lmtp":
            # LMTP answers once per accepted recipient.
            return "\r\n".join([line] * max(1, len(envelope.rcpt_tos)))
        return line


class _Controller(Controller):
    def __init__(self, handler: IngestHandler, lmtp: bool, **kwargs: Any) -> None:
        self._lmtp = lmtp
        super().__init__(handler, **kwargs)

    def factory(self) -> SMTP:
        cls = LMTP if self._lmtp else SMTP
        return cls(self.handler, **self.SMTP_kwargs)


def start_listener(
    config: Config, db: Database, clock: Clock, on_ingested: Callable[[], None]
) -> Controller:
    listener = config.listener
    handler = IngestHandler(config, db, clock, on_ingested)
    controller = _Controller(
        handler,
        listener.protocol == "lmtp",
        hostname=listener.host,
        port=listener.port,
        data_size_limit=config.limits.max_message_bytes,
        decode_data=False,
        ident="mash-gateway",
    )
    controller.start()
    log.info("%s listener on %s:%s", listener.protocol.upper(), listener.host, listener.port)
    return controller
