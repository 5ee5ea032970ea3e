"""How long a referral takes to parse, by shape: prints microseconds per referral.

.venv/bin/python bench/parse.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from email import message_from_bytes
from email.policy import default
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

sys.path.insert(0, str(ROOT / "bench"))

from costly import report as costly_report  # noqa: E402
from forms import DOCX_MIME, docx_form, pdf_form, with_attachment  # noqa: E402

from gateway.inbound.referral.kinds import free_text_referral  # noqa: E402
from gateway.inbound.referral.parse import parse_referral  # noqa: E402

REFERRALS = ROOT / "tests" / "data" / "referrals"


def shapes() -> dict[str, bytes]:
    plain = (REFERRALS / "plain-school.eml").read_bytes()
    return {
        "plain text labels": plain,
        "HTML table": (REFERRALS / "html-form.eml").read_bytes(),
        "two children + unborn": (REFERRALS / "two-children-unborn.eml").read_bytes(),
        "forwarded, quoted": (REFERRALS / "forwarded-quoted.eml").read_bytes(),
        ".docx attached": with_attachment(docx_form(), "r.docx", DOCX_MIME, subject="Referral"),
        "PDF form attached": with_attachment(pdf_form(), "r.pdf", "application/pdf", subject="R"),
        "2 MB narrative": plain.replace(
            b"Concern: Amira", b"Concern: " + b"worry words here. " * 120_000 + b"Amira"
        ),
        "free text (public)": (ROOT / "tests" / "data" / "mail" / "person-plain.eml").read_bytes(),
        # A pasted police chronology: one line per event (target: 50,000 lines under 1 s,
        # and at most 12 times the 5,000-line one).
        "5,000-line chronology": _chronology(plain, 5_000),
        "50,000-line chronology": _chronology(plain, 50_000),
    }


def _chronology(plain: bytes, lines: int) -> bytes:
    events = b"".join(
        b"%02d/%02d/2025 %02d:%02d Police attended; mother said the children were asleep (log %d)\n"
        % (1 + i % 28, 1 + i % 12, i % 24, i % 60, i)
        for i in range(lines)
    )
    return plain.replace(b"Concern: Amira", b"Concern: chronology follows\n" + events + b"Amira")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="parses per shape (default 200)")
    args = parser.parse_args()
    print(f"{'shape':24} {'MIME+form':>10} {'p95':>10} {'form only':>10}  fields  missing")
    for name, raw in shapes().items():
        # An attached form is read in a child process (about half a second): fewer rounds.
        costly = len(raw) > 1_000_000 or b"filename=" in raw
        rounds = max(3, args.rounds // 20) if costly else args.rounds
        times, form_only = [], []
        for _ in range(rounds):
            start = time.perf_counter()
            message = message_from_bytes(raw, policy=default)
            parsed = time.perf_counter()
            referral = parse_referral(message)
            if not referral.children:
                referral = free_text_referral(message) or referral
            end = time.perf_counter()
            times.append(end - start)
            form_only.append(end - parsed)
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(
            f"{name:24} {statistics.median(times) * 1e6:8.0f} µs {p95 * 1e6:8.0f} µs"
            f" {statistics.median(form_only) * 1e6:8.0f} µs"
            f"  {referral.recognised:6d}  {len(referral.missing)}"
        )
    print("MIME+form: bytes to a Referral; form only: the already-decoded message to a Referral")
    print(costly_report())


if __name__ == "__main__":
    main()
