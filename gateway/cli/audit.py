"""`mash-gateway audit ...`: the ledger verified, one contact's timeline, CSV."""

from __future__ import annotations

from typing import Any

import click

from gateway.cli.common import State, common, emit, pass_state
from gateway.store import ledger


@click.group()
def audit() -> None:
    """The audit ledger."""


@audit.command("verify")
@common
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def audit_verify(state: State, as_json: bool) -> None:
    """Check the hash chain: finds any edited, inserted or deleted row."""
    db = state.read_database(state.config())
    with db.transaction() as session:
        problems = ledger.verify(session)
        count = session.execute(ledger.count_query()).scalar_one()
    data = {
        "ok": not problems,
        "rows": count,
        "problems": [{"row": p.row_id, "problem": p.problem} for p in problems],
    }

    def text(d: dict[str, Any]) -> None:
        for p in d["problems"]:
            click.echo(f"row {p['row']}: {p['problem']}")
        click.echo(f"ledger: {d['rows']} rows, " + ("intact" if d["ok"] else "TAMPERED"))

    emit(data, as_json, text)
    if problems:
        raise SystemExit(1)


