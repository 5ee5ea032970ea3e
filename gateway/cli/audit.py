"""`mash-gateway audit ...`: the ledger verified, one contact's timeline, CSV."""

from __future__ import annotations

import sys
from typing import Any

import click

from gateway.cli.common import State, common, emit, pass_state
from gateway.store import ledger
from gateway.store.db import Database
from gateway.store.models import LedgerHead
from gateway.store.operations import LedgerCheckpoint


@click.group()
def audit() -> None:
    """The audit ledger."""


@audit.command("verify")
@common
@click.option("--full", is_flag=True, help="Walk the whole chain, not just what is new.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def audit_verify(state: State, full: bool, as_json: bool) -> None:
    """Check the hash chain: finds any edited, inserted or deleted row.

    By default it starts from the last checkpoint (where the previous run found the chain
    intact), so its cost is what was recorded since; --full walks every row, with progress."""
    config = state.config()
    db = state.read_database(config)
    now = state.clock().now()
    with db.transaction() as session:
        checkpoint = None if full else ledger.latest_checkpoint(session)
        # The head row knows the newest id: counting every row would make even an
        # incremental run grow with the whole ledger.
        head = session.get(LedgerHead, 1)
        total = head.last_id if head is not None else 0
        todo = total - (checkpoint.last_id if checkpoint else 0)
        with click.progressbar(
            length=max(todo, 0), label="verifying the ledger", file=sys.stderr
        ) as bar:
            result = ledger.verify_from(session, checkpoint, progress=bar.update)
    if not result.problems and result.last_id:
        with Database(config.gateway.database).transaction() as session:
            session.add(
                LedgerCheckpoint(
                    last_id=result.last_id, hash=result.last_hash, verified_at=now, full=full
                )
            )
    data = {
        "ok": not result.problems,
        "rows": total,
        "verified_rows": result.rows,
        "from_row": result.from_id + 1,
        "full": checkpoint is None,
        "problems": [{"row": p.row_id, "problem": p.problem} for p in result.problems],
    }

    def text(d: dict[str, Any]) -> None:
        for p in d["problems"]:
            click.echo(f"row {p['row']}: {p['problem']}")
        walked = (
            "every row"
            if d["full"]
            else f"rows {d['from_row']} to {d['rows']} (earlier ones at the last checkpoint)"
        )
        click.echo(
            f"ledger: {d['rows']} rows, " + ("intact" if d["ok"] else "TAMPERED") + f"; {walked}"
        )

    emit(data, as_json, text)
    if result.problems:
        raise SystemExit(1)
