"""OpenPGP through python-gnupg around the real gpg binary, behind a small interface.

Every verdict is read from gpg's machine-readable status lines (`[GNUPG:] KEYWORD args`), never
from its human-readable output. Keys are pinned by fingerprint in the configuration, so the
trust model is `always` (pinning, not the web of trust, decides); nothing is ever fetched from
a keyserver or WKD.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import gnupg

from gateway.config import Config, ConfigError

log = logging.getLogger(__name__)

MIN_GPG = (2, 2, 8)  # CVE-2018-12020: file names could forge status lines before 2.2.8
# Never reach out: no keyserver, no WKD or DANE lookups, no automatic key retrieval.
GPG_OPTIONS = [
    "--trust-model",
    "always",
    "--no-auto-key-retrieve",
    "--auto-key-locate",
    "local",
    "--keyserver",
    "hkps://invalid.invalid",
    "--no-auto-key-import",
]
MAX_PLAINTEXT = 25 * 1024 * 1024
_STATUS = re.compile(r"^\[GNUPG:\] ([A-Z_]+)(?: (.*))?$")


class CryptoError(RuntimeError):
    pass


class MissingKeyring(CryptoError):
    """A read-only command found no keyring; it never makes one."""


@dataclass(frozen=True)
class Status:
    keyword: str
    args: tuple[str, ...]


def status_lines(stderr: str) -> list[Status]:
    """The `[GNUPG:]` lines only: gpg writes them whole, one per line, escaping what it quotes."""
    out = []
    for line in stderr.splitlines():
        match = _STATUS.match(line)
        if match:
            out.append(Status(match.group(1), tuple((match.group(2) or "").split(" "))))
    return out


@dataclass(frozen=True)
class KeyInfo:
    fingerprint: str
    uids: tuple[str, ...]
    created: datetime | None
    expires: datetime | None
    revoked: bool
    can_encrypt: bool
    can_sign: bool
    secret: bool = False

    def problem(self, now: datetime, purpose: str = "encrypt") -> str | None:
        """Why this key cannot be used now, or None."""
        if self.revoked:
            return "revoked"
        if self.expires is not None and self.expires <= now:
            return f"expired on {self.expires.date().isoformat()}"
        if purpose == "encrypt" and not self.can_encrypt:
            return "has no usable encryption subkey"
        if purpose == "sign" and not self.can_sign:
            return "cannot sign"
        return None


@dataclass(frozen=True)
class Decrypted:
    ok: bool
    plaintext: bytes
    statuses: tuple[Status, ...]
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verified:
    statuses: tuple[Status, ...]


class _GPG(gnupg.GPG):  # type: ignore[misc]
    """python-gnupg with one change: a call's input and output run on the calling thread
    (`Popen.communicate`) instead of three new threads per call. Starting those threads was
    about a third of a signature check's time here (bench/crypto.py). Arguments, status
    handling and results stay python-gnupg's own."""

    def _handle_io(  # type: ignore[no-untyped-def]
        self, args, fileobj_or_path, result, passphrase=None, binary=False
    ):
        fileobj = self._get_fileobj(fileobj_or_path)
        try:
            data = fileobj.read()
        finally:
            if fileobj is not fileobj_or_path:
                fileobj.close()
        if isinstance(data, str):
            data = data.encode(self.encoding)
        if passphrase is not None:  # make_args then reads it from fd 0: its first line
            data = f"{passphrase}\n".encode(self.encoding) + data
        process = self._open_subprocess(args, passphrase is not None)
        stdout, stderr = process.communicate(data)
        # Status arguments are percent-escaped by gpg; stray bytes elsewhere must not kill
        # the reading (python-gnupg's reader thread would die on them and leave no result).
        self._read_response(io.StringIO(stderr.decode(self.encoding, "replace")), result)
        self._read_data(io.BytesIO(stdout), result, self.on_data, self.buffer_size)
        result.returncode = process.returncode
        if process.returncode != 0:
            log.debug("gpg exited with %d", process.returncode)
        return result


