"""The steering group's report on a synthetic quarter with known answers (report_world.py),
on SQLite and PostgreSQL: every figure in figures.json, the page in headless Chromium, the
PDF's pages, the command line, and the scheduled send once across instances."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from report_world import REPORT_NOW, build

from gateway.reports.period import Period
from gateway.reports.render import write
from gateway.reports.steering import NOT_RECORDED
from gateway.reports.steering import build as build_report

M = "fewer than 5"
ZONE = ZoneInfo("Europe/London")
QUARTER = Period(date(2026, 1, 1), date(2026, 3, 31), ZONE)
SOURCES = ("police", "health", "school", "LA", "other", "individual")
CHANNELS = ("email", "police-notification", "rfi")
OUTCOMES = (
    "advice-and-guidance",
    "community-service",
    "early-help",
    "statutory-assessment",
    "no-further-action",
    "forwarded-to-unit",
)
CELL = ("requested", "answered", "on_time", "due", "withdrawn", "chases", "escalations",
        "increased_risk", "undeliverable", "out_of_office")  # fmt: skip


def _sources(**given: Any) -> dict[str, Any]:
    return {s: given.get(s, 0) for s in SOURCES}


def _week(
    monday: str, contacts: Any = 0, by_source: Any = None, by_channel: Any = None
) -> dict[str, Any]:
    return {
        "week_starting": monday,
        "contacts": contacts,
        "by_source": _sources(**(by_source or {})),
        "by_channel": {c: (by_channel or {}).get(c, 0) for c in CHANNELS},
    }


def _cell(share: Any = None, median: Any = None, p90: Any = None, **counts: Any) -> dict[str, Any]:
    return {
        **{name: counts.get(name, 0) for name in CELL},
        "on_time_share": share,
        "median_response_hours": median,
        "p90_response_hours": p90,
    }


SMALL_RED = _cell(M, M, M, requested=M, answered=M, on_time=M, due=M, increased_risk=M)
SMALL_AMBER = _cell(M, M, M, requested=M, answered=M, on_time=M, due=M)
GREEN = _cell(M, M, M, requested=5, answered=M, on_time=M, due=M, withdrawn=M, undeliverable=M)
POLICE = _cell(
    0.5, 24.0, 55.8, requested=10, answered=10, on_time=5, due=10, chases=9, escalations=M
)
EMPTY = _cell()
CHECKS = {
    "all": {
        "all": _cell(0.6667, 22.0, 59.6, requested=19, answered=17, on_time=12, due=18,
                     withdrawn=M, chases=9, escalations=M, increased_risk=M, undeliverable=M),
        "red": SMALL_RED,
        "amber": _cell(0.5833, 21.0, 53.4, requested=12, answered=12, on_time=7, due=12,
                       chases=9, escalations=M),
        "green": GREEN,
    },
    "police": {"all": POLICE, "red": EMPTY, "amber": POLICE, "green": EMPTY},
    "health": {
        "all": _cell(M, 24.0, 60.0, requested=7, answered=5, on_time=5, due=6, withdrawn=M,
                     increased_risk=M, undeliverable=M),
        "red": SMALL_RED,
        "amber": EMPTY,
        "green": GREEN,
    },
    "education": {"all": SMALL_AMBER, "red": EMPTY, "amber": SMALL_AMBER, "green": EMPTY},
}  # fmt: skip

EXPECTED: dict[str, Any] = {
    "contacts": 34,
    # LA (5) is hidden beside individual (3), or 34 - the rest would give individual away.
    "contacts_by_source": _sources(police=5, health=6, school=8, LA=M, other=7, individual=M),
    "contacts_by_channel": {"email": 24, "police-notification": 5, "rfi": 5},
    "contacts_per_week": [
        _week("2025-12-29"),
        _week("2026-01-05"),
        _week("2026-01-12", 8, {"school": 8}, {"email": 8}),
        _week("2026-01-19"),
        _week("2026-01-26"),
        _week("2026-02-02", 6, {"health": 6}, {"email": 6}),
        _week("2026-02-09", 5, {"police": 5}, {"police-notification": 5}),
        _week("2026-02-16"),
        _week("2026-02-23"),
        _week("2026-03-02", 5, {"LA": 5}, {"email": 5}),
        _week("2026-03-09", 5, {"other": 5}, {"rfi": 5}),
        _week("2026-03-16", 5, {"other": M, "individual": M}, {"email": 5}),
        _week("2026-03-23"),
        _week("2026-03-30"),
    ],
    "out_of_hours": 8,
    "out_of_hours_share": 0.2353,
    "contacts_about_open_cases": M,
    "contacts_routed_back": 0,
    "police_notifications": 5,
    "information_requests": 5,
    # S7 and S8 by their forms; H2, H3 and L1 by their referrers' Saturday-night mail.
    "urgent_contacts": 5,
    # The five police notifications are asked for nothing (issue 14): not incomplete.
    "incomplete_contacts": M,
    "re_referrals_12m": 6,
    "re_referral_share": 0.1765,
    # B (3) hidden, and so A (7), the smallest other.
    "decisions": {"A": M, "B": M, "C": 7, "D": 8},
    "outcomes": {
        "advice-and-guidance": M,
        "community-service": M,
        "early-help": 6,
        "statutory-assessment": 5,
        "no-further-action": 12,
        "forwarded-to-unit": M,
    },
    "statutory_assessments_by_section": {"17": M, "47": M, "not given": 0},
    "conversion_by_source": {
        "police": {**dict.fromkeys(OUTCOMES, 0), "no-further-action": M, "forwarded-to-unit": M},
        "health": {
            **dict.fromkeys(OUTCOMES, 0),
            "community-service": M,
            "early-help": M,
            "statutory-assessment": M,
        },
        "school": {
            **dict.fromkeys(OUTCOMES, 0),
            "advice-and-guidance": M,
            "early-help": M,
            "statutory-assessment": M,
            "no-further-action": M,
        },
        "LA": {
            **dict.fromkeys(OUTCOMES, 0),
            "advice-and-guidance": M,
            "community-service": M,
            "early-help": M,
            "statutory-assessment": M,
        },
        # 5 information requests answered: hidden beside the 1 early help.
        "other": {**dict.fromkeys(OUTCOMES, 0), "early-help": M, "no-further-action": M},
        "individual": {**dict.fromkeys(OUTCOMES, 0), "no-further-action": M},
    },
    "letters_sent": 22,
    "letters_withheld": 6,
    # Investigation (5) is hidden beside third party (1): 6 - 5 would give it away.
    "letters_withheld_by_reason": {
        "risk-to-child": 0,
        "investigation": M,
        "third-party": M,
        "told-another-way": 0,
        "other": 0,
        "not given": 0,
    },
    "letters_not_possible": 0,
    # Given on 20 forms and by P3 and P4 to the manager; refused by P1, P2, O2, I1, I2 and
    # I3; overridden (after the quarter) for O2, I2 and I3.
    "consent_given": 22,
    "consent_refused": 6,
    "consent_overridden": M,
    # Two hidden already (escalated 1, S8's still open 1): no third needed.
    "disagreements_raised": 13,
    "disagreement_outcomes": {"upheld": 5, "not-upheld": 6, "escalated": M, "open": M},
    "timeliness": {
        "decision_24h": {"met": 6, "late": 0, "running": M, "share": 1.0},
        # 5 of 7: the share would give the 2 late away.
        "decision_72h": {"met": 6, "late": M, "running": 0, "share": M},
        "rfi_10_working_days": {"met": 5, "late": 0, "running": 0, "share": 1.0},
    },
    "decision_within_24h_share": 1.0,
    "decision_within_72h_share": M,
    "rfi_within_10_working_days_share": 1.0,
    "data_quality": {
        "referrals": 29,
        "missing_date_of_birth": M,
        "missing_nhs_number": 10,
        "missing_consent": M,
        "missing_referrer_details": 0,
    },
    "checks": CHECKS,
    "checks_requested": 19,
    "on_time_share": 0.6667,
    "median_response_hours": 22.0,
    "p90_response_hours": 59.6,
    "chases": 9,
    "escalations": M,
    "increased_risk_flags": M,
    "undeliverable": M,
    # 6 raised; 3 out of hours, to the EDT as well; 5 acknowledged (10, 20, 45, 5, 90
    # minutes), 3 in the 30 minutes; 3 sent again; the median 20 minutes.
    "urgent_alerts": 6,
    "urgent_alerts_out_of_hours": M,
    "urgent_alerts_to_edt": M,
    "urgent_alerts_acknowledged": 5,
    "urgent_alerts_acknowledged_in_time": M,
    "urgent_alerts_escalated": M,
    "urgent_alert_acknowledged_median_minutes": 20.0,
}

TRENDS = {
    "contacts": (34, 6, 28),
    "contacts_by_source.police": (5, 0, 5),
    "contacts_by_source.health": (6, 0, 6),
    "contacts_by_source.school": (8, 6, 2),
    "contacts_by_source.LA": (M, 0, M),
    "contacts_by_source.other": (7, 0, 7),
    "contacts_by_source.individual": (M, 0, M),
    "out_of_hours_share": (0.2353, 0.0, 0.2353),
    "contacts_about_open_cases": (M, 0, M),
    "police_notifications": (5, 0, 5),
    "information_requests": (5, 0, 5),
    "urgent_contacts": (5, 0, 5),
    "urgent_alerts": (6, 0, 6),
    "urgent_alerts_acknowledged": (5, 0, 5),
    "urgent_alert_acknowledged_median_minutes": (20.0, None, None),
    "re_referrals_12m": (6, 0, 6),
    "re_referral_share": (0.1765, 0.0, 0.1765),
    "decisions.A": (M, M, M),
    "decisions.B": (M, 0, M),
    "decisions.C": (7, 0, 7),
    "decisions.D": (8, 0, 8),
    "decision_within_24h_share": (1.0, None, None),
    "decision_within_72h_share": (M, None, M),
    "rfi_within_10_working_days_share": (1.0, None, None),
    "checks_requested": (19, 5, 14),
    "on_time_share": (0.6667, 1.0, -0.3333),
    "median_response_hours": (22.0, 2.0, 20.0),
    "p90_response_hours": (59.6, 2.0, 57.6),
    "chases": (9, 0, 9),
    "escalations": (M, 0, M),
    "increased_risk_flags": (M, 0, M),
    "undeliverable": (M, 0, M),
    "letters_sent": (22, 0, 22),
    "letters_withheld": (6, M, M),
    "consent_given": (22, 6, 16),
    "consent_refused": (6, 0, 6),
    "consent_overridden": (M, 0, M),
    "disagreements_raised": (13, M, M),
    "data_quality.missing_date_of_birth": (M, 0, M),
    "data_quality.missing_nhs_number": (10, 0, 10),
    "data_quality.missing_consent": (M, 0, M),
    "data_quality.missing_referrer_details": (0, 0, 0),
}


@pytest.fixture(scope="module")
def quarter_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quarter on SQLite, built once for the page, PDF and command-line tests."""
    folder = tmp_path_factory.mktemp("quarter")
    world = build(f"sqlite:///{folder / 'gateway.db'}", folder)
    world.daemon.db.dispose()
    return folder


