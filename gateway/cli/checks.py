"""`mash-gateway checks ...`: request MASH checks and see where they stand."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select

from gateway.cli.common import (
    State,
    acting_manager,
    common,
    emit,
    letters_for,
    pass_state,
    read_keyring,
)
from gateway.domain.managers import describe


@click.group()
def checks() -> None:
    """MASH checks: RAG-rated requests to partner agencies."""


@checks.command("request")
@common
@click.argument("reference")
@click.option(
    "--agency", "agencies", multiple=True, required=True, help="Agency id (repeat for several)."
)
@click.option(
    "--rag",
    required=True,
    type=click.Choice(["red", "amber", "green"], case_sensitive=False),
    help="RED 4 hours, AMBER 24 hours, GREEN 72 hours (see [rag.*]).",
)
@click.option("--context", required=True, help="Why the information is needed (Caldicott).")
@click.option("--question", "questions", multiple=True, help="A question for the partners.")
@click.option(
    "--by",
    "requested_by",
    help="The [[manager]] asking (name or address) [default: the one whose os_user you are].",
)
@click.option(
    "--consent-override",
    metavar="REASON",
    help="Share although consent is not given: why speaking to the family may increase the "
    "risk to the child (protocol section 7); stored on the contact and reused.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def checks_request(
    state: State,
    reference: str,
    agencies: tuple[str, ...],
    rag: str,
    context: str,
    questions: tuple[str, ...],
    requested_by: str | None,
    consent_override: str | None,
    as_json: bool,
) -> None:
    """Ask each --agency what it knows about contact REFERENCE; the gateway sends the requests.

    Refused (exit 2) to an agency with no data-sharing agreement (dsa_signed); refused (exit
    1) on a closed contact, or when consent is not given and no override is on record."""
    from gateway.domain.checks.request import (
        CheckError,
        Request,
        check_summary,
        request_checks,
        sharing_lines,
    )
    from gateway.domain.consent import ConsentError
    from gateway.domain.sharing import NoAgreement
    from gateway.store.models import Contact

    config = state.config()
    manager = acting_manager(config, requested_by)
    db = state.database(config)
    now = state.clock().now()
    request = Request(
        reference=reference.strip().upper(),
        agencies=tuple(a.strip().lower() for a in agencies),
        rag=rag.lower(),
        context=context,
        questions=tuple(q for q in questions if q.strip()),
        requested_by=describe(manager),
        consent_override=consent_override,
    )
    try:
        with db.transaction() as session:
            made = request_checks(session, config, letters_for(config), now, request)
            rows = [check_summary(c, now) for c in made]
            contact = session.get(Contact, made[0].contact_id)
            lines = sharing_lines(config, contact) if contact is not None else []
    except NoAgreement as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(2) from None
    except (CheckError, ConsentError) as exc:
        raise click.ClickException(str(exc)) from None

    def text(items: list[dict[str, Any]]) -> None:
        for c in items:
            click.echo(
                f"check {c['id']}: {c['rag'].upper()} to {c['agency']} for {c['reference']}, "
                f"due {c['due_at']}"
            )
        for line in lines:
            click.echo(line)
        click.echo("queued: the running gateway sends them (or `mash-gateway run --once`)")

    emit(rows, as_json, text)


@checks.command("list")
@common
@click.option("--reference", help="Only this contact's checks.")
@click.option("--agency", help="Only this agency's checks.")
@click.option("--overdue", is_flag=True, help="Only checks past due and unanswered.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def checks_list(
    state: State,
    reference: str | None,
    agency: str | None,
    overdue: bool,
    as_json: bool,
) -> None:
    """Checks with their RAG, due time and state, oldest first."""
    from gateway.domain.checks.request import OPEN_STATES, check_summary
    from gateway.store.models import Check

    db = state.read_database(state.config())
    now = state.clock().now()
    query = select(Check).order_by(Check.id)
    if reference:
        query = query.where(Check.reference == reference.strip().upper())
    if agency:
        query = query.where(Check.agency == agency.strip().lower())
    if overdue:
        # In the database (indexed on status and due time), not by loading every check.
        query = query.where(Check.status.in_(OPEN_STATES), Check.due_at <= now)
    with db.transaction() as session:
        rows = [check_summary(c, now) for c in session.execute(query).scalars()]

    def text(items: list[dict[str, Any]]) -> None:
        if not items:
            click.echo("no checks")
        for c in items:
            state_text = c["status"].upper() + (" (late)" if c["late"] else "")
            click.echo(
                f"{c['id']:>5}  {c['reference']}  {c['rag'].upper():<5} {c['agency']:<12} "
                f"due {c['due_at']}  {state_text}  replies {c['replies']}  chases {c['chases']}"
            )

    emit(rows, as_json, text)


@checks.command("show")
@common
@click.argument("check_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def checks_show(state: State, check_id: int, as_json: bool) -> None:
    """One check: its request, replies (new text, attachments) and timeline."""
    from gateway.domain.checks.request import check_detail

    db = state.read_database(state.config())
    with db.transaction() as session:
        data = check_detail(session, check_id, state.clock().now())
    if data is None:
        raise click.ClickException(f"no check {check_id}")

    def text(d: dict[str, Any]) -> None:
        click.echo(
            f"check {d['id']}: {d['rag'].upper()} to {d['agency']} for {d['contact']}, "
            f"{d['status']}, due {d['due_at']}"
        )
        click.echo(f"context: {d['context']}")
        for question in d["questions"]:
            click.echo(f"question: {question}")
        for reply in d["replies"]:
            flags = ", ".join(
                f
                for f, on in (
                    ("late", reply["late"]),
                    ("verified", reply["verified"]),
                    ("INCREASED RISK", reply["increased_risk"]),
                )
                if on
            )
            click.echo(
                f"reply {reply['received_at']} from {reply['sender']} by {reply['matched_by']}"
                + (f" [{flags}]" if flags else "")
            )
            for line in reply["text"].splitlines():
                click.echo(f"  | {line}")
            for item in reply["attachments"]:
                click.echo(f"  attachment: {item['filename']} ({item['size']} bytes)")
        click.echo("timeline:")
        for event in d["timeline"]:
            click.echo(f"  {event['at']}  {event['action']}  {event['recipient'] or ''}")

    emit(data, as_json, text)


@click.command()
@common
@click.option("--dry-run", is_flag=True, help="Print what would be sent now; send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def digest(state: State, dry_run: bool, as_json: bool) -> None:
    """The managers' digest: --dry-run shows it; without, queue the current slot's digest
    (once per slot, as the daemon's sweep does)."""
    from gateway.reports.digest import gather, send_digest
    from gateway.timescales import BusinessCalendar

    config = state.config()
    db = state.read_database(config) if dry_run else state.database(config)
    clock = state.clock()
    if not dry_run:
        items = send_digest(db, config, clock, letters_for(config))
        click.echo(
            "no digest: this slot's was already sent, or no slot or manager is configured"
            if items is None
            else f"digest queued with {items} item(s)"
            if items
            else "nothing to report: no digest sent"
        )
        return
    with db.transaction() as session:
        sections = gather(
            session,
            config,
            BusinessCalendar.from_config(config),
            clock.now(),
            read_keyring(config),
        )
    data = [s.as_json() for s in sections]

    def text(items: list[dict[str, Any]]) -> None:
        if not items:
            click.echo("nothing to report: an empty digest is not sent")
        for section in items:
            click.echo(f"{section['title']} ({len(section['lines'])})")
            for line in section["lines"]:
                click.echo(f"  - {line}")
            if section["todo"]:
                click.echo(f"  What to do: {section['todo']}")
            if section["cli"]:
                click.echo(f"  (command line: {section['cli']})")

    emit(data, as_json, text)
