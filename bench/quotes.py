"""How well a reply's new text is separated from its quoted history, against two libraries.

    .venv/bin/python bench/quotes.py [--samples DIR] [--verbose]

DIR holds .txt files (searched recursively): the reply, a line `=== NEW ===`, then the new text
a person would keep (default: tests/data/replies, the project's samples and the public corpus in
tests/data/replies/corpus/, see its SOURCES.md). Prints, per source and in total, how many the
gateway's splitter got right, and the same for email-reply-parser and mail-parser-reply when
installed (`pip install email-reply-parser mail-parser-reply`), all in one run.

"right" compares after whitespace is collapsed. "right, sig-blind" also ignores a trailing
signature ("-- " and below) and device lines ("Sent from my iPhone", "Get Outlook for iOS"):
keeping or dropping those is a matter of taste, losing the answer or keeping the history is not.
"kept all" counts results that contain every line of the expected text (nothing of the answer
lost, whatever history was kept with it).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.inbound.quotes import new_text  # noqa: E402

_DEVICE = re.compile(
    r"^\s*(sent from|sent with|get outlook for|envoyé de|envoyé à partir|von meinem|"
    r"gesendet von)\b.*$",
    re.I | re.M,
)
_SIGNATURE = re.compile(r"^-- ?$.*", re.M | re.S)


def _norm(text: str) -> str:
    return " ".join(text.split())


def _sig_blind(text: str) -> str:
    return _norm(_DEVICE.sub("", _SIGNATURE.sub("", text)))


def splitters() -> dict[str, Callable[[str], str]]:
    found: dict[str, Callable[[str], str]] = {"gateway": new_text}
    try:
        from email_reply_parser import EmailReplyParser

        found["email-reply-parser"] = EmailReplyParser.parse_reply
    except ImportError:
        pass
    try:
        from mailparser_reply import EmailReplyParser as MailParserReply
        from mailparser_reply.constants import MAIL_LANGUAGES

        # Every language it knows, so it is not judged on languages it was not asked for.
        parser = MailParserReply(languages=[code for code in MAIL_LANGUAGES if code != "david"])
        found["mail-parser-reply"] = lambda text: parser.parse_reply(text=text)
    except ImportError:
        pass
    return found


def _kept_all(result: str, expected: str) -> bool:
    got = _norm(result)
    return all(_norm(line) in got for line in expected.splitlines() if line.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=ROOT / "tests" / "data" / "replies")
    parser.add_argument("--verbose", action="store_true", help="print each sample's marks")
    args = parser.parse_args()
    samples = sorted(args.samples.rglob("*.txt"))
    if not samples:
        parser.error(f"no .txt samples in {args.samples}")
    tools = splitters()
    # scores[source][tool] = [right, sig-blind right, kept all, seconds]
    scores: dict[str, dict[str, list[float]]] = defaultdict(
        lambda: {name: [0, 0, 0, 0.0] for name in tools}
    )
    counts: dict[str, int] = defaultdict(int)
    for path in samples:
        reply, marker, expected = path.read_text(encoding="utf-8").partition("=== NEW ===\n")
        if not marker:
            parser.error(f"{path}: no '=== NEW ===' line")
        source = path.parent.name if path.parent != args.samples else "project samples"
        counts[source] += 1
        marks = []
        for name, split in tools.items():
            start = time.perf_counter()
            try:
                result = split(reply)
            except Exception:  # noqa: BLE001 - a library that crashes scores wrong
                result = "\x00"
            row = scores[source][name]
            row[3] += time.perf_counter() - start
            row[0] += _norm(result) == _norm(expected)
            row[1] += _sig_blind(result) == _sig_blind(expected)
            row[2] += _kept_all(result, expected)
            marks.append("right" if _norm(result) == _norm(expected) else "WRONG")
        if args.verbose:
            print(f"{path.relative_to(args.samples)}: " + " ".join(marks))
    header = f"{'source':28} {'n':>4} " + " ".join(f"{name:>27}" for name in tools)
    print(header)
    print(f"{'':28} {'':>4} " + " ".join(f"{'right/sig-blind/kept all':>27}" for _ in tools))
    total: dict[str, list[float]] = {name: [0, 0, 0, 0.0] for name in tools}
    for source in sorted(scores):
        cells = []
        for name in tools:
            row = scores[source][name]
            total[name] = [a + b for a, b in zip(total[name], row, strict=True)]
            cells.append(f"{int(row[0]):>9}{int(row[1]):>9}{int(row[2]):>9}")
        print(f"{source[:28]:28} {counts[source]:>4} " + " ".join(cells))
    n = sum(counts.values())
    cells = [f"{int(t[0]):>9}{int(t[1]):>9}{int(t[2]):>9}" for t in total.values()]
    print(f"{'total':28} {n:>4} " + " ".join(cells))
    cells = [f"{t[0] / n:>9.1%}{t[1] / n:>9.1%}{t[2] / n:>9.1%}" for t in total.values()]
    print(f"{'share':28} {'':>4} " + " ".join(cells))
    print(
        f"{'ms per reply':28} {'':>4} "
        + " ".join(f"{t[3] / n * 1000:>27.2f}" for t in total.values())
    )


if __name__ == "__main__":
    main()
