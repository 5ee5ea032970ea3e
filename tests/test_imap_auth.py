"""IMAP connections: verified TLS to Dovecot, and XOAUTH2 with a kept, refreshed token."""

from __future__ import annotations

import json
import os
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from helpers import auto_reply

from gateway.clock import FrozenClock
from gateway.config import Config
from gateway.daemon import Daemon

MakeConfig = Callable[..., tuple[Config, Path]]


class TokenServer:
    """A token endpoint (client credentials) and an introspection endpoint for Dovecot."""

    def __init__(self) -> None:
        self.issued: list[str] = []
        self.token_requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                if self.path == "/token":
                    server.token_requests += 1
                    ok = form.get("client_secret") == ["client-secret"]
                    token = f"token-{len(server.issued) + 1}"
                    if ok:
                        server.issued.append(token)
                    body = (
                        {"access_token": token, "expires_in": 3600}
                        if ok
                        else {"error": "invalid_client"}
                    )
                    self._reply(200 if ok else 401, body)
                else:
                    token = (form.get("token") or [""])[0]
                    active = token in server.issued
                    self._reply(
                        200, {"active": active, "username": "mash"} if active else {"active": False}
                    )

            def _reply(self, code: int, body: dict[str, object]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def token_server() -> Iterator[TokenServer]:
    server = TokenServer()
    yield server
    server.close()


def test_xoauth2_client_credentials_token_kept_and_refreshed(
    sqlite_url: str,
    token_server: TokenServer,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dovecot = Dovecot(
        users={"mash": "unused"}, oauth2_introspection_url=f"{token_server.url}/introspect"
    )
    dovecot.start()
    try:
        monkeypatch.setenv("MASH_TEST_CLIENT_SECRET", "client-secret")
        oauth = (
            f'[mailbox.oauth2]\nclient_id = "gateway"\n'
            f'client_secret_env = "MASH_TEST_CLIENT_SECRET"\n'
            f'token_url = "{token_server.url}/token"\n'
        )
        config, _ = make_config(
            db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink, mailbox_extra=oauth
        )
        daemon = Daemon(config, clock)
        daemon.prepare()
        dovecot.append("mash", auto_reply(1))
        assert daemon.run_once().mailbox_errors == {}
        assert daemon.run_once().mailbox_errors == {}
        assert token_server.token_requests == 1, "the token is kept between connections"
        cache = Path(config.gateway.state_dir) / "oauth2-front-door.json"
        assert oct(cache.stat().st_mode & 0o777) == "0o600"
        clock.advance(timedelta(minutes=56))
        assert daemon.run_once().mailbox_errors == {}
        assert token_server.token_requests == 2, "refreshed shortly before it expires"
        assert dovecot.count("mash", "Processed") == 1
    finally:
        dovecot.cleanup()


def test_token_command(
    sqlite_url: str,
    token_server: TokenServer,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    token_server.issued.append("from-command")
    dovecot = Dovecot(
        users={"mash": "unused"}, oauth2_introspection_url=f"{token_server.url}/introspect"
    )
    dovecot.start()
    try:
        script = tmp_path / "get-token"
        script.write_text("#!/bin/sh\necho from-command\n")
        script.chmod(0o755)
        config, _ = make_config(
            db_url=sqlite_url,
            dovecot=dovecot,
            smtp=smtp_sink,
            mailbox_extra=f'[mailbox.oauth2]\ntoken_command = ["{script}"]\n',
        )
        daemon = Daemon(config, clock)
        daemon.prepare()
        dovecot.append("mash", auto_reply(1))
        assert daemon.run_once().mailbox_errors == {}
        assert dovecot.count("mash", "Processed") == 1
    finally:
        dovecot.cleanup()


def test_imaps_verified_with_private_ca(
    sqlite_url: str,
    dovecot_tls: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
    ca_file: Path,
) -> None:
    _config, path = make_config(db_url=sqlite_url, dovecot=dovecot_tls, smtp=smtp_sink)
    text = path.read_text().replace(
        f'port = {dovecot_tls.port}\ntls = "none"',
        f'port = {dovecot_tls.tls_port}\ntls = "implicit"\nca_file = "{ca_file}"',
    )
    path.write_text(text)
    from gateway.config import load_config

    daemon = Daemon(load_config(path), clock)
    daemon.prepare()
    dovecot_tls.append("mash", auto_reply(1))
    assert daemon.run_once().mailbox_errors == {}
    assert dovecot_tls.count("mash", "Processed") == 1
    # Without the private CA the certificate is refused, for STARTTLS as for implicit TLS.
    for tls, port in (("implicit", dovecot_tls.tls_port), ("starttls", dovecot_tls.port)):
        untrusted = (
            path.read_text()
            .replace(f'ca_file = "{ca_file}"\n', "")
            .replace(
                f'port = {dovecot_tls.tls_port}\ntls = "implicit"', f'port = {port}\ntls = "{tls}"'
            )
        )
        path.write_text(untrusted)
        refused = Daemon(load_config(path), clock).run_once()
        assert "CERTIFICATE_VERIFY_FAILED" in refused.mailbox_errors["front-door"], tls
        path.write_text(text)
    assert os.path.exists(ca_file)
