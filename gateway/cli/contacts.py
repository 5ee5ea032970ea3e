"""`mash-gateway contacts ...` and `cases import`: contact records and the open-cases register."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from gateway.cli.common import State, common, emit, pass_state
from gateway.store import ledger


@click.group()
def contacts() -> None:
    """Contact records made from referrals."""


@contacts.command("list")
@common
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--incomplete", is_flag=True, help="Only contacts missing mandatory fields.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Received on or after.")
@click.option(
    "--limit",
    type=click.IntRange(1, 10_000),
    default=500,
    show_default=True,
    help="At most this many (a page).",
)
@click.option("--offset", type=click.IntRange(0), default=0, help="Skip this many first.")
@pass_state
def contacts_list(
    state: State,
    as_json: bool,
    incomplete: bool,
    since: datetime | None,
    limit: int,
    offset: int,
) -> None:
    """List contacts, oldest first, a page at a time (--limit, --offset)."""
    from gateway.domain.contacts import listing

    db = state.read_database(state.config())
    with db.transaction() as session:
        rows = listing(
            session,
            incomplete=incomplete,
            since=since.date() if since else None,
            limit=limit,
            offset=offset,
        )

    def text(items: list[dict[str, Any]]) -> None:
        if not items:
            click.echo("no contacts")
        for c in items:
            names = (
                ", ".join(
                    " ".join(filter(None, (ch["given_name"], ch["family_name"])))
                    for ch in c["children"]
                )
                or "-"
            )
            flags = [
                f
                for f, on in (
                    ("incomplete", c["incomplete"]),
                    ("out of hours", c["out_of_hours"]),
                    ("URGENT", c["urgent"]),
                )
                if on
            ]
            click.echo(
                f"{c['reference']}  {c['received_at']}  {c['source']:<10} {names}"
                + (f"  [{', '.join(flags)}]" if flags else "")
            )

    emit(rows, as_json, text)


@contacts.command("show")
@common
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def contacts_show(state: State, reference: str, as_json: bool) -> None:
    """One contact: its fields and its audit timeline."""
    from sqlalchemy import select

    from gateway.domain.contacts import summary, urgent_reasons
    from gateway.store.models import AuditEvent, Contact

    db = state.read_database(state.config())
    with db.transaction() as session:
        contact = session.execute(
            select(Contact).where(Contact.reference == reference)
        ).scalar_one_or_none()
        if contact is None:
            raise click.ClickException(f"no contact {reference}")
        data = summary(contact, urgent_reasons(session, [contact.id]).get(contact.id))
        data["referral"] = contact.referral
        data["timeline"] = [
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "recipient": e.recipient,
                "purpose": e.purpose,
            }
            for e in session.execute(
                select(AuditEvent)
                .where(AuditEvent.subject_ref == reference)
                .order_by(AuditEvent.id)
            ).scalars()
        ]

    def text(d: dict[str, Any]) -> None:
        click.echo(f"{d['reference']}: {d['source']}, {d['status']}, received {d['received_at']}")
        if d["missing"]:
            click.echo(f"missing: {', '.join(d['missing'])}")
        for reason in d["urgent_reasons"]:
            click.echo(f"URGENT: {reason['why']} (message {reason['message']})")
        for child in d["children"]:
            click.echo(
                f"child: {child['given_name']} {child['family_name'] or ''} "
                f"born {child['date_of_birth'] or 'unknown'}"
            )
        consent = d["consent"]
        click.echo(
            f"consent: {consent['status']}"
            + (f" (the child: {consent['child']})" if consent["child"] else "")
        )
        if consent["override"]:
            override = consent["override"]
            click.echo(
                f"consent overridden by {override['by']} at {override['at']}: {override['reason']}"
            )
        click.echo("timeline:")
        for event in d["timeline"]:
            click.echo(f"  {event['at']}  {event['action']}  {event['recipient'] or ''}")

    emit(data, as_json, text)


@contacts.command("received")
@common
@click.argument("reference")
@click.option("--by", "by", required=True, metavar="WHO", help="Who in the unit confirmed it.")
@pass_state
def contacts_received(state: State, reference: str, by: str) -> None:
    """Record that the case-holding unit has the contact forwarded to it."""
    from sqlalchemy import select

    from gateway.store.models import Contact

    db = state.database(state.config())
    now = state.clock().now()
    with db.transaction() as session:
        ledger.lock(session)  # before the contact: the order every writer keeps
        contact = session.execute(
            select(Contact).where(Contact.reference == reference)
        ).scalar_one_or_none()
        if contact is None:
            raise click.ClickException(f"no contact {reference}")
        if contact.status not in ("forwarded", "routed-back"):
            raise click.ClickException(
                f"{reference} is {contact.status}: only a contact forwarded to a unit is received"
            )
        contact.received_by_unit_at = now
        contact.received_by_unit = by
        ledger.append(
            session,
            now,
            ledger.Event(
                action="unit-received",
                actor=by,
                subject_ref=reference,
                purpose="the case-holding unit confirmed it has the contact",
            ),
        )
    click.echo(f"{reference}: received by the unit ({by})")


@click.group()
def cases() -> None:
    """The register of children open to children's social care."""


@cases.command("import")
@common
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False, exists=True))
@pass_state
def cases_import(state: State, csv_file: str) -> None:
    """Replace the register with the case-management system's CSV export.

    Columns: nhs_number, given_name, family_name, date_of_birth, unit, unit_email, status
    (open or closed), closed_on. A bad row stops the import and the old register stays.
    """
    from gateway.domain.cases import ImportError_, parse_csv, replace_register

    db = state.database(state.config())
    now = state.clock().now()
    try:
        rows = parse_csv(Path(csv_file).read_text(encoding="utf-8-sig"))
    except ImportError_ as exc:
        for problem in exc.problems:
            click.echo(f"error: {csv_file}: {problem}", err=True)
        raise SystemExit(2) from None
    with db.transaction() as session:
        count = replace_register(session, rows, now)
        ledger.append(
            session,
            now,
            ledger.Event(
                action="cases-imported",
                actor="operator",
                purpose="open-cases register replaced",
                detail={"rows": count, "file": Path(csv_file).name},
            ),
        )
    click.echo(f"register replaced: {count} children")
