"""The `mash-gateway` command line."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from gateway import ledger
from gateway.clock import Clock, FrozenClock, SystemClock, parse_instant
from gateway.config import Config, ConfigError, config_path, load_config, parse_config
from gateway.db import Database, SchemaOutOfDate

log = logging.getLogger("gateway")


def _setup_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.migration").addFilter(_only_real_migrations)


def _only_real_migrations(record: logging.LogRecord) -> bool:
    """Alembic announces its dialect on every command; only a migration that runs is news."""
    return not str(record.msg).startswith(("Context impl", "Will assume"))


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload)


class State:
    def __init__(self, config_file: str | None, now: str | None) -> None:
        self.config_file = config_path(config_file)
        self._now = now

    def config(self) -> Config:
        try:
            return load_config(self.config_file)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            raise SystemExit(2) from None

    def clock(self) -> Clock:
        if self._now is None:
            return SystemClock()
        try:
            return FrozenClock(parse_instant(self._now))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--now") from None

    def database(self, config: Config) -> Database:
        db = Database(config.gateway.database)
        try:
            if db.is_sqlite:
                db.upgrade()
            else:
                db.require_current()
        except SchemaOutOfDate as exc:
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(2) from None
        return db


pass_state = click.make_pass_decorator(State)


def letters_for(config: Config) -> Any:
    """The templates, with the keyring that seals mail to agencies (when one is configured)."""
    from gateway.crypto import CryptoError, keyring_from_config
    from gateway.outbound.compose import Letters

    try:
        return Letters(keyring=keyring_from_config(config))
    except CryptoError as exc:
        raise click.ClickException(str(exc)) from None


def _emit(data: Any, as_json: bool, text: Callable[[Any], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        text(data)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    _setup_logging(log_level, log_format)
    ctx.obj = State(config_file, now)


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    """`-c` and `--now` are accepted after the sub-command too."""
    func = click.option("--now", "sub_now", metavar="ISO-8601", help="Fix the clock.")(func)
    func = click.option("-c", "--config", "sub_config", metavar="FILE", help="Configuration file.")(
        func
    )
    return func


def _apply_common(state: State, sub_config: str | None, sub_now: str | None) -> None:
    if sub_config:
        state.config_file = Path(sub_config)
    if sub_now:
        state._now = sub_now


@cli.command()
@_common
@click.option("--once", is_flag=True, help="Process everything pending now, then exit.")
@pass_state
def run(state: State, sub_config: str | None, sub_now: str | None, once: bool) -> None:
    """Run the daemon: watch the mailboxes, process, send."""
    from gateway.daemon import Daemon

    _apply_common(state, sub_config, sub_now)
    config = state.config()
    daemon = Daemon(config, state.clock())
    try:
        daemon.prepare()
    except SchemaOutOfDate as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    if not once:
        daemon.run_forever()
        return
    report = daemon.run_once()
    click.echo(
        f"ingested {report.ingested}, processed {report.processed}, sent {report.sent}, "
        f"deferred {report.deferred}, failed {report.failed}"
    )
    for name, error in report.mailbox_errors.items():
        click.echo(f"error: mailbox {name}: {error}", err=True)
    if report.mailbox_errors:
        raise SystemExit(3)


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to build the mail world [default: a new temp dir].",
)
@click.option("--keep", is_flag=True, help="Keep the world's directory afterwards.")
@click.option(
    "--speed",
    type=float,
    default=4320.0,
    show_default=True,
    help="Simulated seconds per real second (0: as fast as the gateway goes).",
)
@click.option("--days", type=float, default=3.0, show_default=True, help="Simulated days.")
@click.option("--no-color", is_flag=True, help="Plain output.")
@click.option(
    "--summary-json",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the summary numbers here.",
)
def demo(
    directory: Path | None,
    keep: bool,
    speed: float,
    days: float,
    no_color: bool,
    summary_json: Path | None,
) -> None:
    """Three days of a MASH in about a minute: the real daemon, a local mail world on SQLite,
    simulated referrers, partners and a manager, and a simulated clock."""
    from gateway.demo import run_demo

    # The timeline is the demo's output; the daemon's own log would bury it.
    logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))
    logging.getLogger("gateway.inbound.imap").setLevel(logging.ERROR)
    code = run_demo(
        directory, keep, speed=speed, days=days, color=not no_color, summary_json=summary_json
    )
    raise SystemExit(code)


@cli.command()
@_common
@pass_state
def check(state: State, sub_config: str | None, sub_now: str | None) -> None:
    """Validate the configuration and try every connection."""
    from gateway.checkup import run_checks

    _apply_common(state, sub_config, sub_now)
    try:
        config = load_config(state.config_file)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"problem: {problem}")
        raise SystemExit(1) from None
    problems = run_checks(config, state.clock())
    for line in problems:
        click.echo(f"problem: {line}")
    if problems:
        raise SystemExit(1)
    click.echo(f"ok: {state.config_file} is valid and every connection works")


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@_common
@pass_state
def db_upgrade(state: State, sub_config: str | None, sub_now: str | None) -> None:
    """Apply the database migrations."""
    _apply_common(state, sub_config, sub_now)
    config = state.config()
    Database(config.gateway.database).upgrade()
    click.echo("database is up to date")


@cli.command()
@_common
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def status(state: State, sub_config: str | None, sub_now: str | None, as_json: bool) -> None:
    """Counts and health."""
    from gateway.status import status as compute

    _apply_common(state, sub_config, sub_now)
    config = state.config()
    data = compute(state.database(config), config, state.clock().now())

    def text(d: dict[str, Any]) -> None:
        m, o = d["messages"], d["outbox"]
        click.echo(
            f"messages: {m['ingested']} ingested, {m['processed']} processed, "
            f"{m['quarantined']} quarantined, {m['pending']} pending"
        )
        for reason, n in d["quarantine_reasons"].items():
            click.echo(f"  quarantined for {reason}: {n}")
        click.echo(
            f"outbox: {o['pending']} pending, {o['sent']} sent, {o['failed']} failed, "
            f"{o['bounced']} bounced"
            + (f", {o['held']} HELD (no usable OpenPGP key)" if o["held"] else "")
        )
        for name, box in d["mailboxes"].items():
            health = f"error: {box['error']}" if box["error"] else "ok"
            click.echo(f"mailbox {name}: last poll {box['last_poll'] or 'never'}, {health}")

    _emit(data, as_json, text)


@cli.command()
@_common
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def inspect(
    state: State, sub_config: str | None, sub_now: str | None, files: tuple[str, ...], as_json: bool
) -> None:
    """Show what the gateway would decide for raw messages; changes nothing."""
    _apply_common(state, sub_config, sub_now)
    config = _config_or_default(state)
    now = state.clock().now()
    from gateway.crypto import CryptoError, keyring_from_config

    try:
        keyring = keyring_from_config(config)
    except CryptoError as exc:
        raise click.ClickException(str(exc)) from None
    with _read_only_lookup(state, config) as lookup:
        results = _inspect_files(files, config, now, lookup, keyring)
    if as_json:
        click.echo(json.dumps(results[0] if len(results) == 1 else results, indent=2))
        return
    for result in results:
        click.echo(
            f"{result['file']}: {result['kind']}"
            + (" (automatic)" if result["auto_reply"] else "")
            + (
                f", quarantine: {result['quarantine_reason']}"
                if result["quarantine_reason"]
                else ""
            )
        )
        for reason in result["reasons"]:
            click.echo(f"  {reason}")


@contextmanager
def _read_only_lookup(state: State, config: Config) -> Iterator[Any]:
    """The configured database, read in a transaction that is rolled back; None when there
    is no configuration file or its SQLite file does not exist (inspect creates nothing)."""
    from sqlalchemy.engine import make_url

    from gateway.inbound.processing import DbLookup

    url = make_url(config.gateway.database)
    missing_file = url.get_backend_name() == "sqlite" and not Path(url.database or "").exists()
    if not state.config_file.exists() or missing_file:
        yield None
        return
    db = Database(config.gateway.database)
    try:
        try:
            db.require_current()
        except SchemaOutOfDate as exc:
            click.echo(f"note: not matching checks: {exc}", err=True)
            yield None
            return
        with db.engine.connect() as connection:
            from sqlalchemy.orm import Session

            with Session(bind=connection) as session:
                yield DbLookup(session)
                session.rollback()
    finally:
        db.dispose()


def _inspect_files(
    files: tuple[str, ...], config: Config, now: datetime, lookup: Any, keyring: Any
) -> list[dict[str, Any]]:
    from gateway.inspection import inspect_bytes

    results = []
    for name in files:
        try:
            raw = Path(name).read_bytes()
        except OSError as exc:
            result: dict[str, Any] = {
                "kind": "unknown",
                "auto_reply": False,
                "quarantine_reason": f"unreadable: {exc.strerror}",
                "reasons": [],
            }
        else:
            result = inspect_bytes(raw, config, now, lookup, keyring)
        results.append({"file": name, **result})
    return results


def _config_or_default(state: State) -> Config:
    if state.config_file.exists():
        return state.config()
    click.echo(f"note: {state.config_file} not found; inspecting with default settings", err=True)
    return parse_config(
        '[gateway]\nmash_address = "mash@localhost.localdomain"\n'
        '[smtp]\nhost = "127.0.0.1"\ntls = "none"\n',
        "(defaults)",
    )


@cli.group()
def quarantine() -> None:
    """Messages a person must look at."""


@quarantine.command("list")
@_common
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def quarantine_list(
    state: State, sub_config: str | None, sub_now: str | None, as_json: bool
) -> None:
    """List quarantined messages."""
    from gateway.status import quarantine_list as listing

    _apply_common(state, sub_config, sub_now)
    rows = listing(state.database(state.config()))

    def text(items: list[dict[str, Any]]) -> None:
        if not items:
            click.echo("quarantine is empty")
        for r in items:
            click.echo(
                f"{r['id']:>6}  {r['received_at']}  {r['mailbox'] or '-':<12} "
                f"{r['kind'] or '-':<12} {r['reason']}"
            )

    _emit(rows, as_json, text)


@quarantine.command("show")
@_common
@click.argument("message_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--raw", is_flag=True, help="Print the raw message bytes.")
@pass_state
def quarantine_show(
    state: State,
    sub_config: str | None,
    sub_now: str | None,
    message_id: int,
    as_json: bool,
    raw: bool,
) -> None:
    """Show one message and why it is held."""
    from gateway.status import quarantine_show as show
    from gateway.status import raw_message

    _apply_common(state, sub_config, sub_now)
    db = state.database(state.config())
    if raw:
        data = raw_message(db, message_id)
        if data is None:
            raise click.ClickException(f"no message {message_id}")
        sys.stdout.buffer.write(data)
        return
    item = show(db, message_id)
    if item is None:
        raise click.ClickException(f"no message {message_id}")

    def text(d: dict[str, Any]) -> None:
        for key, value in d.items():
            if key == "steps":
                click.echo("steps:")
                for step in value:
                    click.echo(f"  {step}")
            else:
                click.echo(f"{key}: {value}")

    _emit(item, as_json, text)


@quarantine.command("release")
@_common
@click.argument("message_id", type=int)
@click.option("--by", "actor", default="operator", show_default=True, help="Who releases it.")
@pass_state
def quarantine_release(
    state: State, sub_config: str | None, sub_now: str | None, message_id: int, actor: str
) -> None:
    """Send a quarantined message through the pipeline again."""
    from gateway.status import NotQuarantined
    from gateway.status import quarantine_release as release

    _apply_common(state, sub_config, sub_now)
    db = state.database(state.config())
    try:
        release(db, message_id, state.clock().now(), actor)
    except NotQuarantined as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"message {message_id} released; the next run processes it again")


@cli.group()
def contacts() -> None:
    """Contact records made from referrals."""


@contacts.command("list")
@_common
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--incomplete", is_flag=True, help="Only contacts missing mandatory fields.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Received on or after.")
@pass_state
def contacts_list(
    state: State,
    sub_config: str | None,
    sub_now: str | None,
    as_json: bool,
    incomplete: bool,
    since: datetime | None,
) -> None:
    """List contacts, oldest first."""
    from gateway.contacts import listing

    _apply_common(state, sub_config, sub_now)
    db = state.database(state.config())
    with db.transaction() as session:
        rows = listing(session, incomplete=incomplete, since=since.date() if since else None)

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
                    ("URGENT", c["immediate_risk"]),
                )
                if on
            ]
            click.echo(
                f"{c['reference']}  {c['received_at']}  {c['source']:<10} {names}"
                + (f"  [{', '.join(flags)}]" if flags else "")
            )

    _emit(rows, as_json, text)


@contacts.command("show")
@_common
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def contacts_show(
    state: State, sub_config: str | None, sub_now: str | None, reference: str, as_json: bool
) -> None:
    """One contact: its fields and its audit timeline."""
    from sqlalchemy import select

    from gateway.contacts import summary
    from gateway.models import AuditEvent, Contact

    _apply_common(state, sub_config, sub_now)
    db = state.database(state.config())
    with db.transaction() as session:
        contact = session.execute(
            select(Contact).where(Contact.reference == reference)
        ).scalar_one_or_none()
        if contact is None:
            raise click.ClickException(f"no contact {reference}")
        data = summary(contact)
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
        for child in d["children"]:
            click.echo(
                f"child: {child['given_name']} {child['family_name'] or ''} "
                f"born {child['date_of_birth'] or 'unknown'}"
            )
        click.echo("timeline:")
        for event in d["timeline"]:
            click.echo(f"  {event['at']}  {event['action']}  {event['recipient'] or ''}")

    _emit(data, as_json, text)


@cli.group()
def cases() -> None:
    """The register of children open to children's social care."""


@cases.command("import")
@_common
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False, exists=True))
@pass_state
def cases_import(state: State, sub_config: str | None, sub_now: str | None, csv_file: str) -> None:
    """Replace the register with the case-management system's CSV export.

    Columns: nhs_number, given_name, family_name, date_of_birth, unit, unit_email, status
    (open or closed), closed_on. A bad row stops the import and the old register stays.
    """
    from gateway.cases import ImportError_, parse_csv, replace_register

    _apply_common(state, sub_config, sub_now)
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


@cli.group()
def audit() -> None:
    """The audit ledger."""


@audit.command("verify")
@_common
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def audit_verify(state: State, sub_config: str | None, sub_now: str | None, as_json: bool) -> None:
    """Check the hash chain: finds any edited, inserted or deleted row."""
    _apply_common(state, sub_config, sub_now)
    db = state.database(state.config())
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

    _emit(data, as_json, text)
    if problems:
        raise SystemExit(1)


def main() -> None:
    from gateway import cli_checks, cli_decisions, cli_keys  # noqa: F401 - they register commands

    cli(prog_name="mash-gateway")
