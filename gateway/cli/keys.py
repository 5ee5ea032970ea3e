"""`mash-gateway keys ...`: the gateway's own keyring. Keys are only ever imported by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gateway.cli.common import State, common, emit, pass_state
from gateway.config import Config
from gateway.crypto.keyring import Keyring


def _keyring(config: Config, *, create: bool = True) -> Keyring | None:
    """The configured keyring; None when a read-only command finds none there yet."""
    from gateway.crypto.keyring import CryptoError, MissingKeyring, keyring_from_config

    try:
        keyring = keyring_from_config(config, create=create)
    except MissingKeyring as exc:
        click.echo(f"note: {exc}", err=True)
        return None
    except CryptoError as exc:
        raise click.ClickException(str(exc)) from None
    if keyring is None:
        raise click.ClickException("no keyring: set gateway.gnupg_home in the configuration")
    return keyring


@click.group()
def keys() -> None:
    """OpenPGP keys: the MASH's, the agencies' and the managers' (pinned by fingerprint)."""


@keys.command("import")
@common
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_state
def keys_import(state: State, file: Path) -> None:
    """Import the keys in FILE (armored or binary) into the gateway's keyring."""
    from gateway.crypto.keyring import pinned_keys

    config = state.config()
    keyring = _keyring(config)
    assert keyring is not None  # created when missing
    imported = keyring.import_keys(file.read_bytes())
    if not imported:
        raise click.ClickException(f"{file}: no OpenPGP key found")
    pins = pinned_keys(config)
    for fingerprint in imported:
        click.echo(f"imported {fingerprint}  ({pins.get(fingerprint, 'not pinned to anyone')})")


@keys.command("list")
@common
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def keys_list(state: State, as_json: bool) -> None:
    """Every key in the keyring: fingerprint, owner, expiry, and the agency or manager pinned."""
    from gateway.crypto.keyring import pinned_keys

    config = state.config()
    pins = pinned_keys(config)
    now = state.clock().now()
    keyring = _keyring(config, create=False)
    rows = [
        {
            "fingerprint": k.fingerprint,
            "owner": list(k.uids),
            "expires": k.expires.isoformat() if k.expires else None,
            "revoked": k.revoked,
            "secret": k.secret,
            "pinned_to": pins.get(k.fingerprint),
            "problem": k.problem(now, "sign" if k.secret else "encrypt"),
        }
        for k in (keyring.list_keys() if keyring else [])
    ]

    def text(items: list[dict[str, Any]]) -> None:
        if not items:
            click.echo("the keyring is empty")
        for k in items:
            click.echo(
                f"{k['fingerprint']}  {', '.join(k['owner'])}  "
                f"expires {k['expires'] or 'never'}  {k['pinned_to'] or 'not pinned'}"
                + (f"  [{k['problem']}]" if k["problem"] else "")
            )

    emit(rows, as_json, text)


@keys.command("check")
@common
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def keys_check(state: State, as_json: bool) -> None:
    """Pinned keys missing, expired or revoked (exit 1), or expiring within 30 days."""
    from gateway.crypto.keyring import key_problems

    config = state.config()
    problems = key_problems(config, _keyring(config, create=False), state.clock().now())
    rows = [
        {
            "fingerprint": p.fingerprint,
            "owner": p.owner,
            "problem": p.problem,
            "serious": p.serious,
        }
        for p in problems
    ]

    def text(items: list[dict[str, Any]]) -> None:
        if not items:
            click.echo("every pinned key is present and current")
        for p in items:
            click.echo(
                f"{'ERROR' if p['serious'] else 'warning'}: {p['owner']}'s key "
                f"{p['fingerprint']} {p['problem']}"
            )

    emit(rows, as_json, text)
    if any(p.serious for p in problems):
        raise SystemExit(1)
