"""`mash-gateway inspect`: what the gateway would decide for raw messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from gateway.cli.common import State, common, pass_state, read_keyring
from gateway.config import Config, parse_config
from gateway.store.db import Database, SchemaOutOfDate


@click.command()
@common
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def inspect(state: State, files: tuple[str, ...], as_json: bool) -> None:
    """Show what the gateway would decide for raw messages; changes nothing."""
    config = _config_or_default(state)
    now = state.clock().now()
    keyring = read_keyring(config)
    with _read_only_lookup(state, config) as lookup:
        results = _inspect_files(files, config, now, lookup, keyring)
    if as_json:
        click.echo(json.dumps(results[0] if len(results) == 1 else results, indent=2))
        return
    for result in results:
        click.echo(
            f"{result['file']}: {result['kind']}"
            + (" (automatic)" if result["auto_reply"] else "")
            + (
                f", quarantine: {result['quarantine_reason']}"
                if result["quarantine_reason"]
                else ""
            )
        )
        for reason in result["reasons"]:
            click.echo(f"  {reason}")


@contextmanager
def _read_only_lookup(state: State, config: Config) -> Iterator[Any]:
    """The configured database, read in a transaction that is rolled back; None when there
    is no configuration file or its SQLite file does not exist (inspect creates nothing)."""
    from sqlalchemy.engine import make_url

    from gateway.inbound.processing import DbLookup

    url = make_url(config.gateway.database)
    missing_file = url.get_backend_name() == "sqlite" and not Path(url.database or "").exists()
    if not state.config_file.exists() or missing_file:
        yield None
        return
    db = Database(config.gateway.database)
    try:
        try:
            db.require_current()
        except SchemaOutOfDate as exc:
            click.echo(f"note: not matching checks: {exc}", err=True)
            yield None
            return
        with db.engine.connect() as connection:
            from sqlalchemy.orm import Session

            with Session(bind=connection) as session:
                yield DbLookup(session)
                session.rollback()
    finally:
        db.dispose()


def _inspect_files(
    files: tuple[str, ...], config: Config, now: datetime, lookup: Any, keyring: Any
) -> list[dict[str, Any]]:
    from gateway.inbound.inspection import inspect_bytes

    results = []
    for name in files:
        try:
            raw = Path(name).read_bytes()
        except OSError as exc:
            result: dict[str, Any] = {
                "kind": "unknown",
                "auto_reply": False,
                "quarantine_reason": f"unreadable: {exc.strerror}",
                "reasons": [],
            }
        else:
            result = inspect_bytes(raw, config, now, lookup, keyring)
        results.append({"file": name, **result})
    return results


def _config_or_default(state: State) -> Config:
    if state.config_file.exists():
        return state.config()
    click.echo(f"note: {state.config_file} not found; inspecting with default settings", err=True)
    return parse_config(
        '[gateway]\nmash_address = "mash@localhost.localdomain"\n'
        '[smtp]\nhost = "127.0.0.1"\ntls = "none"\n',
        "(defaults)",
    )