@dataclass
class Keyring:
    """The gateway's own keyring (`gateway.gnupg_home`)."""

    home: Path
    signing_key: str | None = None
    passphrase: str | None = None
    # Where the passphrase comes from, read the first time the secret key is used (signing,
    # decrypting), so that commands which never use it run without it.
    passphrase_source: Callable[[], str] | None = field(default=None, repr=False)
    # False for commands that only read: a missing keyring is then an error, never created.
    create: bool = True
    _gpg: gnupg.GPG = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.create:
            self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        elif not self.home.is_dir():
            raise MissingKeyring(
                f"no keyring at {self.home} yet: it is made by `mash-gateway keys import FILE` "
                "or the first `mash-gateway run`"
            )
        self._gpg = _GPG(gnupghome=str(self.home), options=list(GPG_OPTIONS))
        self._gpg.encoding = "utf-8"
        version = tuple(self._gpg.version or (0,))
        if version < MIN_GPG:
            raise CryptoError(
                f"GnuPG {'.'.join(map(str, version))} is too old; 2.2.8 or later is required"
            )

    def _passphrase(self) -> str | None:
        if self.passphrase is None and self.passphrase_source is not None:
            try:
                self.passphrase = self.passphrase_source()
            except ConfigError as exc:
                raise CryptoError("; ".join(exc.problems)) from None
        return self.passphrase

    # --- keys ----------------------------------------------------------------------------
    def import_keys(self, data: bytes) -> list[str]:
        result = self._gpg.import_keys(data)
        return sorted({fpr for fpr in result.fingerprints if fpr})

    def list_keys(self) -> list[KeyInfo]:
        secret = {k["fingerprint"] for k in self._gpg.list_keys(secret=True)}
        return [self._info(k, k["fingerprint"] in secret) for k in self._gpg.list_keys()]

    @staticmethod
    def _info(raw: dict, secret: bool) -> KeyInfo:  # type: ignore[type-arg]
        def when(value: str) -> datetime | None:
            return datetime.fromtimestamp(int(value), UTC) if value else None

        # gpg's upper-case capabilities are the key's usable ones, expired or revoked subkeys
        # already left out.
        caps = raw.get("cap", "")
        return KeyInfo(
            fingerprint=raw["fingerprint"],
            uids=tuple(raw.get("uids", [])),
            created=when(raw.get("date", "")),
            expires=when(raw.get("expires", "")),
            revoked=raw.get("trust") == "r",
            can_encrypt="E" in caps,
            can_sign="S" in caps,
            secret=secret,
        )

    # --- outbound --------------------------------------------------------------------------
    def sign_detached(self, data: bytes) -> bytes:
        if not self.signing_key:
            raise CryptoError("no gateway.signing_key configured")
        result = self._gpg.sign(
            data, keyid=self.signing_key, passphrase=self._passphrase(), detach=True, binary=False
        )
        statuses = status_lines(result.stderr)
        if not any(s.keyword == "SIG_CREATED" for s in statuses):
            raise CryptoError(f"signing failed: {_failure(statuses)}")
        return bytes(result.data)

    def encrypt(self, data: bytes, recipients: list[str]) -> bytes:
        result = self._gpg.encrypt(
            data, recipients, armor=True, always_trust=True, extra_args=["--no-throw-keyids"]
        )
        statuses = status_lines(result.stderr)
        if not any(s.keyword == "END_ENCRYPTION" for s in statuses):
            raise CryptoError(f"encryption failed: {_failure(statuses)}")
        return bytes(result.data)

    # --- inbound ---------------------------------------------------------------------------
    def decrypt(self, data: bytes) -> Decrypted:
        """Decrypt (and verify an inner signature). Fails closed: without DECRYPTION_OKAY, an
        integrity check (GOODMDC, or AEAD) and no error, the plaintext is thrown away."""
        # gpg stops writing past the cap itself; the length check below is the second guard.
        result = self._gpg.decrypt(
            data, passphrase=self._passphrase(), extra_args=["--max-output", str(MAX_PLAINTEXT)]
        )
        statuses = tuple(status_lines(result.stderr))
        words = {s.keyword for s in statuses}
        reasons = []
        if "DECRYPTION_OKAY" not in words:
            reasons.append("decryption failed")
        if "DECRYPTION_FAILED" in words or "BADMDC" in words:
            reasons.append("integrity check failed")
        aead = any(
            s.keyword == "DECRYPTION_INFO" and len(s.args) > 2 and s.args[2] != "0"
            for s in statuses
        )
        if "GOODMDC" not in words and not aead:
            reasons.append("no integrity protection (MDC or AEAD)")
        if any(s.keyword == "ERROR" for s in statuses):
            reasons.append("gpg reported an error")
        plaintext = bytes(result.data)
        # gpg can say DECRYPTION_OKAY and still fail after it (the output cap): its exit code.
        if result.returncode != 0 or any(s.keyword == "FAILURE" for s in statuses):
            reasons.append(f"gpg failed (exit {result.returncode}): over the output cap or damaged")
        if len(plaintext) > MAX_PLAINTEXT:
            reasons.append(f"decrypted message over {MAX_PLAINTEXT} bytes")
        if reasons:
            return Decrypted(False, b"", statuses, tuple(reasons))
        return Decrypted(True, plaintext, statuses)

    def verify_detached(self, data: bytes, signature: bytes) -> Verified:
        # python-gnupg reads a detached signature from a file; ours, in our own directory.
        with tempfile.NamedTemporaryFile(dir=self.home, suffix=".sig") as sig:
            sig.write(signature)
            sig.flush()
            result = self._gpg.verify_data(sig.name, data)
        return Verified(tuple(status_lines(result.stderr)))

    def verify_inline(self, data: bytes) -> tuple[Verified, bytes]:
        """A clear-signed text: the statuses and the signed text gpg extracted."""
        result = self._gpg.decrypt(data)  # gpg --decrypt also unwraps a clear-signed text
        return Verified(tuple(status_lines(result.stderr))), bytes(result.data)


