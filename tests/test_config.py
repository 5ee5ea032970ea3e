"""Configuration: typed and frozen; every error names the file, the key and the line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).parent.parent

GOOD = """\
[gateway]
mash_address = "mash@hackney.example"

[smtp]
host = "smtp.hackney.example"
username = "gw"
password_env = "SMTP_PASSWORD"

[[mailbox]]
name = "front-door"
role = "front-door"
host = "imap.hackney.example"
username = "mash"
password_env = "IMAP_PASSWORD"

[[mailbox]]
name = "police"
role = "partner"
host = "imap.police.example"
username = "mash-police"
password_file = "/run/secrets/police"
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "mailboxes.toml")
    return info.value.problems


def test_sample_config_loads_and_is_frozen() -> None:
    config = load_config(ROOT / "mailboxes.toml")
    assert config.gateway.timezone == "Europe/London"
    assert config.mailbox[0].idle_renew == timedelta(minutes=9)
    assert config.mailbox[1].oauth2 is not None
    with pytest.raises(ValidationError):
        config.gateway.mash_address = "x@y.example"  # type: ignore[misc]


def test_defaults() -> None:
    config = parse_config(GOOD, "mailboxes.toml")
    assert config.gateway.database == "sqlite:///mash-gateway.db"
    assert config.smtp.tls == "starttls" and config.smtp.effective_port == 587
    assert config.mailbox[0].folder == "INBOX"
    assert config.mailbox[0].effective_port == 993
    assert config.gateway.mailbox_alert_after == timedelta(minutes=10)


def test_unknown_key_names_file_key_and_line() -> None:
    text = GOOD.replace('username = "mash-police"', 'username = "mash-police"\nfoldr = "X"')
    assert problems(text) == ["mailboxes.toml:21: mailbox[2].foldr: unknown key"]


def test_wrong_type_names_line() -> None:
    text = GOOD.replace(
        'host = "smtp.hackney.example"', 'host = "smtp.hackney.example"\nport = "25"'
    )
    (problem,) = problems(text)
    assert problem.startswith("mailboxes.toml:6: smtp.port: ")
    assert "integer" in problem


def test_missing_required_key_points_at_its_table() -> None:
    text = GOOD.replace('mash_address = "mash@hackney.example"\n', "")
    assert problems(text) == ["mailboxes.toml:1: gateway.mash_address: required key is missing"]


def test_missing_table() -> None:
    text = GOOD.replace(
        '[smtp]\nhost = "smtp.hackney.example"\nusername = "gw"\npassword_env = "SMTP_PASSWORD"\n',
        "",
    )
    assert problems(text) == ["mailboxes.toml: smtp: required key is missing"]


def test_secret_in_file_refused() -> None:
    text = GOOD.replace('password_env = "IMAP_PASSWORD"', 'password = "hunter2"')
    (problem,) = problems(text)
    assert problem.startswith("mailboxes.toml:14: mailbox[1].password: secrets never go")
    assert "hunter2" not in problem


def test_plain_smtp_only_to_loopback() -> None:
    text = GOOD.replace('username = "gw"', 'tls = "none"\nusername = "gw"')
    (problem,) = problems(text)
    assert "loopback" in problem and problem.startswith("mailboxes.toml:4: smtp")
    parse_config(text.replace("smtp.hackney.example", "127.0.0.1"), "mailboxes.toml")


def test_bad_duration_and_enum() -> None:
    text = GOOD.replace('role = "partner"', 'role = "partners"\nidle_renew = "5 parsecs"')
    found = problems(text)
    assert any(p.startswith("mailboxes.toml:18: mailbox[2].role:") for p in found)
    assert any(
        p.startswith("mailboxes.toml:19: mailbox[2].idle_renew:") and "unit" in p for p in found
    )


def test_idle_renew_capped_at_ten_minutes() -> None:
    text = GOOD.replace('role = "partner"', 'role = "partner"\nidle_renew = "29 minutes"')
    (problem,) = problems(text)
    assert "at most 10 minutes" in problem


def test_duplicate_mailbox_names() -> None:
    text = GOOD.replace('name = "police"', 'name = "front-door"')
    (problem,) = problems(text)
    assert "duplicate [[mailbox]] name 'front-door'" in problem


def test_bad_address_and_fingerprint() -> None:
    text = GOOD + (
        '\n[[agency]]\nid = "police"\nname = "Police"\ncheck_address = "not an address"\n'
        'reply_from = ["*@police.example"]\nsecurity = "pgp"\nkey = "DEADBEEF"\n'
    )
    found = problems(text)
    assert any(":26: agency[1].check_address:" in p for p in found)
    assert any(":29: agency[1].key:" in p and "fingerprint" in p for p in found)


def test_toml_syntax_error_has_line() -> None:
    (problem,) = problems(GOOD + "\n[broken\n")
    assert problem.startswith("mailboxes.toml: TOML syntax error") and "line 23" in problem


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "missing.toml")
    assert "missing.toml" in str(info.value)


def test_secret_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = parse_config(GOOD, "mailboxes.toml")
    monkeypatch.delenv("IMAP_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="IMAP_PASSWORD is not set"):
        config.mailbox[0].password.resolve("mailbox front-door")
    monkeypatch.setenv("IMAP_PASSWORD", "s3cret")
    assert config.mailbox[0].password.resolve("x") == "s3cret"
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    text = GOOD.replace("/run/secrets/police", str(secret))
    assert parse_config(text, "m.toml").mailbox[1].password.resolve("x") == "from-file"
