"""`mash-gateway status`: counts and health."""

from __future__ import annotations

from typing import Any

import click

from gateway.cli.common import State, common, emit, pass_state


@click.command()
@common
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def status(state: State, as_json: bool) -> None:
    """Counts and health."""
    from gateway.reports.status import status as compute

    config = state.config()
    data = compute(state.read_database(config), config, state.clock().now())

    def text(d: dict[str, Any]) -> None:
        m, o = d["messages"], d["outbox"]
        click.echo(
            f"messages: {m['ingested']} ingested, {m['processed']} processed, "
            f"{m['quarantined']} quarantined, {m['pending']} pending"
        )
        for reason, n in d["quarantine_reasons"].items():
            click.echo(f"  quarantined for {reason}: {n}")
        click.echo(
            f"outbox: {o['pending']} pending, {o['sent']} sent, {o['failed']} failed, "
            f"{o['bounced']} bounced"
            + (f", {o['held']} HELD (no usable OpenPGP key)" if o["held"] else "")
        )
        for name, box in d["mailboxes"].items():
            health = f"error: {box['error']}" if box["error"] else "ok"
            watcher = f", watched by {box['watched_by']}" if box["watched_by"] else ""
            click.echo(
                f"mailbox {name}: last poll {box['last_poll'] or 'never'}, {health}{watcher}"
            )
        for name, instance in d["instances"].items():
            click.echo(
                f"instance {name} (pid {instance['pid']} on {instance['host']}): last heartbeat "
                f"{instance['heartbeat_at']}" + ("" if instance["alive"] else ", NOT ANSWERING")
            )

    emit(data, as_json, text)
