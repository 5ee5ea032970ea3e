"""The referrer's voice: `contacts set-referrer`, `disagreements list|resolve`, `rfi answer`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gateway.cli.common import State, acting_manager, common, emit, letters_for, pass_state
from gateway.domain.managers import describe


def _manager(state: State, by: str | None) -> str:
    """The `--by` manager as the record names them; exit 2 listing the managers otherwise."""
    return describe(acting_manager(state.config(), by))


@click.command("set-referrer")
@common
@click.argument("reference")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["public", "professional", "family"]),
    help="Who the referrer is: decides which letters they get.",
)
@click.option("--by", help="The manager correcting it [default: the login name's manager].")
@pass_state
def set_referrer(state: State, reference: str, kind: str, by: str | None) -> None:
    """Correct who the referrer of REFERENCE is (their later letters follow it)."""
    from gateway.domain.referrer import ReferrerError, set_kind

    config = state.config()
    who = _manager(state, by)
    db = state.database(config)
    try:
        with db.transaction() as session:
            line = set_kind(session, state.clock().now(), reference.strip().upper(), kind, who)
    except ReferrerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(line)


@click.group()
def disagreements() -> None:
    """Professionals' disagreements with MASH decisions (protocol section 5)."""


@disagreements.command("list")
@common
@click.option("--open", "open_only", is_flag=True, help="Only those not yet resolved.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def disagreements_list(state: State, open_only: bool, as_json: bool) -> None:
    """Disagreements, oldest first."""
    from gateway.domain.disagreements import listing

    db = state.read_database(state.config())
    with db.transaction() as session:
        rows = listing(session, open_only=open_only)

    def text(items: list[dict[str, Any]]) -> None:
        if not items:
            click.echo("no disagreements")
        for d in items:
            state_text = d["status"] if d["outcome"] is None else f"{d['status']}: {d['outcome']}"
            click.echo(
                f"{d['id']}  {d['reference']}  {d['raised_at']}  {d['raised_by']}  [{state_text}]"
                f"  respond by {d['respond_by']}"
            )

    emit(rows, as_json, text)


@disagreements.command("resolve")
@common
@click.argument("reference")
@click.option("--outcome", required=True, type=click.Choice(["upheld", "not-upheld", "escalated"]))
@click.option("--reason", required=True, help="Why: the professional is sent it.")
@click.option("--by", help="The manager resolving it [default: the login name's manager].")
@pass_state
def disagreements_resolve(
    state: State, reference: str, outcome: str, reason: str, by: str | None
) -> None:
    """Resolve the open disagreement on REFERENCE; the professional is told."""
    from gateway.domain.disagreements import DisagreementError, resolve

    config = state.config()
    who = _manager(state, by)
    db = state.database(config)
    try:
        with db.transaction() as session:
            done = resolve(
                session,
                config,
                letters_for(config),
                state.clock().now(),
                reference=reference.strip().upper(),
                outcome=outcome,
                reason=reason,
                by=who,
            )
    except DisagreementError as exc:
        raise click.ClickException(str(exc)) from None
    for line in done:
        click.echo(line)


@click.group()
def rfi() -> None:
    """Information requests from other agencies (protocol 4.6)."""


@rfi.command("answer")
@common
@click.argument("reference")
@click.option(
    "--file",
    "answer_file",
    required=True,
    type=click.Path(dir_okay=False, exists=True),
    metavar="ANSWER.txt",
    help="The answer, as plain text.",
)
@click.option("--by", help="The manager answering [default: the login name's manager].")
@pass_state
def rfi_answer(state: State, reference: str, answer_file: str, by: str | None) -> None:
    """Send the answer to information request REFERENCE, in the request's thread."""
    from gateway.domain.rfi import RfiError, answer

    config = state.config()
    who = _manager(state, by)
    db = state.database(config)
    text = Path(answer_file).read_text(encoding="utf-8")
    try:
        with db.transaction() as session:
            done = answer(
                session,
                config,
                letters_for(config),
                state.clock().now(),
                reference=reference.strip().upper(),
                text=text,
                by=who,
            )
    except RfiError as exc:
        raise click.ClickException(str(exc)) from None
    for line in done:
        click.echo(line)
    click.echo("the running gateway sends it (or `mash-gateway run --once`)")
