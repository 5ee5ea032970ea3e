"""`mash-gateway decide`, `audit show|export` and `templates preview`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from gateway.cli.common import State, acting_manager, common, emit, letters_for, pass_state
from gateway.domain.managers import describe
from gateway.domain.withheld import WITHHELD


@click.command()
@common
@click.argument("reference")
@click.option(
    "--decision",
    type=click.Choice(["A", "B", "C", "D"], case_sensitive=False),
    help="A no further action; B Section 17/47 assessment; C social care screening in the "
    "MASH; D early help screening.",
)
@click.option(
    "--outcome",
    type=click.Choice(
        [
            "advice-and-guidance",
            "community-service",
            "early-help",
            "statutory-assessment",
            "no-further-action",
            "forwarded-to-unit",
        ]
    ),
    help="The outcome; the referrer gets its letter unless --no-letter. Needs a screening "
    "decision first, or --decision in the same command.",
)
@click.option("--reason", required=True, help="Why (recorded with your name).")
@click.option(
    "--section", type=click.Choice(["17", "47"]), help="With B or a statutory assessment."
)
@click.option("--no-letter", is_flag=True, help="Withhold the outcome letter; --reason says why.")
@click.option("--letter-reason", help="Why the letter is withheld, if not the --reason.")
@click.option(
    "--letter-category",
    type=click.Choice(list(WITHHELD)),
    help="With --no-letter: the kind of reason, as the steering group's report counts it.",
)
@click.option(
    "--by",
    "decided_by",
    help="The [[manager]] deciding (name or address) [default: the one whose os_user you are].",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def decide(
    state: State,
    reference: str,
    decision: str | None,
    outcome: str | None,
    reason: str,
    section: str | None,
    no_letter: bool,
    letter_reason: str | None,
    letter_category: str | None,
    decided_by: str | None,
    as_json: bool,
) -> None:
    """Record a screening decision or an outcome on contact REFERENCE."""
    from gateway.domain.decisions import DecisionError, DecisionRequest, record
    from gateway.domain.sharing import NoAgreement

    config = state.config()
    manager = acting_manager(config, decided_by)
    db = state.database(config)
    request = DecisionRequest(
        reference=reference.strip().upper(),
        reason=reason,
        decided_by=describe(manager),
        decision=decision.upper() if decision else None,
        outcome=outcome,
        section=section,
        letter=not no_letter,
        letter_withheld_reason=(letter_reason or reason) if no_letter else None,
        letter_withheld_category=letter_category if no_letter else None,
    )
    try:
        with db.transaction() as session:
            done = record(
                session,
                config,
                letters_for(config),
                state.clock().now(),
                request,
            )
    except NoAgreement as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(2) from None
    except DecisionError as exc:
        raise click.ClickException(str(exc)) from None

    def text(lines: list[str]) -> None:
        for line in lines:
            click.echo(line)
        click.echo("recorded; the running gateway sends any letters (or `mash-gateway run --once`)")

    emit(done, as_json, text)


@click.command("show")
@common
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def audit_show(state: State, reference: str, as_json: bool) -> None:
    """A contact's whole timeline: messages in and out, shares, decisions, letters."""
    from gateway.reports.audit import as_row, share_lines, timeline_events
    from gateway.store import ledger

    db = state.read_database(state.config())
    with db.transaction() as session:
        # This contact's rows only, each against its hash and the row before it: no chain walk.
        events = timeline_events(session, reference.strip().upper())
        intact = not ledger.verify_rows(session, events)
        rows = [as_row(e) for e in events]
    if not rows:
        raise click.ClickException(f"nothing recorded about {reference}")
    data = {"reference": reference.strip().upper(), "ledger_intact": intact, "timeline": rows}

    def text(d: dict[str, Any]) -> None:
        click.echo(f"{d['reference']}  (ledger {'intact' if d['ledger_intact'] else 'TAMPERED'})")
        for row in d["timeline"]:
            who = f" to {row['recipient']}" if row["recipient"] else ""
            why = f": {row['purpose']}" if row["purpose"] else ""
            click.echo(
                f"{row['at']}  {row['kind']:<11} {row['action']:<18} by {row['actor']}{who}{why}"
            )
            for line in share_lines(row["detail"]):
                click.echo(f"{'':>34}{line}")

    emit(data, as_json, text)


@click.command("export")
@common
@click.option("--from", "start", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option(
    "--to",
    "end",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Inclusive: the whole of this day.",
)
@click.option("--output", type=click.Path(dir_okay=False), help="Write here, not to stdout.")
@pass_state
def audit_export(
    state: State,
    start: datetime,
    end: datetime,
    output: str | None,
) -> None:
    """Ledger rows between two dates (UTC) as CSV, for inspection and subject-access requests."""
    from gateway.reports.audit import export_csv

    if end < start:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    db = state.read_database(state.config())
    with db.transaction() as session:
        text = export_csv(
            session, start.replace(tzinfo=UTC), end.replace(tzinfo=UTC) + timedelta(days=1)
        )
    if output:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        click.echo(f"wrote {output}", err=True)
    else:
        sys.stdout.write(text)


@click.group()
def templates() -> None:
    """The letters the gateway sends (templates/)."""


@templates.command("preview")
@click.argument("name", required=False)
@click.option("--html", "as_html", is_flag=True, help="The HTML part, not the text part.")
@click.option("--public", is_flag=True, help="An outcome letter as the public gets it.")
@click.option("--section", type=click.Choice(["17", "47"]), help="A statutory section.")
def templates_preview(name: str | None, as_html: bool, public: bool, section: str | None) -> None:
    """Render template NAME with sample data (no NAME: list them)."""
    from gateway.outbound.compose import Letters
    from gateway.outbound.samples import SAMPLES

    letters = Letters()
    if not name:
        for known in letters.names():
            click.echo(known)
        return
    if name not in letters.names():
        raise click.ClickException(
            f"no template {name!r}; `mash-gateway templates preview` lists them"
        )
    values = dict(SAMPLES[name])
    if public and "public" in values:
        values.update(public=True, children=[], child_names="the child")
    if section:
        values["section"] = section
    subject, text, html = letters.render(name, values)
    click.echo(f"Subject: {subject}\n")
    click.echo(html if as_html else text)