def test_every_figure_of_the_synthetic_quarter(db_url: str, tmp_path: Path) -> None:
    world = build(db_url, tmp_path)
    report = build_report(world.daemon.db, world.config, QUARTER, REPORT_NOW)
    write(report, tmp_path / "out", ("csv",))
    document = json.loads((tmp_path / "out" / "figures.json").read_text(encoding="utf-8"))
    assert document["period"] == {"from": "2026-01-01", "to": "2026-03-31", "days": 90}
    assert document["previous_period"] == {"from": "2025-10-03", "to": "2025-12-31", "days": 90}
    assert document["suppression"] == {"threshold": 5, "marker": M, "not_recorded": None}
    figures = document["figures"]
    # Every figure the issue asks for is recorded now: none is published as "not recorded".
    assert NOT_RECORDED == ()
    assert set(figures) == set(EXPECTED)
    wrong = {name: figures[name] for name, value in EXPECTED.items() if figures[name] != value}
    assert not wrong, "\n".join(_leaf_diff(figures[n], EXPECTED[n], n) for n in wrong)
    assert {
        name: (t["current"], t["previous"], t["change"]) for name, t in document["trends"].items()
    } == TRENDS
    # The exact counts behind the hidden ones, from the same queries before publishing.
    raw = report.raw
    assert raw["contacts_by_source"] == _sources(
        police=5, health=6, school=8, LA=5, other=7, individual=3
    )
    assert raw["decisions"] == {"A": 7, "B": 3, "C": 7, "D": 8}
    assert raw["timeliness"]["decision_72h"] == {"met": 6, "late": 2, "running": 0, "share": 0.75}
    assert raw["checks"]["all"]["all"]["escalations"] == 4
    assert raw["contacts_about_open_cases"] == 2
    assert raw["letters_withheld_by_reason"] == {
        "risk-to-child": 0, "investigation": 5, "third-party": 1, "told-another-way": 0,
        "other": 0, "not given": 0,
    }  # fmt: skip
    assert (raw["consent_given"], raw["consent_refused"], raw["consent_overridden"]) == (22, 6, 3)
    assert raw["disagreement_outcomes"] == {"upheld": 5, "not-upheld": 6, "escalated": 1, "open": 1}
    assert {k: v for k, v in raw.items() if k.startswith("urgent_alert")} == {
        "urgent_alerts": 6, "urgent_alerts_out_of_hours": 3, "urgent_alerts_to_edt": 3,
        "urgent_alerts_acknowledged": 5, "urgent_alerts_acknowledged_in_time": 3,
        "urgent_alerts_escalated": 3, "urgent_alert_acknowledged_median_minutes": 20.0,
    }  # fmt: skip
    # The previous period: Q1's letter withheld with no kind of reason, Q2's disagreement open.
    before = report.raw_previous
    assert before["letters_withheld_by_reason"]["not given"] == 1
    assert before["consent_given"] == 6 and before["consent_refused"] == 0
    assert before["disagreements_raised"] == 1 and before["disagreement_outcomes"]["open"] == 1
    withheld_csv = (tmp_path / "out" / "letters_withheld.csv").read_text(encoding="utf-8")
    assert withheld_csv.splitlines() == [
        "reason,letters", "risk to child,0", f"investigation,{M}", f"third party,{M}",
        "told another way,0", "other,0", "not given,0",
    ]  # fmt: skip
    disagreements_csv = (tmp_path / "out" / "disagreements.csv").read_text(encoding="utf-8")
    assert disagreements_csv.splitlines() == [
        "outcome,disagreements", "upheld,5", "not upheld,6", f"escalated,{M}", f"still open,{M}",
    ]  # fmt: skip
    headline_csv = (tmp_path / "out" / "headline.csv").read_text(encoding="utf-8").splitlines()
    assert "consent refused,6" in headline_csv and "disagreements raised,13" in headline_csv
    assert "urgent alerts acknowledged,5" in headline_csv
    assert "urgent alert acknowledged median minutes,20 min" in headline_csv
    # One CSV per table, with the same published values.
    checks_csv = (tmp_path / "out" / "checks.csv").read_text(encoding="utf-8").splitlines()
    assert checks_csv[0].startswith("agency,RAG,requested,answered,on time")
    assert "police,amber,10,10,5,50.0%,24.0 h,55.8 h,9,fewer than 5,0,0" in checks_csv
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        ["figures.json", "headline.csv", "contacts_by_source.csv", "contacts_per_week.csv",
         "decisions.csv", "conversion_by_source.csv", "timeliness.csv", "checks.csv",
         "letters_withheld.csv", "disagreements.csv", "data_quality.csv", "trends.csv"]
    )  # fmt: skip


