"""Scheduled sweeps fail alone: each in its own error boundary, each check in its own
transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from sqlalchemy import select, update
from test_checks import AGENCIES, REFERRALS, MakeConfig, World, _mail, _request

from gateway.crypto.keyring import CryptoError
from gateway.daemon import Daemon
from gateway.store.models import AuditEvent, Check
from gateway.store.operations import SweepHealth
from gateway.sweeps import SWEEPS, Sweep, SweepContext, SweepRunner

MANAGER = "duty.manager@hackney.example"


@pytest.fixture
def mash(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> World:
    cfg, _ = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink, extra=AGENCIES)
    world = World(dovecot, smtp_sink, cfg)
    world.run((REFERRALS / "plain-school.eml").read_bytes())  # MASH-2026-000001
    return world


def _failing_release(_ctx: SweepContext) -> object:
    raise CryptoError("gpg: keyring locked by another process")


def _runner(daemon: Daemon, release: Sweep) -> SweepRunner:
    """The daemon's own sweeps, with the held-mail release replaced."""
    sweeps = tuple(release if s.name == "release-held" else s for s in SWEEPS)
    ctx = SweepContext(daemon.db, daemon.config, daemon.clock, daemon.letters)
    return SweepRunner(ctx, sweeps)


def _failing_alerts(world: World) -> list[str]:
    return [
        str(_mail(m)["Subject"])
        for m in world.sent(MANAGER)
        if "scheduled work is failing" in str(_mail(m)["Subject"])
    ]


def _health(world: World) -> SweepHealth | None:
    with world.daemon.db.transaction() as session:
        return session.get(SweepHealth, "release-held")


def test_a_failing_sweep_never_stops_the_others_and_alerts_once_per_streak(mash: World) -> None:
    world = mash
    (check_id,) = _request(world, "amber", "police")
    broken = Sweep("release-held", _failing_release, "sealing and sending held mail")
    world.daemon.sweeps = _runner(world.daemon, broken)
    world.clock.advance(timedelta(hours=24, minutes=1))  # the AMBER check is now due

    results = world.daemon.run_jobs()
    world.run()

    assert results["release-held"] == "CryptoError: gpg: keyring locked by another process"
    assert results["chase"] is None and results["digest"] is None
    # The chase after the failing sweep still ran and its reminder went out.
    assert len(world.sent("police-mash@met.example")) == 2
    with world.daemon.db.transaction() as session:
        check = session.get(Check, check_id)
        assert check is not None and check.chase_level == 1
    assert len(_failing_alerts(world)) == 1
    health = _health(world)
    assert health is not None and health.failing_since is not None and health.failures >= 2

    world.clock.advance(timedelta(minutes=5))
    world.run()  # still failing: counted, not alerted again
    assert len(_failing_alerts(world)) == 1
    failures = _health(world)
    assert failures is not None and failures.failures > health.failures

    world.daemon.sweeps = _runner(world.daemon, next(s for s in SWEEPS if s.name == "release-held"))
    world.run()  # recovered: the streak ends
    recovered = _health(world)
    assert recovered is not None and recovered.failing_since is None

    world.daemon.sweeps = _runner(world.daemon, broken)
    world.run()  # a new streak is a new alert
    assert len(_failing_alerts(world)) == 2
    with world.daemon.db.transaction() as session:
        logged = session.execute(
            select(AuditEvent.action).where(AuditEvent.action == "sweep-failing")
        ).all()
    assert len(logged) == 2


def test_one_check_that_cannot_be_chased_does_not_roll_back_the_others(mash: World) -> None:
    world = mash
    first, second = _request(world, "amber", "police", "health")
    with world.daemon.db.transaction() as session:
        # A row the code cannot chase (as after a bad manual edit): its RAG is unknown.
        session.execute(update(Check).where(Check.id == first).values(rag="purple"))
    world.clock.advance(timedelta(hours=24, minutes=1))

    world.run()

    assert len(world.sent("health-mash@nhs.example")) == 2  # request and reminder
    with world.daemon.db.transaction() as session:
        broken, healthy = session.get(Check, first), session.get(Check, second)
        assert broken is not None and broken.chase_level == 0 and broken.next_chase_at is not None
        assert healthy is not None and healthy.chase_level == 1


@pytest.mark.parametrize("name", [s.name for s in SWEEPS])
def test_every_sweep_is_named_and_described(name: str) -> None:
    sweep = next(s for s in SWEEPS if s.name == name)
    assert sweep.what and callable(sweep.run)
