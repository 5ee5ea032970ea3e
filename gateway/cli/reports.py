"""`mash-gateway report`: the steering group's figures, charts and trends for a period."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from gateway.cli.common import State, common, letters_for, pass_state


def _formats(value: str) -> tuple[str, ...]:
    from gateway.reports.render import FORMATS

    chosen = tuple(dict.fromkeys(part.strip().lower() for part in value.split(",") if part.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise click.BadParameter(
            f"choose from {', '.join(FORMATS)} (comma-separated), not {value!r}",
            param_hint="--format",
        )
    return chosen


@click.command("report")
@common
@click.option(
    "--from",
    "first",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="First day of the period (YYYY-MM-DD, the MASH's own time zone).",
)
@click.option(
    "--to",
    "last",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last day of the period, included.",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write report.html, report.pdf, the CSVs and figures.json into.",
)
@click.option(
    "--format",
    "formats",
    default="html,csv",
    show_default=True,
    help="Any of html, pdf, csv, comma-separated (figures.json is always written).",
)
@click.option(
    "--email",
    is_flag=True,
    help="Also send it to the [reports] recipients (sealed where they have a key).",
)
@click.option("--no-progress", is_flag=True, help="No progress display on stderr.")
@pass_state
def report(
    state: State,
    first: datetime,
    last: datetime,
    out: Path,
    formats: str,
    email: bool,
    no_progress: bool,
) -> None:
    """Write the steering group's report for --from .. --to, with the previous period of the
    same length for the trends. Counts and rates only; a count under 5 is "fewer than 5"."""
    from gateway.reports.period import Period
    from gateway.reports.render import write
    from gateway.reports.schedule import send_now
    from gateway.reports.steering import build

    chosen = _formats(formats)
    config = state.config()
    clock = state.clock()
    try:
        period = Period(first.date(), last.date(), ZoneInfo(config.gateway.timezone))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--to") from None
    if email and not config.reports.recipients:
        raise click.UsageError("--email needs [reports] recipients in the configuration")
    # Only --email writes (the outbox); otherwise the report reads and never migrates.
    db = state.database(config) if email else state.read_database(config)
    now = clock.now()
    with _progress(not no_progress) as step:
        result = build(db, config, period, now, step)
        written = write(result, out, chosen, step)
        if email:
            step("queuing the mail")
            sent = send_now(db, config, letters_for(config), now, result, chosen)
    for path in written:
        click.echo(str(path))
    if email:
        click.echo(f"queued for {sent} reader(s); the daemon sends it")


class _Steps:
    """click's progress bar on stderr, one tick per step (click draws it only on a terminal:
    a large database takes seconds, a log file needs no bar)."""

    TOTAL = 14  # five figure steps for each period, then tables, page, PDF, mail

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.current: str = ""
        self.bar: Any = click.progressbar(
            length=self.TOTAL,
            label="report",
            file=sys.stderr,
            item_show_func=lambda _item: self.current,
        )

    def __enter__(self) -> _Steps:
        if self.enabled:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.bar.__exit__(None, None, None)

    def __call__(self, description: str) -> None:
        self.current = description
        if self.enabled:
            self.bar.update(1)


def _progress(enabled: bool) -> _Steps:
    return _Steps(enabled)
