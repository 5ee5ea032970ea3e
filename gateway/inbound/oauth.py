"""OAuth2 access tokens for XOAUTH2 (Microsoft 365): a token command or client credentials."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

from gateway.clock import Clock
from gateway.config import OAuth2Section, Secret

REFRESH_MARGIN = timedelta(minutes=5)


class TokenError(Exception):
    pass


class TokenProvider:
    """Hands out a valid access token, keeping a refreshed one in the state directory."""

    def __init__(self, settings: OAuth2Section, cache_file: Path, clock: Clock) -> None:
        self.settings = settings
        self.cache_file = cache_file
        self.clock = clock

    def token(self) -> str:
        if self.settings.token_command:
            return self._from_command(self.settings.token_command)
        now = self.clock.now()
        cached = self._read_cache()
        if cached and cached[1] - REFRESH_MARGIN > now:
            return cached[0]
        token, expires_at = self._client_credentials(now)
        self._write_cache(token, expires_at)
        return token

    @staticmethod
    def _from_command(command: tuple[str, ...]) -> str:
        try:
            done = subprocess.run(
                list(command), capture_output=True, text=True, timeout=60, check=True
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise TokenError(f"token command failed: {type(exc).__name__}") from exc
        token = done.stdout.strip()
        if not token or "\n" in token:
            raise TokenError("token command printed no single-line token")
        return token

    def _client_credentials(self, now: datetime) -> tuple[str, datetime]:
        secret = Secret(
            env=self.settings.client_secret_env, file=self.settings.client_secret_file
        ).resolve("oauth2 client secret")
        body = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": self.settings.client_id or "",
                "client_secret": secret,
                "scope": self.settings.scope,
            }
        ).encode("ascii")
        url = self.settings.effective_token_url
        if not url.startswith(("https://", "http://127.", "http://localhost")):
            raise TokenError("token_url must be https (plain http only to loopback)")
        request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                payload = json.loads(response.read().decode("utf-8"))
        except (OSError, ValueError) as exc:
            raise TokenError(f"token endpoint failed: {type(exc).__name__}: {exc}") from exc
        token = payload.get("access_token")
        if not isinstance(token, str) or not token:
            raise TokenError("token endpoint returned no access_token")
        lifetime = int(payload.get("expires_in", 3600))
        return token, now + timedelta(seconds=lifetime)

    def _read_cache(self) -> tuple[str, datetime] | None:
        try:
            data = json.loads(self.cache_file.read_text(encoding="utf-8"))
            return str(data["access_token"]), datetime.fromisoformat(data["expires_at"])
        except (OSError, ValueError, KeyError):
            return None

    def _write_cache(self, token: str, expires_at: datetime) -> None:
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        temp = self.cache_file.with_suffix(".tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"access_token": token, "expires_at": expires_at.isoformat()}, handle)
        temp.replace(self.cache_file)
