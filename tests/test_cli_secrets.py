"""Secrets are read when used, read-only commands write nothing, and a configuration problem is
one line naming the file, the key and the fix (exit 2), never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
MAIL = Path(__file__).parent / "data" / "mail"
SECRETS = ("MASH_SIGNING_PASSPHRASE", "MASH_SMTP_PASSWORD", "MASH_IMAP_PASSWORD")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """The repository's sample configuration in a fresh folder: no state, no database yet. Its
    servers are pointed at a closed loopback port, so nothing leaves the machine."""
    text = (ROOT / "mailboxes.toml").read_text(encoding="utf-8")
    for host in ("smtp.hackney.example", "imap.hackney.example", "outlook.office365.com"):
        assert f'host = "{host}"' in text
        text = text.replace(f'host = "{host}"', 'host = "127.0.0.1"')
    text = text.replace("port = 993", "port = 9").replace("port = 587", "port = 9")
    (tmp_path / "mailboxes.toml").write_text(text, encoding="utf-8")
    return tmp_path


def _run(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith("MASH_")}
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--help",), 0),
        (("inspect", str(MAIL / "person-plain.eml")), 0),
        (("inspect", "--json", str(MAIL / "ooo-outlook.eml")), 0),
        (("templates", "preview", "ack_public"), 0),
        (("keys", "list"), 0),
        (("status",), 2),
        (("digest", "--dry-run"), 2),
        (("contacts", "list"), 2),
        (("checks", "list"), 2),
        (("quarantine", "list"), 2),
        (("audit", "verify"), 2),
    ],
)
def test_read_only_commands_need_no_secret_and_write_nothing(
    site: Path, args: tuple[str, ...], code: int
) -> None:
    done = _run(site, *args)
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    # Nothing made: no state folder, no keyring, no database.
    assert sorted(p.name for p in site.iterdir()) == ["mailboxes.toml"]
    if code == 2:
        assert "no database at state/mash-gateway.db" in done.stderr
        assert "mash-gateway db upgrade" in done.stderr


def test_check_reports_a_missing_secret_as_a_problem_line(site: Path) -> None:
    done = _run(site, "check")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert "environment variable MASH_SMTP_PASSWORD is not set" in done.stdout
    assert not (site / "state" / "gnupg").exists()
    assert not (site / "state" / "mash-gateway.db").exists()


def test_a_secret_missing_when_it_is_needed_is_one_line_and_exit_2(site: Path) -> None:
    # The SMTP password is needed only to send: `run --once` gets that far, then stops clearly.
    done = _run(site, "run", "--once")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: mailboxes.toml: smtp: environment variable MASH_SMTP_PASSWORD is not set; set "
        "it in the environment this command runs in (never in the file)"
    ]


def test_the_signing_passphrase_is_read_only_when_signing(tmp_path: Path) -> None:
    from gateway.config import ConfigError, Secret
    from gateway.crypto.keyring import CryptoError, Keyring

    calls: list[str] = []

    def source() -> str:
        calls.append("read")
        raise ConfigError(["gateway.signing_key_passphrase_env: environment variable X is not set"])

    keyring = Keyring(tmp_path / "gnupg", signing_key="0" * 40, passphrase_source=source)
    assert keyring.list_keys() == [] and calls == []
    with pytest.raises(CryptoError, match="environment variable X is not set"):
        keyring.sign_detached(b"hello")
    assert calls == ["read"]
    assert Secret(env="X").model_dump() == {"env": "X", "file": None}
