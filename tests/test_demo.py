"""The demo, shortened to its first simulated day, against the scenario's known answers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

DAY_ONE = {
    # the school's form, the Word form, the neighbour, the A&E nurse at night, the police
    # notification
    "contacts": 5,
    "checks": {
        "red": {
            "requested": 2,
            "on time": 2,
            "late": 0,
            "unanswered": 0,
            "undeliverable": 0,
            "withdrawn": 0,
        },
        # probation is away (an out-of-office, its answer comes on day two); housing bounces
        "amber": {
            "requested": 2,
            "on time": 0,
            "late": 0,
            "unanswered": 1,
            "undeliverable": 1,
            "withdrawn": 0,
        },
    },
    "chases": 0,
    "escalations": 0,
    # the bounce; health's increased risk; the neighbour's "left alone" (managers and EDT, then
    # its first repeat to both: nobody answered for 40 minutes); the nurse's immediate risk
    # (managers and EDT)
    "alerts": 8,
    "letters_sent": 0,
    "letters_withheld": 0,
    # Kofi's health visitor did not seek consent; the manager's AMBER checks override it.
    "consent_overrides": 1,
    "digests": 3,  # 09:00, 13:00 and 16:00 on Monday
    "agendas": 0,  # Tuesday's 08:30 agenda falls after the first day
    "quarantined": 0,
    "bounces": 1,
    "disagreements": 0,  # the health visitor disagrees with Kofi's early help on day three
    "urgent_alerts": 3,
    "alerts_acknowledged": 3,  # by the manager in the day, by the EDT at night
}


M = "fewer than 5"


def test_the_first_demo_day_gives_the_scenario_answers(tmp_path: Path) -> None:
    world = tmp_path / "world"
    summary = tmp_path / "summary.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "demo",
            "--days",
            "1",
            "--speed",
            "0",
            "--no-color",
            "--dir",
            str(world),
            "--keep",
            "--summary-json",
            str(summary),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert json.loads(summary.read_text()) == DAY_ONE
    out = done.stdout
    assert "contact MASH-2026-000001 (school)" in out
    assert "RED check to police for MASH-2026-000001, due Mon 13:40" in out
    assert "reply from police on MASH-2026-000001 verified" in out
    assert "reply from health on MASH-2026-000001 INCREASED RISK" in out
    assert "out-of-office from probation" in out
    assert "consent (not-sought) overridden on MASH-2026-000002 by duty.manager@" in out
    # Out of hours the Emergency Duty Team has the urgent alert too, and its answer counts.
    assert "URGENT alert 3 on MASH-2026-000004: a new referral (out of hours), to the EDT" in out
    assert "alert 2 on MASH-2026-000003 not acknowledged: sent again (rung 1)" in out
    assert "alert 3 on MASH-2026-000004 acknowledged by Emergency Duty Team" in out
    assert "\x1b[" not in out  # --no-color, and not a terminal: plain lines
    assert (world / "report.json").exists() and list((world / "letters").glob("*.eml"))
    # The steering group's report on the demo's day, its small numbers hidden.
    assert "The steering group's report on these days" in out
    assert re.search(r"urgent alerts acknowledged\s+│?\s*fewer than 5", out), out[-2500:]
    kept = json.loads((world / "steering-report" / "figures.json").read_text())["figures"]
    assert kept["contacts"] == 5 and kept["urgent_alerts"] == M  # three: hidden
    assert (world / "steering-report" / "report.html").stat().st_size > 10_000
    # Nothing left running: no process still uses the world's directory.
    left = subprocess.run(["pgrep", "-f", str(world)], capture_output=True, text=True)
    assert left.stdout.strip() == ""
    # The kept configuration names a keyring that was kept with it.
    try:
        keys = subprocess.run(
            [
                sys.executable,
                "-m",
                "gateway",
                "keys",
                "list",
                "--config",
                str(world / "mailboxes.toml"),
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert keys.returncode == 0, keys.stderr
        pinned = {k["pinned_to"] for k in json.loads(keys.stdout)}
        assert {"the MASH", "agency police"} <= pinned
        # The kept record shows the override and the lawful basis of each share it allowed.
        shown = subprocess.run(
            [
                *(sys.executable, "-m", "gateway", "audit", "show", "MASH-2026-000002"),
                *("--config", str(world / "mailboxes.toml")),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shown.returncode == 0, shown.stderr
        assert "consent-overridden" in shown.stdout and "(ledger intact)" in shown.stdout
        assert "consent: not-sought, overridden by duty.manager@" in shown.stdout
        assert "lawful basis: UK GDPR Article 6(1)(e)" in shown.stdout
        # The steering group's report runs on the kept world.
        steering = world / "steering"
        report = subprocess.run(
            [sys.executable, "-m", "gateway", "--config", str(world / "mailboxes.toml"),
             "--now", "2026-03-05T12:00:00+00:00", "report", "--from", "2026-03-01",
             "--to", "2026-03-31", "--out", str(steering), "--format", "html,csv"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert report.returncode == 0, report.stderr
        figures = json.loads((steering / "figures.json").read_text())["figures"]
        assert figures["contacts"] in (M, *range(5, 100)) and figures["contacts"] != 0
        assert (steering / "report.html").stat().st_size > 10_000
    finally:
        subprocess.run(["gpgconf", "--homedir", str(world / "gnupg"), "--kill", "all"], check=False)