IN_CI = os.environ.get("CI") == "true"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if IN_CI:
            pytest.fail(f"{name} is not installed: .ci/run installs it")
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    return found


def _charts_drawn(images: list[Path], charts: int) -> None:
    """Every chart's frame (its own colour) is found on some image, with its inside drawn:
    enough pixels that are not white, in more than two colours (bars, axes, text)."""
    import numpy as np
    from PIL import Image

    from gateway.reports.render import frame_colour

    pictures = [np.asarray(Image.open(p).convert("RGB")).astype(np.int16) for p in images]
    for picture in pictures:
        assert (picture.sum(axis=2) < 700).mean() > 0.01, "a blank page"
    red, green, _blue = frame_colour(0)
    # Pixels of the frames' beige (any chart), then each chart's by its blue channel.
    beige = [(np.abs(p[:, :, 0] - red) <= 1) & (np.abs(p[:, :, 1] - green) <= 1) for p in pictures]
    for index in range(charts):
        blue = frame_colour(index)[2]
        for picture, candidates in zip(pictures, beige, strict=True):
            frame = candidates & (np.abs(picture[:, :, 2] - blue) <= 1)
            if frame.sum() > 1000:
                ys, xs = np.where(frame)
                inside = picture[ys.min() + 6 : ys.max() - 6, xs.min() + 6 : xs.max() - 6]
                assert inside.size, f"chart {index}: an empty frame"
                drawn = (inside.sum(axis=2) < 720).mean()
                colours = len(np.unique(inside.reshape(-1, 3), axis=0))
                assert drawn > 0.02 and colours > 2, f"chart {index} not drawn ({drawn:.3f})"
                break
        else:
            raise AssertionError(f"chart {index}: its frame is on no page")


