"""`mash-gateway retention run [--dry-run]`: delete the raw mail of long-closed contacts."""

from __future__ import annotations

from typing import Any

import click

from gateway.cli.common import State, common, emit, pass_state


@click.group()
def retention() -> None:
    """How long raw mail is kept ([retention] raw_messages_after)."""


@retention.command("run")
@common
@click.option("--dry-run", is_flag=True, help="Say what would be deleted; delete nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def retention_run(state: State, dry_run: bool, as_json: bool) -> None:
    """Delete the raw bytes and attachments of contacts closed longer than
    [retention] raw_messages_after (the daemon also does it daily). The contact, its record
    and the ledger stay; the ledger records each purge."""
    from gateway.domain.retention import describe, run

    config = state.config()
    if config.retention.raw_messages_after is None:
        click.echo("retention is off: [retention] raw_messages_after is not set; nothing deleted")
        return
    db = state.database(config)
    now = state.clock().now()
    purged: list[dict[str, Any]] = []
    while True:
        with db.transaction() as session:
            batch = [p.as_json() for p in run(session, config, now, dry_run=dry_run)]
            if dry_run:
                session.rollback()
        purged.extend(batch)
        if dry_run or not batch:
            break

    def text(items: list[dict[str, Any]]) -> None:
        verb = "would delete" if dry_run else "deleted"
        for p in items:
            click.echo(
                f"{p['reference']} (closed {p['closed_at']}): {verb} {p['messages']} message(s), "
                f"{p['attachments']} attachment(s), {p['sent_mail']} sent mail, {p['bytes']} bytes"
            )
        click.echo(
            f"{len(items)} contact(s); raw mail is {describe(config)}"
            + ("; dry run: nothing changed" if dry_run else "")
        )

    emit(purged, as_json, text)
