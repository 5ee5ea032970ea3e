"""`mash-gateway alerts ...` and `outbox ...`: urgent alerts and their acknowledgement; mail
that could not be delivered, and sending it again."""

from __future__ import annotations

from typing import Any

import click

from gateway.cli.common import State, acting_manager, common, emit, pass_state
from gateway.config import Config
from gateway.domain.managers import describe


def manager_named(config: Config, by: str) -> str:
    """The manager BY names, as the record names them; anyone else: exit 2 (only a manager
    acknowledges an alert or sends mail again)."""
    return describe(acting_manager(config, by))


@click.group()
def alerts() -> None:
    """Urgent alerts: who acknowledged them, and which are still open."""


@alerts.command("list")
@common
@click.option("--open", "open_only", is_flag=True, help="Only alerts nobody has acknowledged.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def alerts_list(state: State, open_only: bool, as_json: bool) -> None:
    """List urgent alerts, oldest first."""
    from gateway.domain.alerts import listing

    db = state.read_database(state.config())
    with db.transaction() as session:
        rows = listing(session, open_only=open_only)

    def text(items: list[dict[str, Any]]) -> None:
        if not items:
            click.echo("no open alerts" if open_only else "no alerts")
        for a in items:
            who = (
                f"acknowledged by {a['acknowledged_by']} at {a['acknowledged_at']}"
                if a["acknowledged_at"]
                else f"{a['state']}, escalations {a['escalations']}"
            )
            click.echo(
                f"{a['id']:>5}  {a['raised_at']}  {a['reference'] or '-':<16} "
                f"{a['title']}  [{who}]" + ("  (EDT)" if a["edt"] else "")
            )

    emit(rows, as_json, text)


@alerts.command("ack")
@common
@click.argument("alert_id", metavar="ID", type=int)
@click.option("--by", "by", required=True, metavar="MANAGER", help="The manager acknowledging.")
@pass_state
def alerts_ack(state: State, alert_id: int, by: str) -> None:
    """Acknowledge an urgent alert: its escalation stops."""
    from gateway.domain.alerts import acknowledge
    from gateway.store.alert_models import Alert

    config = state.config()
    who = manager_named(config, by)
    db = state.database(config)
    now = state.clock().now()
    with db.transaction() as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            raise click.ClickException(f"no alert {alert_id}")
        if not acknowledge(session, alert, who, now, via="command line", message_id=None):
            click.echo(
                f"alert {alert_id} was already acknowledged by {alert.acknowledged_by} "
                f"at {alert.acknowledged_at.isoformat() if alert.acknowledged_at else '?'}"
            )
            return
    click.echo(f"alert {alert_id} acknowledged by {who}")


@click.group()
def outbox() -> None:
    """Outbound mail: what failed, and sending it again."""


@outbox.command("list")
@common
@click.option("--failed", is_flag=True, help="Only mail that could not be delivered.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def outbox_list(state: State, failed: bool, as_json: bool) -> None:
    """List outbox rows, newest last (recipients, purpose, state and the server's reason)."""
    from gateway.outbound.failed import listing

    db = state.read_database(state.config())
    with db.transaction() as session:
        rows = listing(session, failed_only=failed)

    def text(items: list[dict[str, Any]]) -> None:
        if not items:
            click.echo("nothing failed" if failed else "the outbox is empty")
        for r in items:
            click.echo(
                f"{r['id']:>6}  {r['state']:<8} {r['created_at']}  {r['purpose']}  "
                f"to {', '.join(r['recipients'])}"
                + (f"\n        reason: {r['reason']}" if r["reason"] else "")
            )

    emit(rows, as_json, text)


@outbox.command("retry")
@common
@click.argument("row_id", metavar="ID", type=int)
@click.option("--by", "by", required=True, metavar="MANAGER", help="The manager asking.")
@pass_state
def outbox_retry(state: State, row_id: int, by: str) -> None:
    """Send a failed or bounced message again (after the address or the server is fixed)."""
    from gateway.domain.checks.records import resend_undeliverable
    from gateway.outbound.failed import RetryRefused, retry

    config = state.config()
    who = manager_named(config, by)
    db = state.database(config)
    now = state.clock().now()
    with db.transaction() as session:
        try:
            row = retry(session, row_id, who, now)
        except RetryRefused as exc:
            raise click.ClickException(str(exc)) from None
        resent_check = resend_undeliverable(session, row.header_message_id, now, who)
    click.echo(f"outbox row {row_id} queued again by {who}; the daemon sends it")
    if resent_check:
        click.echo("its check is waiting for an answer again")
