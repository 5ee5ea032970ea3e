"""The Daily MASH Meeting agenda (protocol 6): what arrived since the last meeting, urgent first.

Sent once per working day across instances, through the same slot rows as the digest.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.clock import Clock
from gateway.config import Config
from gateway.domain.contact_sheet import entry
from gateway.outbound.compose import Letters
from gateway.outbound.sealing_policy import recipient_key
from gateway.reports.attention import urgent_contacts
from gateway.reports.digest import Section, latest_slot, send_sections
from gateway.store.db import Database
from gateway.store.models import Contact, DigestRun
from gateway.timescales import BusinessCalendar


def _agenda_line(
    session: Session, c: Contact, calendar: BusinessCalendar, now: datetime
) -> str:
    """One contact as partners prepare for it: initials and age, the concern in one line,
    urgency, checks and their state, the decision due (gateway/domain/contact_sheet.py)."""
    item = entry(session, c, calendar, now)
    flags = [
        flag
        for flag, on in (
            ("out of hours", c.out_of_hours),
            ("incomplete", c.incomplete),
            ("re-referral", c.re_referral),
            (c.status, c.status != "open"),
        )
        if on
    ]
    title = item["title"] + (f" [{', '.join(flags)}]" if flags else "")
    return "\n".join([title, *(f"    {detail}" for detail in item["details"])])


def _keys(config: Config, recipients: tuple[str, ...]) -> dict[str, str]:
    """The pinned key of each recipient that has one (a manager, a pgp agency, a unit)."""
    keys = {m.address.lower(): m.key for m in config.manager if m.key}
    for address in recipients:
        found = recipient_key(config, address)
        if found is not None:
            keys[address.lower()] = found[0]
    return {a.lower(): keys[a.lower()] for a in recipients if a.lower() in keys}


def send_meeting_agenda(db: Database, config: Config, clock: Clock, letters: Letters) -> int | None:
    """The Daily MASH Meeting agenda (protocol 6): police notifications and contacts received
    since the last agenda, urgent ones first (and those made urgent since). Once per working
    day, across instances."""
    recipients = config.meeting.recipients or config.manager_addresses
    if not config.meeting.enabled or not recipients:
        return None
    now = clock.now()
    calendar = BusinessCalendar.from_config(config)
    slot = latest_slot(now, config, calendar, (config.meeting.at,), True)
    if slot is None:
        return None
    try:
        with db.transaction() as session:
            previous = session.execute(
                select(DigestRun.slot_at)
                .where(DigestRun.kind == "meeting")
                .order_by(DigestRun.slot_at.desc())
                .limit(1)
            ).scalar()
            if previous is not None and previous >= slot:
                return None
            # The first agenda covers the time since the previous working day's meeting.
            since = previous or latest_slot(
                slot - timedelta(seconds=1), config, calendar, (config.meeting.at,), True
            )
            query = select(Contact).where(Contact.received_at <= slot)
            if since is not None:
                query = query.where(Contact.received_at > since)
            contacts = session.execute(query.order_by(Contact.received_at)).scalars().all()
            # Urgent first, under their own heading: those received since the last meeting,
            # and older ones that became urgent since (a reply, a partner's answer).
            urgent = [
                c for c in urgent_contacts(session, now, since=since) if c.received_at <= slot
            ]
            seen = {c.id for c in urgent}
            police = [
                c
                for c in contacts
                if c.id not in seen and (c.channel == "police-notification" or c.source == "police")
            ]
            seen |= {c.id for c in police}
            others = [c for c in contacts if c.id not in seen]
            sections = [
                Section(title, [_agenda_line(session, c, calendar, now) for c in group])
                for title, group in (
                    ("URGENT: possible immediate risk", urgent),
                    ("Police notifications", police),
                    ("Other contacts", others),
                )
                if group
            ]
            return send_sections(
                session,
                config,
                letters,
                now,
                kind="meeting",
                slot=slot,
                sections=sections,
                items=len(urgent) + len(police) + len(others),
                template="meeting_agenda",
                recipients=tuple(recipients),
                purpose="daily MASH meeting agenda",
                action="meeting-agenda",
                keys=_keys(config, tuple(recipients)),
            )
    except IntegrityError:
        return None
