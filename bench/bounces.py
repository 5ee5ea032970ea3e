"""How well bounces are read: the recipients that failed, and whether for good.

    .venv/bin/python bench/bounces.py [--corpus DIR] [--verbose]

DIR (default tests/data/bounces) holds bounces from many MTAs and expected.json (recipients and
permanence, see SOURCES.md there). Prints, per source and in total, side by side: the gateway's
reader (its DSN reader, flufl.bounce for the rest) and flufl.bounce alone.

- recipients right: the set of failed recipients equals the expected set.
- permanence right: permanent/temporary as expected; a reader that cannot say counts wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from email import message_from_bytes
from email.policy import default
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flufl.bounce import all_failures  # noqa: E402

from gateway.inbound.bounces import normalise_address, parse_bounce  # noqa: E402


def gateway_reading(raw: bytes) -> tuple[set[str], bool | None]:
    bounce = parse_bounce(message_from_bytes(raw, policy=default), "mash@example.org")
    return set(bounce.addresses), bounce.permanent


def flufl_reading(raw: bytes) -> tuple[set[str], bool | None]:
    try:
        temporary, permanent = all_failures(message_from_bytes(raw))
    except Exception:  # noqa: BLE001 - a detector that crashes reads nothing
        return set(), None
    found = {normalise_address(a.decode("utf-8", "replace")) for a in temporary | permanent}
    verdict = True if permanent else (False if temporary else None)
    return found - {""}, verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "tests" / "data" / "bounces")
    parser.add_argument("--verbose", action="store_true", help="print each bounce's marks")
    args = parser.parse_args()
    expected = json.loads((args.corpus / "expected.json").read_text(encoding="utf-8"))
    readers = {"gateway": gateway_reading, "flufl.bounce alone": flufl_reading}
    # rows[source][reader] = [recipients right, permanence right, both right, seconds]
    rows: dict[str, dict[str, list[float]]] = defaultdict(
        lambda: {name: [0, 0, 0, 0.0] for name in readers}
    )
    counts: dict[str, int] = defaultdict(int)
    mtas = set()
    for name, want in sorted(expected.items()):
        raw = (args.corpus / name).read_bytes()
        source = name.split("/")[0]
        counts[source] += 1
        mtas.add(want["mta"])
        marks = []
        for reader, read in readers.items():
            start = time.perf_counter()
            found, permanent = read(raw)
            row = rows[source][reader]
            row[3] += time.perf_counter() - start
            rcpt_ok = found == set(want["recipients"])
            perm_ok = permanent is want["permanent"]
            row[0] += rcpt_ok
            row[1] += perm_ok
            row[2] += rcpt_ok and perm_ok
            marks.append(f"{'R' if rcpt_ok else 'r'}{'P' if perm_ok else 'p'}")
        if args.verbose:
            print(f"{name}: {' '.join(marks)}")
    n = sum(counts.values())
    print(f"{n} bounces from {len(mtas)} MTAs and providers")
    print(f"{'source':14} {'n':>4} " + " ".join(f"{r:>30}" for r in readers))
    print(f"{'':14} {'':>4} " + " ".join(f"{'recipients/permanence/both':>30}" for _ in readers))
    total = {r: [0.0, 0.0, 0.0, 0.0] for r in readers}
    for source in sorted(rows):
        cells = []
        for reader in readers:
            row = rows[source][reader]
            total[reader] = [a + b for a, b in zip(total[reader], row, strict=True)]
            cells.append(f"{int(row[0]):>10}{int(row[1]):>10}{int(row[2]):>10}")
        print(f"{source:14} {counts[source]:>4} " + " ".join(cells))
    print(
        f"{'total':14} {n:>4} "
        + " ".join(f"{int(t[0]):>10}{int(t[1]):>10}{int(t[2]):>10}" for t in total.values())
    )
    print(
        f"{'share':14} {'':>4} "
        + " ".join(f"{t[0] / n:>10.1%}{t[1] / n:>10.1%}{t[2] / n:>10.1%}" for t in total.values())
    )
    print(
        f"{'ms per bounce':14} {'':>4} "
        + " ".join(f"{t[3] / n * 1000:>30.2f}" for t in total.values())
    )


if __name__ == "__main__":
    main()