def _report(folder: Path, formats: tuple[str, ...]) -> Path:
    from gateway.config import load_config
    from gateway.store.db import Database

    config = load_config(folder / "mailboxes.toml")
    db = Database(config.gateway.database)
    try:
        report = build_report(db, config, QUARTER, REPORT_NOW)
    finally:
        db.dispose()
    out = folder / "out"
    write(report, out, formats)
    return out


def test_the_page_in_headless_chromium_and_the_pdf_pages(
    quarter_sqlite: Path, tmp_path: Path
) -> None:
    from gateway.reports.charts import all_charts

    chromium = _tool("chromium")
    pdftoppm = _tool("pdftoppm")
    out = _report(quarter_sqlite, ("html", "pdf"))
    page = (out / "report.html").read_text(encoding="utf-8")
    # Self-contained: nothing to run, and nothing fetched from anywhere.
    for needle in (
        "<script",
        "<link",
        "<img",
        "<iframe",
        "src=",
        'href="http',
        "url(http",
        "@import",
    ):
        assert needle not in page, needle
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "an id used twice: one chart would draw another's shapes"
    assert "MASH steering group report" in page and "Appendix: what each figure means" in page
    charts = len(all_charts(json.loads((out / "figures.json").read_text())["figures"]))
    assert page.count("<svg") == charts == 7

    shot = tmp_path / "page.png"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--force-device-scale-factor=1", "--window-size=1100,14000",
         f"--screenshot={shot}", (out / "report.html").as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    _charts_drawn([shot], charts)

    subprocess.run(
        [pdftoppm, "-r", "96", "-png", str(out / "report.pdf"), str(tmp_path / "pdf")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    pages = sorted(tmp_path.glob("pdf-*.png"))
    assert len(pages) >= 3
    _charts_drawn(pages, charts)


def test_report_on_the_command_line(quarter_sqlite: Path, tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway", "-c", str(quarter_sqlite / "mailboxes.toml"),
             "--now", REPORT_NOW.isoformat(), "report", *args],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    out = tmp_path / "q1"
    done = cli("--from", "2026-01-01", "--to", "2026-03-31", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["figures.json", "report.html", "headline.csv", "contacts_by_source.csv",
         "contacts_per_week.csv", "decisions.csv", "conversion_by_source.csv",
         "timeliness.csv", "checks.csv", "letters_withheld.csv", "disagreements.csv",
         "data_quality.csv", "trends.csv"]
    )  # fmt: skip
    figures = json.loads((out / "figures.json").read_text())["figures"]
    assert figures["contacts"] == 34 and figures["decisions"] == EXPECTED["decisions"]
    headline = (out / "headline.csv").read_text().splitlines()
    assert "contacts about open cases,fewer than 5" in headline
    assert "consent overridden,fewer than 5" in headline
    assert "urgent alert acknowledged median minutes,20 min" in headline

    bad = cli("--from", "2026-01-01", "--to", "2026-03-31", "--out", str(out), "--format", "docx")
    assert bad.returncode == 2 and "--format" in bad.stderr
    backwards = cli("--from", "2026-03-31", "--to", "2026-01-01", "--out", str(out))
    assert backwards.returncode == 2 and "before" in backwards.stderr
    no_readers = cli("--from", "2026-01-01", "--to", "2026-03-31", "--out", str(out), "--email")
    assert no_readers.returncode == 2 and "recipients" in no_readers.stderr


def test_the_scheduled_report_goes_once_per_quarter_across_instances(
    db_url: str, tmp_path: Path
) -> None:
    from datetime import UTC, datetime
    from email import message_from_bytes
    from email.policy import default

    from report_world import config_text
    from sqlalchemy import func, select

    from gateway.clock import FrozenClock
    from gateway.config import load_config
    from gateway.outbound.compose import Letters
    from gateway.reports.schedule import send_scheduled_report
    from gateway.store.db import Database
    from gateway.store.models import AuditEvent, DigestRun, OutboxRow

    key = "0123456789ABCDEF0123456789ABCDEF01234567"
    readers = (
        '[reports]\nschedule = "quarterly"\nformats = ["html", "csv"]\n'
        f'recipients = ["chair@hackney.example", {{address = "dci@met.example", key = "{key}"}}]\n'
    )
    configs = []
    for instance in ("one", "two"):
        folder = tmp_path / instance
        folder.mkdir()
        (folder / "mailboxes.toml").write_text(
            config_text(db_url, folder / "state", readers).replace(
                "state_dir =", f'instance = "{instance}"\nstate_dir ='
            ),
            encoding="utf-8",
        )
        configs.append(load_config(folder / "mailboxes.toml"))
    db = Database(db_url)
    db.upgrade()
    letters = Letters()

    def sweep(config: Any, when: str) -> int | None:
        clock = FrozenClock(datetime.fromisoformat(when).astimezone(UTC))
        return send_scheduled_report(db, config, clock, letters)

    # Wednesday 1 April 2026 is the quarter's first working day; 09:00 is BST.
    assert sweep(configs[0], "2026-04-01T08:59+01:00") is None
    assert sweep(configs[0], "2026-04-01T09:00+01:00") == 2
    assert sweep(configs[1], "2026-04-01T09:05+01:00") is None  # the other instance
    assert sweep(configs[0], "2026-04-02T09:00+01:00") is None  # the next day
    with db.transaction() as session:
        runs = (
            session.execute(select(DigestRun).where(DigestRun.kind == "steering-report"))
            .scalars()
            .all()
        )
        assert [(r.slot_at.isoformat(), r.owner) for r in runs] == [
            ("2026-04-01T08:00:00+00:00", "one")
        ]
        rows = (
            session.execute(
                select(OutboxRow)
                .where(OutboxRow.purpose.like("steering group report%"))
                .order_by(OutboxRow.id)
            )
            .scalars()
            .all()
        )
        assert [(r.recipients, r.state) for r in rows] == [
            (["chair@hackney.example"], "pending"),
            # A reader with a key is never sent the report in clear: held until it is sealed.
            (["dci@met.example"], "held"),
        ]
        assert rows[0].purpose == "steering group report 2026-01-01 to 2026-03-31"
        mail = message_from_bytes(rows[0].raw, policy=default)
        names = sorted(part.get_filename() for part in mail.iter_attachments())
        assert "report.html" in names and "figures.json" in names and "checks.csv" in names
        assert "report.pdf" not in names
        assert "MASH steering group report, 1 January 2026 to 31 March 2026" in str(mail["Subject"])
        events = session.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "steering-report")
        ).scalar_one()
        assert events == 1
    # `report --email`: to the same readers now, whatever the schedule.
    from gateway.reports.schedule import send_now

    report = build_report(db, configs[0], QUARTER, REPORT_NOW)
    assert send_now(db, configs[0], letters, REPORT_NOW, report, ("html",)) == 2
    with db.transaction() as session:
        states = session.execute(
            select(OutboxRow.state).where(OutboxRow.purpose.like("steering group report%"))
        ).scalars()
        assert sorted(states) == ["held", "held", "pending", "pending"]
    db.dispose()


