"""How the daily operations cost as years of records pile up, on SQLite and PostgreSQL.

.venv/bin/python bench/scale.py                      # 1x and 10x
.venv/bin/python bench/scale.py --scales 1,10,100    # 100x too (long: 44M ledger events)
.venv/bin/python bench/scale.py --postgres postgresql+psycopg://postgres@127.0.0.1/postgres

For each scale (N borough-years of history, built by bench/scale_build.py) and database it
prints the median of a few runs of each operation, through the gateway's own code: the real
Processor for one new referral (history and fuzzy matching against every earlier child), the
sweeps, the digest and agenda, the CLI commands in-process, and a metrics scrape.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from scale_build import AGENCIES, CONTACTS_PER_YEAR, build
from sqlalchemy import create_engine, delete, func, select, text

from gateway.cli import cli
from gateway.clock import FrozenClock
from gateway.config import Config, load_config
from gateway.domain.checks.chase import chase_due
from gateway.domain.decision_clock import alert_overdue_decisions
from gateway.inbound.handlers.spine import default_handlers
from gateway.inbound.ingest import Source, ingest
from gateway.inbound.processing import Processor
from gateway.outbound.compose import DEFAULT_TEMPLATES, Letters
from gateway.reports.digest import gather
from gateway.reports.meeting import send_meeting_agenda
from gateway.reports.metrics import GatewayCollector
from gateway.store.db import Database
from gateway.store.models import Contact, DigestRun
from gateway.store.operations import LedgerCheckpoint
from gateway.timescales import BusinessCalendar

NOW = datetime(2026, 3, 4, 10, 15, tzinfo=UTC)  # a Wednesday, mid-morning
RUNS = 3


def config_text(url: str, state: Path) -> str:
    agencies = "\n".join(
        f'[[agency]]\nid = "{a}"\nname = "{a.title()}"\ncheck_address = "mash-checks@{a}.example"'
        f'\nreply_from = ["*@{a}.example"]\nsecurity = "tls"\n'
        for a in AGENCIES
    )
    return (
        f'[gateway]\ndatabase = "{url}"\nmash_address = "mash@hackney.example"\n'
        f'state_dir = "{state}"\n\n[smtp]\nhost = "127.0.0.1"\ntls = "none"\n\n'
        '[[manager]]\nname = "Duty Manager"\naddress = "duty.manager@hackney.example"\n\n'
        '[digest]\ntimes = ["09:00"]\n\n[meeting]\nenabled = true\nat = "08:30"\n\n' + agencies
    )


def referral(n: int, nhs: str, given: str, family: str, dob: str) -> bytes:
    """A new referral about a child already in the history (so matching finds them)."""
    day, month, year = dob[8:10], dob[5:7], dob[:4]
    return (
        f"From: Sam Teacher <sam.teacher{n}@school.example>\r\nTo: mash@hackney.example\r\n"
        f"Subject: MASH referral - {given} {family}\r\nMessage-ID: <bench-{n}@school.example>\r\n"
        "Date: Wed, 4 Mar 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Referrer's name: Sam Teacher\r\nRole: Designated Safeguarding Lead\r\n"
        f"Organisation: School\r\nEmail: sam.teacher{n}@school.example\r\n\r\n"
        f"Child's name: {given} {family}\r\nD.O.B.: {day}/{month}/{year}\r\n"
        f"NHS number: {nhs}\r\nAddress: 1 Mare Street, London E8 1AA\r\n"
        "Concern: Hungry at school again this week.\r\nCategory of concern: Neglect\r\n"
        "Immediate risk: No\r\nParents/carers aware of referral? Yes\r\nConsent: Given\r\n"
    ).encode()


def timed(fn: Callable[[], object], runs: int = RUNS, warm: bool = True) -> float:
    """Median milliseconds over RUNS calls, after one untimed call: the first call in a process
    compiles SQLAlchemy's statement cache, the regexes and the templates (about 80 ms for a
    referral), which a running daemon pays once, not per message."""
    if warm:
        fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


class Bench:
    def __init__(self, url: str, path: Path, config: Config) -> None:
        self.url, self.path, self.config = url, path, config
        self.db = Database(url)
        self.clock = FrozenClock(NOW)
        self.letters = Letters(DEFAULT_TEMPLATES, None)
        self.runner = CliRunner()
        self.uid = 0
        self.first = 1000
        self.processor = Processor(self.db, config, self.clock, self.letters,
                                   default_handlers(), "bench")

    def command(self, *args: str) -> None:
        result = self.runner.invoke(cli, ["-c", str(self.path), "--now", NOW.isoformat(), *args])
        if result.exit_code != 0:
            raise RuntimeError(f"{args}: exit {result.exit_code}: {result.output[-500:]}")

    def one_referral(self) -> None:
        self.uid += 1
        with self.db.transaction() as session:
            # A child from the history, picked from the middle: the match has to be found.
            row = session.execute(
                select(Contact.referral).where(Contact.id == 1 + (self.uid * 7919) % self.first)
            ).scalar_one()
        child = row["children"][0]
        raw = referral(self.uid, child["nhs_number"], child["given_name"],
                       child["family_name"], child["date_of_birth"])
        ingest(self.db, raw, Source("imap", "front-door", "INBOX", 2, self.uid),
               received_at=NOW, now=NOW, role="front-door")
        assert self.processor.process_due() == 1

    def digest(self) -> None:
        with self.db.transaction() as session:
            gather(session, self.config, BusinessCalendar.from_config(self.config), NOW)

    def agenda(self) -> None:
        with self.db.transaction() as session:
            session.execute(delete(DigestRun).where(DigestRun.kind == "meeting"))
        assert send_meeting_agenda(self.db, self.config, self.clock, self.letters) is not None

    def incremental_verify(self, checkpoint_id: int) -> None:
        # Each run leaves a newer checkpoint; start each from the day-old one again.
        with self.db.transaction() as session:
            session.execute(delete(LedgerCheckpoint).where(LedgerCheckpoint.id != checkpoint_id))
        self.command("audit", "verify")

    def size(self) -> int:
        if self.db.is_sqlite:
            base = Path(self.url.split("///", 1)[1])
            return sum(p.stat().st_size for p in base.parent.glob(base.name + "*"))
        with self.db.engine.connect() as connection:
            return int(connection.execute(text("SELECT pg_database_size(current_database())"))
                       .scalar_one())


def measure(
    url: str, scale: int, folder: Path, per_year: int, full: bool = True
) -> dict[str, str]:
    path = folder / "mailboxes.toml"
    path.write_text(config_text(url, folder / "state"), encoding="utf-8")
    config = load_config(path)
    db = Database(url)
    db.upgrade()
    builder = build(db, scale, NOW, per_year)
    db.dispose()
    bench = Bench(url, path, config)
    bench.first = min(1000, builder.total)
    with bench.db.transaction() as session:
        checkpoint_id = session.execute(select(func.max(LedgerCheckpoint.id))).scalar_one()
    ref = builder.sample_reference
    out: dict[str, float | None] = {
        "one referral end to end": timed(bench.one_referral, 5),
        "chase sweep (one tick)": timed(
            lambda: chase_due(bench.db, config, bench.clock, bench.letters)),
        "decision-clock sweep": timed(
            lambda: alert_overdue_decisions(bench.db, config, bench.clock, bench.letters)),
        "digest (gather)": timed(bench.digest),
        "meeting agenda": timed(bench.agenda),
        "checks list --overdue": timed(lambda: bench.command("checks", "list", "--overdue",
                                                             "--json")),
        "contacts list (a page)": timed(lambda: bench.command("contacts", "list", "--json")),
        "status --json": timed(lambda: bench.command("status", "--json")),
        "audit show REF": timed(lambda: bench.command("audit", "show", ref)),
        # What any command costs before its query: config, engine, schema check.
        "(CLI baseline: a 1-row list)": timed(
            lambda: bench.command("contacts", "list", "--limit", "1", "--json")),
        "audit verify (a day's events)": timed(lambda: bench.incremental_verify(checkpoint_id)),
        "audit verify --full": timed(
            lambda: bench.command("audit", "verify", "--full"), 1, warm=False)
        if full else None,
        "metrics scrape": timed(lambda: list(GatewayCollector(bench.db, config,
                                                              bench.clock).collect())),
    }
    size = bench.size()
    bench.db.dispose()
    table = {name: "not run" if ms is None else f"{ms:,.1f} ms" for name, ms in out.items()}
    years = scale * per_year / CONTACTS_PER_YEAR
    table["size per borough-year"] = f"{size / years / 1e6:,.0f} MB"
    print(f"  load average (1, 5, 15 min) after measuring: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores",
          file=sys.stderr)
    print(f"  {scale}x: {builder.contact_id:,} contacts, {builder.ids['check']:,} checks, "
          f"{builder.ids['message']:,} messages, {builder.ledger_id:,} ledger events "
          f"({builder.last_day_events:,} in the last day)", file=sys.stderr)
    return table


def postgres_database(base: str) -> tuple[str, Callable[[], None]]:
    name = f"mash_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.rsplit("/", 1)[0] + f"/{name}", drop


def print_table(database: str, results: dict[str, dict[str, str]]) -> None:
    print(f"\n{database}")
    header = f"{'operation':32}" + "".join(f"{s:>14}" for s in results)
    print(header)
    print("-" * len(header))
    for key in next(iter(results.values())):
        print(f"{key:32}" + "".join(f"{r[key]:>14}" for r in results.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10", help="Borough-years, e.g. 1,10,100.")
    parser.add_argument("--postgres", default=os.environ.get("MASH_TEST_POSTGRES_URL"),
                        help="A PostgreSQL server URL (a fresh database is made and dropped).")
    parser.add_argument("--per-year", type=int, default=CONTACTS_PER_YEAR,
                        help="Contacts a borough-year (smaller for a quick try).")
    parser.add_argument("--no-sqlite", action="store_true", help="Only PostgreSQL.")
    parser.add_argument("--full-up-to", type=int, default=None, metavar="SCALE",
                        help="Run `audit verify --full` only at scales up to SCALE (it is "
                             "linear: about 17 minutes at 100x).")
    parser.add_argument("--keep", action="store_true",
                        help="Keep the largest scale's database afterwards (its URL is printed), "
                             "to look into it; the smaller ones are removed as usual.")
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    databases = [] if args.no_sqlite else ["sqlite"]

    def label(scale: int) -> str:  # in borough-years
        return f"{scale * args.per_year / CONTACTS_PER_YEAR:g}x"

    if args.postgres:
        databases.append("postgresql")
    for database in databases:
        results: dict[str, dict[str, str]] = {}
        for scale in scales:
            keep = args.keep and scale == max(scales)
            full = args.full_up_to is None or scale <= args.full_up_to
            made = (contextlib.nullcontext(tempfile.mkdtemp(prefix="mash-scale-")) if keep
                    else tempfile.TemporaryDirectory(prefix="mash-scale-"))
            with made as tmp:
                folder = Path(tmp)
                if database == "sqlite":
                    sqlite = f"sqlite:///{folder / 'gateway.db'}"
                    results[label(scale)] = measure(sqlite, scale, folder, args.per_year, full)
                    kept = sqlite
                else:
                    url, drop = postgres_database(args.postgres)
                    kept = url
                    try:
                        results[label(scale)] = measure(url, scale, folder, args.per_year, full)
                    finally:
                        if not keep:
                            drop()
                if keep:
                    print(f"  kept {kept} (configuration: {folder / 'mailboxes.toml'})",
                          file=sys.stderr)
            # The table so far after each scale: a long 100x run shows 1x and 10x first.
            print_table(database, results)
            sys.stdout.flush()


if __name__ == "__main__":
    main()
