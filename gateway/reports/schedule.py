"""Sending the steering group's report: by hand (`report --email`) or on `[reports] schedule`.

The scheduled report is sent once per period across instances: the slot (the first working
day of the quarter or month, at `[reports] at`) is claimed as a `digest_runs` row in the same
transaction that queues the mail, as the digest's slots are. Each reader gets their own copy,
sealed (signed and encrypted, OpenPGP) where they have a key: their own `key`, else the
pinned key of the manager with that address; a copy whose key is unusable is held, never
sent in clear.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.clock import Clock
from gateway.config import Config
from gateway.outbound.compose import Letters, OutgoingMail
from gateway.outbound.outbox import enqueue
from gateway.reports.period import Period, month_before, quarter_before, spoken
from gateway.reports.steering import Report, build
from gateway.store import ledger
from gateway.store.db import Database
from gateway.store.models import DigestRun
from gateway.timescales import BusinessCalendar

log = logging.getLogger(__name__)

KIND = "steering-report"
MIME = {
    ".html": "text/html",
    ".pdf": "application/pdf",
    ".csv": "text/csv",
    ".json": "application/json",
}


def _first_working_day(calendar: BusinessCalendar, day: date) -> date:
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def due_slot(
    now: datetime, config: Config, calendar: BusinessCalendar
) -> tuple[datetime, Period] | None:
    """This quarter's (or month's) slot, once NOW has reached it, and the period it covers."""
    schedule = config.reports.schedule
    if schedule == "none":
        return None
    today = calendar.local(now).date()
    if schedule == "quarterly":
        begins = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        first, last = quarter_before(today)
    else:
        begins = today.replace(day=1)
        first, last = month_before(today)
    day = _first_working_day(calendar, begins)
    slot = datetime.combine(day, config.reports.at, tzinfo=calendar.zone)
    if slot > calendar.local(now):
        return None
    return slot, Period(first, last, calendar.zone)


def _recipient_keys(config: Config) -> list[tuple[str, str | None]]:
    managers = {m.address.lower(): m.key for m in config.manager}
    return [
        (r.address, r.key or managers.get(r.address.lower())) for r in config.reports.recipients
    ]


Attachments = tuple[tuple[str, str, bytes], ...]


def render(report: Report, formats: tuple[str, ...]) -> Attachments:
    """The report's files, made before any write transaction: rendering the page and the PDF
    takes seconds, which on SQLite would hold the write lock (and every ingest) meanwhile."""
    # Here, not at the top: matplotlib and WeasyPrint load only when a report is made, not
    # in every daemon that imports the sweeps.
    from gateway.reports.render import write

    with tempfile.TemporaryDirectory(prefix="mash-report-") as folder:
        files = write(report, Path(folder), formats)
        return tuple((path.name, MIME[path.suffix], path.read_bytes()) for path in sorted(files))


def queue_report(
    session: Session,
    config: Config,
    letters: Letters,
    now: datetime,
    report: Report,
    attachments: Attachments,
    recipients: list[tuple[str, str | None]],
) -> int:
    """One mail per reader with the report attached, inside the caller's transaction."""
    from gateway.reports.tables import HEADLINE, show

    period = f"{spoken(report.period.first)} to {spoken(report.period.last)}"
    values = {
        "period": period,
        "previous": f"{spoken(report.previous_period.first)} to "
        f"{spoken(report.previous_period.last)}",
        "attached": [name for name, _mime, _data in attachments],
        "headline": [
            (name.replace("_", " "), show(report.figures[name], name)) for name in HEADLINE
        ],
    }
    for address, key in recipients:
        enqueue(
            session,
            config,
            letters,
            OutgoingMail(
                template="steering_report",
                values=values,
                recipients=(address,),
                purpose=f"steering group report {report.period.first} to {report.period.last}",
                attachments=attachments,
                sign=key is not None,
                encrypt_to=(key,) if key else (),
                outer_subject="MASH steering group report" if key else None,
            ),
            now,
        )
    ledger.append(
        session,
        now,
        ledger.Event(
            action="steering-report",
            detail={
                "from": report.period.first.isoformat(),
                "to": report.period.last.isoformat(),
                "recipients": len(recipients),
                "sealed": sum(1 for _a, key in recipients if key),
                "files": values["attached"],
            },
        ),
    )
    return len(recipients)


def send_scheduled_report(
    db: Database, config: Config, clock: Clock, letters: Letters
) -> int | None:
    """Queue this period's report if no instance has yet; the copies queued, or None."""
    if config.reports.schedule == "none" or not config.reports.recipients:
        return None
    now = clock.now()
    calendar = BusinessCalendar.from_config(config)
    due = due_slot(now, config, calendar)
    if due is None:
        return None
    slot, period = due
    with db.reading() as session:
        if _taken(session, slot):
            return None  # the cheap check first: the sweep runs every 30 seconds
    report = build(db, config, period, now)
    attachments = render(report, config.reports.formats)
    try:
        with db.transaction() as session:
            if _taken(session, slot):
                return None
            session.add(
                DigestRun(
                    kind=KIND,
                    slot_at=slot,
                    ran_at=now,
                    items=len(config.reports.recipients),
                    owner=config.gateway.instance,
                )
            )
            session.flush()  # another instance's row makes this raise, before any mail
            sent = queue_report(
                session,
                config,
                letters,
                now,
                report,
                attachments,
                _recipient_keys(config),
            )
    except IntegrityError:
        return None
    log.info(
        "steering group report for %s to %s queued for %d reader(s)",
        period.first,
        period.last,
        sent,
    )
    return sent


def _taken(session: Session, slot: datetime) -> bool:
    return (
        session.execute(
            select(DigestRun.id).where(DigestRun.kind == KIND, DigestRun.slot_at == slot)
        ).first()
        is not None
    )


def send_now(
    db: Database,
    config: Config,
    letters: Letters,
    now: datetime,
    report: Report,
    formats: tuple[str, ...],
) -> int:
    """`report --email`: to the configured readers now, whatever the schedule."""
    if not config.reports.recipients:
        raise ValueError("no [reports] recipients are configured")
    attachments = render(report, formats)
    with db.transaction() as session:
        return queue_report(
            session, config, letters, now, report, attachments, _recipient_keys(config)
        )
