"""The referrer's voice: `contacts set-referrer`, `disagreements list|resolve`, `rfi answer`."""

from __future__ import annotations

import getpass

import click

from gateway.cli.common import State, common, pass_state


def _manager(state: State, by: str | None) -> str:
    """The `--by` manager as the record names them; exit 2 listing the managers otherwise."""
    from gateway.domain.managers import UnknownManager, resolve_manager

    config = state.config()
    try:
        manager = resolve_manager(config, by, getpass.getuser())
    except UnknownManager as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    return f"{manager.name} <{manager.address}>"


@click.command("set-referrer")
@common
@click.argument("reference")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["public", "professional", "family"]),
    help="Who the referrer is: decides which letters they get.",
)
@click.option("--by", help="The manager correcting it [default: the login name's manager].")
@pass_state
def set_referrer(state: State, reference: str, kind: str, by: str | None) -> None:
    """Correct who the referrer of REFERENCE is (their later letters follow it)."""
    from gateway.domain.referrer import ReferrerError, set_kind

    config = state.config()
    who = _manager(state, by)
    db = state.database(config)
    try:
        with db.transaction() as session:
            line = set_kind(session, state.clock().now(), reference.strip().upper(), kind, who)
    except ReferrerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(line)