def test_small_numbers_are_hidden_and_cannot_be_worked_out() -> None:
    from gateway.reports import suppress

    assert [suppress.count(n) for n in (0, 1, 4, 5, 12)] == [0, M, M, 5, 12]
    # One hidden cell beside a published total: the next smallest goes too.
    assert suppress.group({"a": 3, "b": 7, "c": 9, "d": 0}) == {"a": M, "b": M, "c": 9, "d": 0}
    assert suppress.group({"a": 3, "b": 2, "c": 9}) == {"a": M, "b": M, "c": 9}
    assert suppress.group({"a": 0, "b": 9}) == {"a": 0, "b": 9}
    # A share hides its count, its base and what is left of the base.
    assert suppress.share(0.5, 5, 10) == 0.5
    assert suppress.share(0.7143, 5, 7) == M
    assert suppress.share(0.75, 3, 4) == M
    assert suppress.share(1.0, 6, 6) == 1.0
    assert suppress.share(None, 0, 0) is None
    assert suppress.change(M, 3) == M and suppress.change(5, None) is None
    assert suppress.change(0.25, 0.5) == -0.25 and suppress.change(7, 9) == -2


def test_periods_weeks_and_schedules() -> None:
    from datetime import UTC, datetime

    from helpers import config

    from gateway.reports.period import month_before, quarter_before
    from gateway.reports.schedule import due_slot
    from gateway.timescales import BusinessCalendar

    assert QUARTER.previous() == Period(date(2025, 10, 3), date(2025, 12, 31), ZONE)
    assert QUARTER.start.isoformat() == "2026-01-01T00:00:00+00:00"
    # The end is midnight in London, in summer time by 31 March 2026.
    assert QUARTER.end.isoformat() == "2026-03-31T23:00:00+00:00"
    weeks = QUARTER.weeks()
    assert len(weeks) == 14 and weeks[0][0] == date(2025, 12, 29)
    assert weeks[0][1] == QUARTER.start  # a part week begins with the period
    assert quarter_before(date(2026, 4, 1)) == (date(2026, 1, 1), date(2026, 3, 31))
    assert quarter_before(date(2026, 2, 10)) == (date(2025, 10, 1), date(2025, 12, 31))
    assert month_before(date(2026, 3, 2)) == (date(2026, 2, 1), date(2026, 2, 28))
    with pytest.raises(ValueError, match="before"):
        Period(date(2026, 3, 1), date(2026, 2, 1), ZONE)

    monthly = config('[reports]\nschedule = "monthly"\nrecipients = ["chair@hackney.example"]\n')
    calendar = BusinessCalendar.from_config(monthly)
    # Saturday 1 August 2026: the first working day is Monday the 3rd.
    assert due_slot(datetime(2026, 8, 1, 12, tzinfo=UTC), monthly, calendar) is None
    slot, period = due_slot(datetime(2026, 8, 3, 8, 0, tzinfo=UTC), monthly, calendar) or (
        None,
        None,
    )
    assert slot is not None and slot.isoformat() == "2026-08-03T09:00:00+01:00"
    assert period == Period(date(2026, 7, 1), date(2026, 7, 31), ZONE)
    # 1 January is a bank holiday: the month's first working day is the 2nd.
    slot, _ = due_slot(datetime(2026, 1, 2, 10, tzinfo=UTC), monthly, calendar) or (None, None)
    assert slot is not None and slot.date() == date(2026, 1, 2)
    with pytest.raises(Exception, match="needs recipients"):
        config('[reports]\nschedule = "quarterly"\n')


