"""How long the steering group's report takes on a borough's year of records, at 1x and 10x.

One borough's year is about 15,000 contacts and 75,000 partner checks. The records are bulk
inserted into the gateway's own schema (contacts and their children with their consent,
decisions with their clocks and withheld letters' kinds of reason, checks and replies,
professional disagreements), then the report for the year's last quarter (against the one
before) and for the whole year (against the year before) is built and written, as
`mash-gateway report` does. Prints seconds for the figures (SQL) and for the page and CSVs.

.venv/bin/python bench/report.py [--scales 1,10] [--pdf]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from gateway.config import parse_config
from gateway.domain.withheld import WITHHELD
from gateway.reports.period import Period
from gateway.reports.render import write
from gateway.reports.steering import build
from gateway.store.db import Database
from gateway.store.disagreements import Disagreement
from gateway.store.models import Check, CheckReply, Contact, ContactChild, Decision, Message

CONTACTS_A_YEAR = 15_000
CHECKS_PER_CONTACT = 5
YEAR = 2025
CONFIG = """
[gateway]
mash_address = "mash@hackney.example"
[smtp]
host = "127.0.0.1"
tls = "none"
[[agency]]
id = "police"
name = "Police"
check_address = "police@met.example"
reply_from = ["police@met.example"]
security = "tls"
[[agency]]
id = "health"
name = "Health"
check_address = "health@nhs.example"
reply_from = ["health@nhs.example"]
security = "tls"
"""
AGENCIES = ("police", "health", "education", "probation", "housing", "camhs", "dais", "early-help")
SOURCES = ("police", "health", "school", "LA", "other", "individual")
RAG_HOURS = {"red": 4, "amber": 24, "green": 72}
OUTCOMES = ("no-further-action", "advice-and-guidance", "early-help", "statutory-assessment",
            "community-service", "forwarded-to-unit")  # fmt: skip


CONSENT = ("given", "refused", "not-sought", "unknown")
PRACTICE = ("letters_withheld_by_reason", "consent_given", "consent_refused",
            "consent_overridden", "disagreements_raised", "disagreement_outcomes")  # fmt: skip


def populate(db: Database, scale: int, rng: random.Random) -> dict[str, int]:
    start = datetime(YEAR, 1, 1, tzinfo=UTC)
    contacts = CONTACTS_A_YEAR * scale
    counts = dict.fromkeys(("contacts", "checks", "replies", "decisions", "disagreements"), 0)
    batch = 5_000
    check_id = 0
    with db.engine.begin() as connection:
        # One message for every contact to point at: the raw mail is not what a report reads.
        message_id = connection.execute(
            insert(Message).returning(Message.id),
            [{"sha256": "0" * 64, "raw": b"", "size": 0, "channel": "bench", "mailbox": None,
              "role": None, "received_at": start, "ingested_at": start, "state": "processed",
              "attempts": 0, "auto_reply": False}],
        ).scalar_one()  # fmt: skip
    for first in range(0, contacts, batch):
        rows: list[dict[str, Any]] = []
        children: list[dict[str, Any]] = []
        decisions: list[dict[str, Any]] = []
        checks: list[dict[str, Any]] = []
        replies: list[dict[str, Any]] = []
        disagreements: list[dict[str, Any]] = []
        for n in range(first, min(first + batch, contacts)):
            received = start + timedelta(seconds=rng.randrange(365 * 86_400))
            channel = rng.choices(("email", "police-notification", "rfi"), (80, 15, 5))[0]
            missing = rng.sample(["consent", "referrer name", "date of birth or expected date",
                                  "carer"], rng.choice((0, 0, 1, 2)))  # fmt: skip
            routed = rng.random() < 0.05
            consent = rng.choices(CONSENT, (60, 10, 10, 20))[0]
            override = {"by": "m", "at": received.isoformat(), "reason": "bench"}
            rows.append({
                "id": n + 1, "reference": f"MASH-{YEAR}-{n + 1:06d}", "received_at": received,
                "created_at": received, "channel": channel,
                "source": "police" if channel == "police-notification" else rng.choice(SOURCES),
                "status": "forwarded" if routed else "closed", "incomplete": bool(missing),
                "missing": missing, "out_of_hours": rng.random() < 0.3,
                "immediate_risk": rng.random() < 0.02, "referral": {}, "reply_address": None,
                "message_id": message_id, "due_at": received + timedelta(days=14)
                if channel == "rfi" else None, "daily_meeting": False, "linked": [],
                "re_referral": rng.random() < 0.2, "decision_due_at": None,
                "decision_alerted_at": None, "routed_at_door": "forwarded" if routed else None,
                "consent_status": consent,
                "consent_override": override if consent != "given" and rng.random() < 0.2
                else None,
            })  # fmt: skip
            children.append({"contact_id": n + 1, "name_key": f"child {n}",
                             "nhs_number": None if rng.random() < 0.3 else f"{n:010d}",
                             "date_of_birth": "01/01/2015"})  # fmt: skip
            if not routed:
                at = received + timedelta(hours=rng.uniform(1, 30))
                code = rng.choice("ABCD")
                decisions.append({"contact_id": n + 1, "kind": "decision", "code": code,
                                  "section": None, "reason": "bench", "decided_by": "m",
                                  "decided_at": at, "letter": None,
                                  "letter_withheld_reason": None,
                                  "letter_withheld_category": None,
                                  "due_at": at + timedelta(hours=24 if code == "C" else 72)
                                  if code in "CD" else None})  # fmt: skip
                later = at + timedelta(hours=rng.uniform(0, 90))
                letter = rng.choice(("sent", "sent", "withheld", None))
                decisions.append({"contact_id": n + 1, "kind": "outcome",
                                  "code": rng.choice(OUTCOMES), "section": rng.choice(("17", "47")),
                                  "reason": "bench", "decided_by": "m", "decided_at": later,
                                  "letter": letter, "letter_withheld_reason": "bench"
                                  if letter == "withheld" else None,
                                  "letter_withheld_category": rng.choice((*WITHHELD, None))
                                  if letter == "withheld" else None, "due_at": None})  # fmt: skip
                if rng.random() < 0.03:  # a professional disagrees; most are resolved
                    raised = later + timedelta(days=rng.uniform(0, 10))
                    outcome = rng.choice(("upheld", "not-upheld", "escalated", None))
                    disagreements.append({
                        "contact_id": n + 1, "raised_by": "p", "raised_at": raised,
                        "text": "bench", "message_id": None,
                        "respond_by": raised + timedelta(days=5),
                        "status": "resolved" if outcome else "open", "outcome": outcome,
                        "reason": "bench" if outcome else None,
                        "resolved_by": "m" if outcome else None,
                        "resolved_at": raised + timedelta(days=3) if outcome else None,
                    })  # fmt: skip
            for _ in range(CHECKS_PER_CONTACT):
                check_id += 1
                rag = rng.choices(("red", "amber", "green"), (10, 60, 30))[0]
                requested = received + timedelta(hours=rng.uniform(0, 6))
                due = requested + timedelta(hours=RAG_HOURS[rag])
                answered = rng.random() < 0.9
                took = timedelta(hours=rng.expovariate(1 / RAG_HOURS[rag]))
                checks.append({
                    "id": check_id, "contact_id": n + 1, "reference": rows[-1]["reference"],
                    "agency": rng.choice(AGENCIES), "rag": rag, "token": f"T{check_id:09d}",
                    "context": "bench", "questions": [], "requested_by": "m",
                    "requested_at": requested, "due_at": due,
                    "status": "answered" if answered else rng.choice(("pending", "withdrawn")),
                    "answered_at": requested + took if answered else None,
                    "late": answered and requested + took > due, "replies": int(answered),
                    "out_of_office_at": None, "chase_level": rng.choice((0, 0, 0, 1, 2)),
                    "next_chase_at": None, "request_message_id": f"<c{check_id}@bench>",
                })  # fmt: skip
                if answered:
                    replies.append({"check_id": check_id, "message_id": message_id,
                                    "received_at": requested + took, "sender": "p",
                                    "matched_by": "in-reply-to", "late": False,
                                    "verified": False, "text": "No trace.",
                                    "increased_risk": rng.random() < 0.03})  # fmt: skip
        with db.engine.begin() as connection:
            connection.execute(insert(Contact), rows)
            connection.execute(insert(ContactChild), children)
            if decisions:
                connection.execute(insert(Decision), decisions)
            connection.execute(insert(Check), checks)
            connection.execute(insert(CheckReply), replies)
            if disagreements:
                connection.execute(insert(Disagreement), disagreements)
        counts["contacts"] += len(rows)
        counts["checks"] += len(checks)
        counts["replies"] += len(replies)
        counts["decisions"] += len(decisions)
        counts["disagreements"] += len(disagreements)
    return counts


def timed(
    db: Database, config: Any, period: Period, out: Path, formats: tuple[str, ...]
) -> tuple[float, float, float, float]:
    """Wall and CPU seconds for the figures, then for the page (the machine may be shared:
    CPU time says what the report itself costs)."""
    now = datetime(YEAR + 1, 1, 5, 9, tzinfo=UTC)
    began, cpu = time.perf_counter(), time.process_time()
    report = build(db, config, period, now)
    figures, figures_cpu = time.perf_counter() - began, time.process_time() - cpu
    # The figures whose data came last: computed, not "not recorded".
    for name in PRACTICE:
        assert report.raw[name] is not None, name
    shown = "; ".join(f"{name} {report.raw[name]}" for name in PRACTICE)
    print(f"#   {period.first} to {period.last}: {shown}", file=sys.stderr)
    began, cpu = time.perf_counter(), time.process_time()
    write(report, out, formats)
    return figures, figures_cpu, time.perf_counter() - began, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--pdf", action="store_true", help="also write report.pdf")
    args = parser.parse_args()
    formats = ("html", "csv", "pdf") if args.pdf else ("html", "csv")
    config = parse_config(CONFIG, "bench.toml")
    zone = ZoneInfo("Europe/London")
    periods = {
        "quarter": Period(date(YEAR, 10, 1), date(YEAR, 12, 31), zone),
        "year": Period(date(YEAR, 1, 1), date(YEAR, 12, 31), zone),
    }
    print(f"{'scale':>5} {'contacts':>9} {'checks':>9} {'period':>8} {'figures s':>10} "
          f"{'(CPU s)':>8} {'page s':>7} {'(CPU s)':>8} {'total s':>8} {'(CPU s)':>8}")  # fmt: skip
    for scale in (int(s) for s in args.scales.split(",")):
        with tempfile.TemporaryDirectory(prefix="mash-bench-report-") as folder:
            db = Database(f"sqlite:///{folder}/gateway.db")
            db.upgrade()
            began = time.perf_counter()
            counts = populate(db, scale, random.Random(scale))
            print(f"# {scale}x: {counts} inserted in {time.perf_counter() - began:.1f} s",
                  file=sys.stderr)  # fmt: skip
            db.dispose()
            # Read as `mash-gateway report` reads it: a read-only user, never the write lock.
            reader = Database(f"sqlite:///{folder}/gateway.db", read_only=True)
            for name, period in periods.items():
                figures, cpu, page, page_cpu = timed(
                    reader, config, period, Path(folder) / name, formats
                )
                print(f"{scale:>4}x {counts['contacts']:>9,} {counts['checks']:>9,} {name:>8} "
                      f"{figures:>10.2f} {cpu:>8.2f} {page:>7.2f} {page_cpu:>8.2f} "
                      f"{figures + page:>8.2f} {cpu + page_cpu:>8.2f}", flush=True)  # fmt: skip
            reader.dispose()


if __name__ == "__main__":
    main()
