"""An IMAP server that needs no system install: pymap's in-memory backend, in this process.

It runs its own asyncio loop in a thread, serves plain IMAP on loopback (IDLE, MOVE and
UIDPLUS included) and holds one mailbox per user. Everything is gone when it stops.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import threading
from contextlib import AsyncExitStack

from imapclient import IMAPClient

from gateway_dev.localworld.mailboxes import LocalMailboxes
from gateway_dev.localworld.ports import free_port, wait_for_port


class PymapServer(LocalMailboxes):
    def __init__(self, users: dict[str, str]) -> None:
        self.users = dict(users)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        # Logged-in clients kept for callers that ask often (a login hashes a password).
        self._sessions: dict[str, IMAPClient] = {}
        self._sessions_lock = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pymap", daemon=True)
        self._thread.start()
        if not self._ready.wait(30) or self._error is not None:
            raise RuntimeError(f"pymap did not start: {self._error!r}")
        wait_for_port(self.port)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        from pymap.backend.dict import DictBackend, Identity
        from pymap.imap import IMAPService
        from pymap.user import Passwords, UserMetadata

        args = argparse.Namespace(
            debug=False,
            demo_data=False,
            # pymap always makes a demo login; nobody is given its random password.
            demo_user=f"unused-{secrets.token_hex(4)}",
            demo_password=secrets.token_urlsafe(24),
            host=["127.0.0.1"],
            port=str(self.port),
            cert=None,
            key=None,
            inherited_sockets=None,
            tls=False,
            proxy_protocol=None,
            skip_services=[],
            passlib_cfg=None,
        )
        backend, config = await DictBackend.init(args)
        config.apply_context()
        passwords = Passwords(config)
        for name, password in self.users.items():
            hashed = await passwords.hash_password(password)
            user = UserMetadata(config, name, password=hashed)
            await Identity(name, backend.login, None, frozenset()).set(user)
        self._stop = asyncio.Event()
        async with AsyncExitStack() as stack:
            await backend.start(stack)
            await IMAPService(backend, config).start(stack)
            self._ready.set()
            await self._stop.wait()

    def session(self, user: str) -> IMAPClient:
        """A kept, logged-in client for USER (one thread at a time)."""
        with self._sessions_lock:
            client = self._sessions.get(user)
            if client is None:
                client = self._sessions[user] = self.client(user)
            return client

    def stop(self) -> None:
        with self._sessions_lock:
            for client in self._sessions.values():
                with contextlib.suppress(Exception):
                    client.logout()
            self._sessions.clear()
        if self._stop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=15)
            wait_for_port(self.port, up=False)

    cleanup = stop
