"""How well automatic mail is told from people: auto-replies, bounces, reports, and persons.

    .venv/bin/python bench/autoreplies.py [--verbose]

Reads tests/data/automatic (auto-replies, feedback reports, bounces and people's mail from
public sources, labelled in expected.json; see SOURCES.md there) and the bounce corpus in
tests/data/bounces (every one a bounce). Prints per class, side by side, the gateway's detector
and a baseline that trusts RFC 3834 alone (Auto-Submitted other than "no"):

- auto_reply / report: recognised as automatic (never answered as a person).
- bounce: recognised as a bounce (read for its recipients), not only as automatic.
- person: wrongly taken for automatic (a person's mail that would go unanswered).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message
from email.policy import default
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.mail.automatic import detect  # noqa: E402


def gateway_verdict(message: Message) -> tuple[bool, bool]:
    found = detect(message, "bench-instance")
    return found.automatic, found.bounce


def rfc3834_verdict(message: Message) -> tuple[bool, bool]:
    value = str(message.get("Auto-Submitted", "") or "").split(";")[0].strip().lower()
    return bool(value) and value != "no", False


def _corpus() -> list[tuple[str, str, bytes]]:
    out = []
    for base in (ROOT / "tests" / "data" / "automatic", ROOT / "tests" / "data" / "bounces"):
        expected = json.loads((base / "expected.json").read_text(encoding="utf-8"))
        for name, want in sorted(expected.items()):
            label = want if isinstance(want, str) else "bounce"
            out.append((f"{base.name}/{name}", label, (base / name).read_bytes()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print every miss")
    args = parser.parse_args()
    detectors: dict[str, Callable[[Message], tuple[bool, bool]]] = {
        "gateway": gateway_verdict,
        "RFC 3834 only": rfc3834_verdict,
    }
    right: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(detectors, 0))
    counts: dict[str, int] = defaultdict(int)
    for name, label, raw in _corpus():
        message = message_from_bytes(raw, policy=default)
        counts[label] += 1
        for tool, verdict in detectors.items():
            automatic, bounce = verdict(message)
            ok = {
                "person": not automatic,
                "bounce": bounce,
            }.get(label, automatic)
            right[label][tool] += ok
            if args.verbose and not ok:
                print(f"miss ({tool}): {name} [{label}]")
    print(f"{'class':12} {'n':>5} " + " ".join(f"{tool:>16}" for tool in detectors))
    for label in ("auto_reply", "report", "bounce", "person"):
        cells = " ".join(f"{right[label][tool]:>16}" for tool in detectors)
        print(f"{label:12} {counts[label]:>5} {cells}")
    print("(person: right = not taken for automatic)")


if __name__ == "__main__":
    main()
