"""The `mash-gateway` command line: the group and its options; each subject's commands live in
their own module and are registered here explicitly, so no module imports this one."""

from __future__ import annotations

import click

from gateway.cli import (
    alerts,
    audit,
    checks,
    consent,
    contacts,
    daemon,
    decisions,
    demo,
    inspect,
    keys,
    quarantine,
    reports,
    retention,
    status,
    voice,
)
from gateway.cli.common import GatewayGroup, State, setup_logging


@click.group(cls=GatewayGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    "config_file",
    metavar="FILE",
    envvar="MASH_GATEWAY_CONFIG",
    help="Configuration file [default: $MASH_GATEWAY_CONFIG, else ./mailboxes.toml].",
)
@click.option("--now", metavar="ISO-8601", help="Fix the clock (with a UTC offset), for replays.")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
@click.option(
    "--log-format", default="text", show_default=True, type=click.Choice(["text", "json"])
)
@click.version_option(package_name="mash-gateway")
@click.pass_context
def cli(
    ctx: click.Context, config_file: str | None, now: str | None, log_level: str, log_format: str
) -> None:
    """Secure email-gateway automation for a children's Multi-Agency Safeguarding Hub."""
    setup_logging(log_level, log_format)
    ctx.obj = State(config_file, now)


for command in (
    daemon.run,
    daemon.check,
    daemon.db,
    demo.demo,
    status.status,
    inspect.inspect,
    quarantine.quarantine,
    contacts.contacts,
    contacts.cases,
    consent.consent,
    audit.audit,
    checks.checks,
    checks.digest,
    decisions.decide,
    decisions.templates,
    keys.keys,
    retention.retention,
    reports.report,
    voice.disagreements,
    voice.rfi,
    alerts.alerts,
    alerts.outbox,
):
    cli.add_command(command)
contacts.contacts.add_command(voice.set_referrer)
audit.audit.add_command(decisions.audit_show)
audit.audit.add_command(decisions.audit_export)


def main() -> None:
    cli(prog_name="mash-gateway")
