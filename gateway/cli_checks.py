"""`mash-gateway checks ...`: request MASH checks and see where they stand."""

from __future__ import annotations

import getpass
from typing import Any

import click
from sqlalchemy import select

from gateway.cli import State, _apply_common, _common, _emit, cli, pass_state


@cli.group()
def checks() -> None:
    """MASH checks: RAG-rated requests to partner agencies."""


@checks.command("request")
@_common
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
@click.option("--by", "requested_by", help="Who asks [default: the login name].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def checks_request(
    state: State,
    sub_config: str | None,
    sub_now: str | None,
    reference: str,
    agencies: tuple[str, ...],
    rag: str,
    context: str,
    questions: tuple[str, ...],
    requested_by: str | None,
    as_json: bool,
) -> None:
    """Ask each --agency what it knows about contact REFERENCE; the gateway sends the requests."""
    from gateway.checks import CheckError, Request, check_summary, request_checks
    from gateway.outbound.compose import Letters

    _apply_common(state, sub_config, sub_now)
    config = state.config()
    db = state.database(config)
    now = state.clock().now()
    request = Request(
        reference=reference.strip().upper(),
        agencies=tuple(a.strip().lower() for a in agencies),
        rag=rag.lower(),
        context=context,
        questions=tuple(q for q in questions if q.strip()),
        requested_by=requested_by or getpass.getuser(),
    )
    try:
        with db.transaction() as session:
            made = request_checks(session, config, Letters(), now, request)
            rows = [check_summary(c, now) for c in made]
    except CheckError as exc:
        raise click.ClickException(str(exc)) from None

    def text(items: list[dict[str, Any]]) -> None:
        for c in items:
            click.echo(
                f"check {c['id']}: {c['rag'].upper()} to {c['agency']} for {c['reference']}, "
                f"due {c['due_at']}"
            )
        click.echo("queued: the running gateway sends them (or `mash-gateway run --once`)")

    _emit(rows, as_json, text)


@checks.command("list")
@_common
@click.option("--reference", help="Only this contact's checks.")
@click.option("--overdue", is_flag=True, help="Only checks past due and unanswered.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def checks_list(
    state: State,
    sub_config: str | None,
    sub_now: str | None,
    reference: str | None,
    overdue: bool,
    as_json: bool,
) -> None:
    """Checks with their RAG, due time and state, oldest first."""
    from gateway.checks import check_summary
    from gateway.models import Check

    _apply_common(state, sub_config, sub_now)
    db = state.database(state.config())
    now = state.clock().now()
    query = select(Check).order_by(Check.id)
    if reference:
        query = query.where(Check.reference == reference.strip().upper())
    with db.transaction() as session:
        rows = [check_summary(c, now) for c in session.execute(query).scalars()]
    if overdue:
        rows = [r for r in rows if r["overdue"]]

    def text(items: list[dict[str, Any]]) -> None:
        if not items:
            click.echo("no checks")
        for c in items:
            state_text = c["status"] + (" LATE" if c["late"] else "")
            if c["overdue"]:
                state_text = "OVERDUE"
            click.echo(
                f"{c['id']:>5}  {c['reference']}  {c['rag'].upper():<5} {c['agency']:<12} "
                f"due {c['due_at']}  {state_text}  replies {c['replies']}  chases {c['chases']}"
            )

    _emit(rows, as_json, text)
