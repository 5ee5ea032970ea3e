"""How well a reply's new text is separated from its quoted history.

    .venv/bin/python bench/quotes.py [--samples DIR]

DIR holds .txt files: the reply, a line `=== NEW ===`, then the new text a person would keep
(default: tests/data/replies). Prints, per sample and in total, whether the gateway's splitter
got it right, and the same for email-reply-parser and mail-parser-reply when installed
(`pip install email-reply-parser mail-parser-reply`), for comparison. A result counts as right
when it matches after whitespace is collapsed and device lines ("Sent from my iPhone",
"Get Outlook for iOS") are ignored: keeping or dropping those is not the question.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.inbound.quotes import new_text  # noqa: E402

_DEVICE = re.compile(r"^\s*(sent from my|get outlook for)\b.*$", re.I | re.M)


def _norm(text: str) -> str:
    return " ".join(_DEVICE.sub("", text).split())


def splitters() -> dict[str, Callable[[str], str]]:
    found: dict[str, Callable[[str], str]] = {"gateway": new_text}
    try:
        from email_reply_parser import EmailReplyParser

        found["email-reply-parser"] = EmailReplyParser.parse_reply
    except ImportError:
        pass
    try:
        from mailparser_reply import EmailReplyParser as MailParserReply

        found["mail-parser-reply"] = lambda text: MailParserReply(languages=["en"]).parse_reply(
            text=text
        )
    except ImportError:
        pass
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=ROOT / "tests" / "data" / "replies")
    args = parser.parse_args()
    samples = sorted(args.samples.glob("*.txt"))
    if not samples:
        parser.error(f"no .txt samples in {args.samples}")
    tools = splitters()
    right = dict.fromkeys(tools, 0)
    print(f"{'sample':32} " + " ".join(f"{name:>20}" for name in tools))
    for path in samples:
        reply, marker, expected = path.read_text(encoding="utf-8").partition("=== NEW ===\n")
        if not marker:
            parser.error(f"{path}: no '=== NEW ===' line")
        marks = []
        for name, split in tools.items():
            ok = _norm(split(reply)) == _norm(expected)
            right[name] += ok
            marks.append(f"{'right' if ok else 'WRONG':>20}")
        print(f"{path.stem[:32]:32} " + " ".join(marks))
    print(f"{'total':32} " + " ".join(f"{f'{right[n]}/{len(samples)}':>20}" for n in tools))


if __name__ == "__main__":
    main()
