"""`mash-gateway consent REF --status S --by MANAGER`: a manager's record of the consent."""

from __future__ import annotations

from typing import Any

import click

from gateway.cli.common import State, acting_manager, common, emit, pass_state
from gateway.domain.consent import STATUSES
from gateway.domain.managers import describe


@click.command()
@common
@click.argument("reference")
@click.option("--status", required=True, type=click.Choice(STATUSES), help="The family's consent.")
@click.option("--by", "by", help="The [[manager]] recording it [default: the login's os_user].")
@click.option("--reason", help="Why, or how it was learnt (recorded in the ledger).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def consent(
    state: State, reference: str, status: str, by: str | None, reason: str | None, as_json: bool
) -> None:
    """Record the family's consent to sharing on contact REFERENCE (protocol section 7).

    A check request about a contact whose consent is not `given` needs a manager's override
    (`checks request ... --consent-override "REASON"`)."""
    from sqlalchemy import select

    from gateway.domain.consent import set_status
    from gateway.store import ledger
    from gateway.store.models import Contact

    config = state.config()
    manager = describe(acting_manager(config, by))
    db = state.database(config)
    ref = reference.strip().upper()
    with db.transaction() as session:
        ledger.lock(session)  # before the contact: the order every writer keeps
        contact = session.execute(
            select(Contact).where(Contact.reference == ref).with_for_update()
        ).scalar_one_or_none()
        if contact is None:
            raise click.ClickException(f"no contact {ref}")
        record = set_status(
            session, contact, status, by=manager, reason=reason, now=state.clock().now()
        )
    data = {"reference": ref, "consent": record.as_json()}

    def text(d: dict[str, Any]) -> None:
        click.echo(f"{d['reference']}: consent {d['consent']['status']}, recorded by {manager}")
        if d["consent"]["override"] and d["consent"]["status"] != "given":
            click.echo(f"the override of {d['consent']['override']['at']} still applies")

    emit(data, as_json, text)
