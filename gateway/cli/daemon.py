"""`mash-gateway run`, `check` and `db upgrade`: the daemon and its set-up."""

from __future__ import annotations

import click

from gateway.cli.common import State, common, pass_state
from gateway.config import ConfigError, load_config
from gateway.store.db import AnotherInstance, Database, SchemaOutOfDate


@click.command()
@common
@click.option("--once", is_flag=True, help="Process everything pending now, then exit.")
@pass_state
def run(state: State, once: bool) -> None:
    """Run the daemon: watch the mailboxes, process, send."""
    from gateway.daemon import Daemon

    config = state.config()
    daemon = Daemon(config, state.clock())
    try:
        daemon.prepare()
    except SchemaOutOfDate as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    if not once:
        try:
            daemon.run_forever()
        except AnotherInstance as exc:
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(2) from None
        return
    report = daemon.run_once()
    click.echo(
        f"ingested {report.ingested}, processed {report.processed}, sent {report.sent}, "
        f"deferred {report.deferred}, failed {report.failed}"
    )
    for name, error in report.mailbox_errors.items():
        click.echo(f"error: mailbox {name}: {error}", err=True)
    if report.mailbox_errors:
        raise SystemExit(3)


@click.command()
@common
@pass_state
def check(state: State) -> None:
    """Validate the configuration and try every connection."""
    from gateway.reports.checkup import run_checks

    try:
        config = load_config(state.config_file)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"problem: {problem}")
        raise SystemExit(1) from None
    problems = run_checks(config, state.clock())
    for line in problems:
        click.echo(f"problem: {line}")
    if problems:
        raise SystemExit(1)
    click.echo(f"ok: {state.config_file} is valid and every connection works")


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@common
@pass_state
def db_upgrade(state: State) -> None:
    """Apply the database migrations."""
    config = state.config()
    Database(config.gateway.database).upgrade()
    click.echo("database is up to date")
