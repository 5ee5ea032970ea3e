"""The keyring's gpg plumbing: python-gnupg's calls with their input and output on the calling
thread give python-gnupg's own results, and a passphrase-protected MASH key works (and a wrong
passphrase fails closed)."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import gnupg
import pytest
from pgp_world import Party

from gateway.crypto.keyring import GPG_OPTIONS, CryptoError, Keyring, status_lines


@pytest.fixture
def homes(tmp_path: Path) -> Iterator[Path]:
    # gpg's agent socket lives in its home: a short path.
    yield tmp_path
    for home in tmp_path.iterdir():
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


def _keywords(stderr: str) -> list[str]:
    return [s.keyword for s in status_lines(stderr)]


def test_calls_on_the_calling_thread_give_python_gnupgs_results(
    homes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mash = Party(homes, "MASH", "mash@hackney.example")
    police = Party(homes, "Police", "police@met.example")
    police.learn(mash.public())
    keyring = Keyring(homes / "gateway")
    keyring.import_keys(mash.secret())
    keyring.import_keys(police.public())
    stock = gnupg.GPG(gnupghome=str(keyring.home), options=list(GPG_OPTIONS))
    stock.encoding = "utf-8"
    text = b"What police know about the household.\r\n" * 50
    ciphertext = police.encrypt(text, [mash.fingerprint])
    signature = police.detach_sign(text)

    started = []
    real_start = threading.Thread.start
    monkeypatch.setattr(
        threading.Thread, "start", lambda self: (started.append(self), real_start(self))[1]
    )
    ours = keyring.decrypt(ciphertext)
    verified = keyring.verify_detached(text, signature)
    broken = keyring.decrypt(b"-----BEGIN PGP MESSAGE-----\n\nnot one\n-----END PGP MESSAGE-----\n")
    assert started == [], "no thread per call"
    monkeypatch.setattr(threading.Thread, "start", real_start)

    theirs = stock.decrypt(ciphertext)
    assert ours.ok and ours.plaintext == bytes(theirs.data) == text
    assert [s.keyword for s in ours.statuses] == _keywords(theirs.stderr)
    assert "VALIDSIG" in [s.keyword for s in ours.statuses]
    with (homes / "detached.sig").open("wb") as sig:
        sig.write(signature)
    stock_verified = stock.verify_data(str(homes / "detached.sig"), text)
    assert [s.keyword for s in verified.statuses] == _keywords(stock_verified.stderr)
    assert stock_verified.valid
    assert not broken.ok and broken.plaintext == b""
    # python-gnupg's result objects are filled in as its own reader threads fill them.
    result = keyring._gpg.decrypt(ciphertext)
    assert result.ok and result.returncode == 0 and result.fingerprint == police.fingerprint


def test_a_passphrase_protected_mash_key(homes: Path) -> None:
    home = homes / "mash"
    home.mkdir(mode=0o700)

    def gpg(*args: str, data: bytes | None = None) -> bytes:
        return subprocess.run(
            ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback", *args],
            input=data,
            capture_output=True,
            check=True,
        ).stdout

    gpg("--passphrase", "correct horse", "--quick-gen-key", "MASH <mash@x.example>", "ed25519")
    fingerprint = next(
        line.split(":")[9]
        for line in gpg("--list-keys", "--with-colons").decode().splitlines()
        if line.startswith("fpr:")
    )
    gpg("--passphrase", "correct horse", "--quick-add-key", fingerprint, "cv25519", "encr")
    ciphertext = gpg(
        "--trust-model", "always", "--armor", "--encrypt", "-r", fingerprint, data=b"for the MASH"
    )
    # A wrong passphrase first: the agent caches a right one.
    wrong = Keyring(home, signing_key=fingerprint, passphrase="wrong")
    assert not wrong.decrypt(ciphertext).ok
    with pytest.raises(CryptoError):
        wrong.sign_detached(b"a letter")
    right = Keyring(home, signing_key=fingerprint, passphrase="correct horse")
    opened = right.decrypt(ciphertext)
    assert opened.ok and opened.plaintext == b"for the MASH"
    assert right.sign_detached(b"a letter").startswith(b"-----BEGIN PGP SIGNATURE-----")
