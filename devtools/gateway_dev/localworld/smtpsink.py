"""A recording SMTP server on loopback that can answer 4xx, 5xx or drop the connection."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from gateway_dev.localworld.ports import free_port


@dataclass(frozen=True)
class Received:
    envelope_from: str
    recipients: tuple[str, ...]
    data: bytes

    @property
    def message_id(self) -> str | None:
        value = message_from_bytes(self.data, policy=default).get("Message-ID")
        return str(value) if value else None


class _Handler:
    def __init__(self, sink: RecordingSmtp) -> None:
        self.sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or envelope.content or b""
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        answer = self.sink.next_answer()
        if answer in ("drop", "accept-then-drop"):
            if answer == "accept-then-drop":
                self.sink.record(envelope, data)
            transport = server.transport
            if isinstance(transport, asyncio.Transport):
                transport.abort()  # no reply: the client sees the connection die
            return "421 dropped"
        if answer.startswith("250"):
            self.sink.record(envelope, data)
        return answer


class RecordingSmtp:
    """Answers are scripted: `script(["451 ...", "250 OK"])` then the default answer."""

    def __init__(
        self,
        *,
        tls_context: ssl.SSLContext | None = None,
        require_starttls: bool = False,
        on_message: Callable[[Received], None] | None = None,
    ) -> None:
        self.port = free_port()
        self.messages: list[Received] = []
        self.default_answer = "250 2.0.0 OK"
        self._script: list[str] = []
        self._lock = threading.Lock()
        self.on_message = on_message
        self.controller = Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=self.port,
            decode_data=False,
            tls_context=tls_context,
            require_starttls=require_starttls and tls_context is not None,
        )

    def start(self) -> RecordingSmtp:
        self.controller.start()
        self._running = True
        return self

    def stop(self) -> None:
        if getattr(self, "_running", False):
            self.controller.stop()
            self._running = False

    def script(self, answers: list[str]) -> None:
        with self._lock:
            self._script = list(answers)

    def next_answer(self) -> str:
        with self._lock:
            return self._script.pop(0) if self._script else self.default_answer

    def record(self, envelope: Envelope, data: bytes) -> None:
        received = Received(envelope.mail_from or "", tuple(envelope.rcpt_tos), data)
        with self._lock:
            self.messages.append(received)
        if self.on_message is not None:
            self.on_message(received)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