def test_a_reader_with_a_key_gets_the_report_signed_and_encrypted(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from pgp_world import Party
    from sqlalchemy import select

    from gateway.config import parse_config
    from gateway.crypto.keyring import Keyring
    from gateway.outbound.compose import Letters
    from gateway.reports.schedule import send_now
    from gateway.store.db import Database
    from gateway.store.models import OutboxRow

    mash = Party(tmp_path, "Hackney MASH", "mash@hackney.example")
    chair = Party(tmp_path, "Steering group chair", "chair@hackney.example")
    keyring = Keyring(tmp_path / "gateway", signing_key=mash.fingerprint)
    keyring.import_keys(mash.secret())
    keyring.import_keys(chair.public())
    chair.learn(mash.public())
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    config = parse_config(
        f"""
[gateway]
database = "{url}"
mash_address = "mash@hackney.example"
gnupg_home = "{tmp_path / "gateway"}"
signing_key = "{mash.fingerprint}"
[smtp]
host = "127.0.0.1"
tls = "none"
[reports]
recipients = [
  {{address = "chair@hackney.example", key = "{chair.fingerprint}"}},
  "clerk@hackney.example",
]
""",
        "sealed.toml",
    )
    db = Database(url)
    db.upgrade()
    try:
        now = datetime(2026, 4, 1, 8, tzinfo=UTC)
        report = build_report(db, config, QUARTER, now)
        assert send_now(db, config, Letters(keyring=keyring), now, report, ("html",)) == 2
        with db.transaction() as session:
            rows = {
                r.recipients[0]: r
                for r in session.execute(select(OutboxRow)).scalars()
                if r.purpose.startswith("steering group report")
            }
        sealed, clear = rows["chair@hackney.example"], rows["clerk@hackney.example"]
        assert sealed.state == clear.state == "pending"
        # Outside: only a neutral subject and the ciphertext; inside, the whole report.
        assert b"-----BEGIN PGP MESSAGE-----" in sealed.raw
        assert b"report.html" not in sealed.raw and b"figures.json" not in sealed.raw
        from email import message_from_bytes
        from email.policy import default

        assert str(message_from_bytes(sealed.raw, policy=default)["Subject"]) == (
            "MASH steering group report"
        )
        armored = re.search(
            rb"-----BEGIN PGP MESSAGE-----.*?-----END PGP MESSAGE-----", sealed.raw, re.S
        )
        assert armored is not None
        inside = chair.decrypt(armored.group(0))
        assert b"report.html" in inside and b"figures.json" in inside
        assert b"report.html" in clear.raw and b"-----BEGIN PGP" not in clear.raw
    finally:
        db.dispose()
        for home in (mash.home, chair.home, keyring.home):
            subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


def _leaf_diff(got: Any, want: Any, path: str) -> str:
    """Only the leaves that differ, one per line: a figure's tree is too big to read whole."""
    if isinstance(got, dict) and isinstance(want, dict):
        keys = sorted(set(got) | set(want))
        parts = (_leaf_diff(got.get(k), want.get(k), f"{path}.{k}") for k in keys)
        return "\n".join(part for part in parts if part)
    return "" if got == want else f"{path}: got {got!r}, expected {want!r}"
