"""The three-docx bomb through the real daemon: how long until it is quarantined, at what memory.

    .venv/bin/python bench/costly.py        # also printed by bench/parse.py

Three Word files of about 100 KB, each expanding to 47 MB (under the 50 MB per-file cap), on
one referral, appended to a local Dovecot, then one `run_once` of the daemon (IMAP fetch,
pipeline, quarantine, IMAP move). Measured in a fresh process so its peak memory is its own
(children included). Target: quarantined as too-costly in under 5 s, under 300 MB.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))


def _child(path: str) -> None:
    from gateway_dev.localworld.dovecot import Dovecot
    from gateway_dev.localworld.smtpsink import RecordingSmtp
    from ingest import USERS, gateway_config
    from sqlalchemy import select

    from gateway.clock import SystemClock
    from gateway.config import parse_config
    from gateway.daemon import Daemon
    from gateway.store.models import Message

    raw = Path(path).read_bytes()  # built by the parent: building it costs more than reading
    dovecot = Dovecot(users=dict(USERS))
    dovecot.start()
    smtp = RecordingSmtp().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = parse_config(gateway_config(Path(tmp), dovecot, smtp), "bench")
            daemon = Daemon(config, SystemClock())
            daemon.prepare()
            dovecot.append("mash", raw)
            start = time.perf_counter()
            daemon.run_once()
            seconds = time.perf_counter() - start
            with daemon.db.transaction() as session:
                message = session.execute(select(Message)).scalar_one()
                outcome = f"{message.state} {message.quarantine_reason or message.kind}"
    finally:
        smtp.stop()
        dovecot.stop()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": max(own, children), "outcome": outcome}))


def three_docx_bomb() -> dict[str, object]:
    from bombs import three_bombs_message

    with tempfile.NamedTemporaryFile(suffix=".eml") as file:
        file.write(three_bombs_message())
        file.flush()
        done = subprocess.run(
            [sys.executable, __file__, "--child", file.name],
            capture_output=True,
            text=True,
            check=True,
        )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report() -> str:
    result = three_docx_bomb()
    seconds, peak = float(str(result["seconds"])), float(str(result["peak_mb"]))
    met = seconds < 5 and peak < 300 and "too-costly" in str(result["outcome"])
    verdict = "met" if met else "MISSED"
    return (
        f"three-docx bomb (3 x ~100 KB expanding to 47 MB): {result['outcome']} in {seconds:.2f} s,"
        f" peak memory {peak:.0f} MB (target < 5 s, < 300 MB: {verdict})"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2])
    else:
        print(report())