def owner_of(config: Config, fingerprint: str | None) -> str | None:
    if fingerprint is None:
        return None
    for agency in config.agency:
        if agency.key and agency.key.upper() == fingerprint:
            return f"agency {agency.id}"
    for manager in config.manager:
        if manager.key and manager.key.upper() == fingerprint:
            return f"manager {manager.address}"
    if config.gateway.signing_key and config.gateway.signing_key.upper() == fingerprint:
        return "the MASH"
    return None


def pinned_keys(config: Config) -> dict[str, str]:
    """Every fingerprint the configuration pins, and to whom."""
    pins = {a.key.upper(): f"agency {a.id}" for a in config.agency if a.key}
    pins.update({m.key.upper(): f"manager {m.address}" for m in config.manager if m.key})
    if config.gateway.signing_key:
        pins[config.gateway.signing_key.upper()] = "the MASH"
    return pins


@dataclass(frozen=True)
class KeyProblem:
    fingerprint: str
    owner: str
    problem: str
    serious: bool  # False: a warning (expiring soon)


def key_problems(
    config: Config,
    keyring: Keyring | None,
    now: datetime,
    warn_within: timedelta = timedelta(days=30),
) -> list[KeyProblem]:
    """Pinned keys that are missing, expired or revoked, and those expiring soon (with no
    keyring yet, every pinned key is missing)."""
    keys = {k.fingerprint: k for k in keyring.list_keys()} if keyring is not None else {}
    out = []
    for fingerprint, owner in sorted(pinned_keys(config).items(), key=lambda item: item[1]):
        key = keys.get(fingerprint)
        if key is None:
            out.append(KeyProblem(fingerprint, owner, "not in the keyring", True))
            continue
        if owner == "the MASH" and not key.secret:
            out.append(KeyProblem(fingerprint, owner, "its secret key is not in the keyring", True))
        problem = key.problem(now, "sign" if owner.startswith("manager") else "encrypt")
        if problem:
            out.append(KeyProblem(fingerprint, owner, problem, True))
        elif key.expires is not None and key.expires <= now + warn_within:
            expires = key.expires.date().isoformat()
            out.append(KeyProblem(fingerprint, owner, f"expires on {expires}", False))
    return out


def keyring_from_config(config: Config, *, create: bool = True) -> Keyring | None:
    """The gateway's keyring, when `gateway.gnupg_home` is set. The signing passphrase is read
    only when the secret key is first used; `create=False` never makes the keyring's folder."""
    gateway = config.gateway
    if not gateway.gnupg_home:
        return None
    secret = gateway.signing_passphrase
    what = (
        "gateway.signing_key_passphrase_env"
        if gateway.signing_key_passphrase_env
        else "gateway.signing_key_passphrase_file"
    )
    return Keyring(
        Path(gateway.gnupg_home),
        signing_key=gateway.signing_key,
        passphrase_source=(lambda: secret.resolve(what)) if secret else None,
        create=create,
    )


def _failure(statuses: list[Status]) -> str:
    for s in statuses:
        if s.keyword in ("INV_RECP", "INV_SGNR", "FAILURE", "ERROR", "KEYEXPIRED", "KEYREVOKED"):
            return f"{s.keyword} {' '.join(s.args)}"
    return "no result from gpg"


def expiring(keys: list[KeyInfo], now: datetime, within: timedelta) -> list[KeyInfo]:
    return [k for k in keys if k.expires is not None and now < k.expires <= now + within]
