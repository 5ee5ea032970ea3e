"""`mash-gateway quarantine ...`: messages held for a person."""

from __future__ import annotations

import sys
from typing import Any

import click

from gateway.cli.common import State, acting_manager, common, emit, pass_state
from gateway.domain.managers import describe


@click.group()
def quarantine() -> None:
    """Messages a person must look at."""


@quarantine.command("list")
@common
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def quarantine_list(state: State, as_json: bool) -> None:
    """List quarantined messages."""
    from gateway.inbound.quarantine import quarantine_list as listing

    rows = listing(state.read_database(state.config()))

    def text(items: list[dict[str, Any]]) -> None:
        if not items:
            click.echo("quarantine is empty")
        for r in items:
            click.echo(
                f"{r['id']:>6}  {r['received_at']}  {r['mailbox'] or '-':<12} "
                f"{r['kind'] or '-':<12} {r['reason']}"
            )

    emit(rows, as_json, text)


@quarantine.command("show")
@common
@click.argument("message_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--raw", is_flag=True, help="Print the raw message bytes.")
@pass_state
def quarantine_show(
    state: State,
    message_id: int,
    as_json: bool,
    raw: bool,
) -> None:
    """Show one message and why it is held."""
    from gateway.inbound.quarantine import quarantine_show as show
    from gateway.inbound.quarantine import raw_message

    db = state.read_database(state.config())
    if raw:
        data = raw_message(db, message_id)
        if data is None:
            raise click.ClickException(f"no message {message_id}")
        sys.stdout.buffer.write(data)
        return
    item = show(db, message_id)
    if item is None:
        raise click.ClickException(f"no message {message_id}")

    def text(d: dict[str, Any]) -> None:
        for key, value in d.items():
            if key == "steps":
                click.echo("steps:")
                for step in value:
                    click.echo(f"  {step}")
            else:
                click.echo(f"{key}: {value}")

    emit(item, as_json, text)


@quarantine.command("release")
@common
@click.argument("message_id", type=int)
@click.option(
    "--by",
    "actor",
    help="The [[manager]] releasing it (name or address) [default: the one whose os_user you are].",
)
@pass_state
def quarantine_release(state: State, message_id: int, actor: str | None) -> None:
    """Send a quarantined message through the pipeline again."""
    from gateway.inbound.quarantine import NotQuarantined
    from gateway.inbound.quarantine import quarantine_release as release

    config = state.config()
    manager = acting_manager(config, actor)
    db = state.database(config)
    try:
        release(db, message_id, state.clock().now(), describe(manager))
    except NotQuarantined as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"message {message_id} released; the next run processes it again")
