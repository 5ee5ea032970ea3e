"""Referral labels: per-field precision and recall of the form reader on the corpus of label
sets from published English referral forms (tests/data/referral_labels), each rendered as a
plain-text e-mail, an HTML e-mail and an attached Word document.

.venv/bin/python bench/referral_labels.py [--shape text|html|docx] [--misses]
"""

from __future__ import annotations

import argparse
import sys
from email import message_from_bytes
from email.policy import default
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from referral_corpus import compare, forms, message, reading  # noqa: E402

from gateway.inbound.referral.parse import parse_referral  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=("text", "html", "docx"), help="one shape only")
    parser.add_argument("--misses", action="store_true", help="list every wrong or missed field")
    args = parser.parse_args()
    totals: dict[str, list[int]] = {}
    documents = 0
    corpus = forms()
    for index, form in enumerate(corpus):
        for shape in form.shapes:
            if args.shape and shape != args.shape:
                continue
            documents += 1
            referral = parse_referral(
                message_from_bytes(message(form, shape, index), policy=default)
            )
            got = reading(referral)
            for name, (tp, fp, fn) in compare(form, got).items():
                tally = totals.setdefault(name, [0, 0, 0])
                tally[0] += tp
                tally[1] += fp
                tally[2] += fn
                if args.misses and (fp or fn):
                    for path in sorted(set(got) | set(form.expect)):
                        if path.startswith(name.replace("child.", "children.").split(".")[0]) and (
                            name.split(".")[-1] == path.split(".")[-1]
                        ):
                            want = form.expect.get(path, ("", ""))[1]
                            if got.get(path) != want:
                                have = got.get(path)
                                print(f"  {form.name} [{shape}] {path}: {have!r}, want {want!r}")
    print(f"{len(corpus)} label sets, {documents} documents\n")
    print(f"{'field':24} {'expected':>8} {'precision':>10} {'recall':>8}")
    all_tp = all_fp = all_fn = 0
    for name in sorted(totals):
        tp, fp, fn = totals[name]
        all_tp, all_fp, all_fn = all_tp + tp, all_fp + fp, all_fn + fn
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        print(f"{name:24} {tp + fn:8d} {precision:10.3f} {recall:8.3f}")
    precision = all_tp / (all_tp + all_fp) if all_tp + all_fp else 1.0
    recall = all_tp / (all_tp + all_fn) if all_tp + all_fn else 1.0
    print(f"{'all fields':24} {all_tp + all_fn:8d} {precision:10.3f} {recall:8.3f}")


if __name__ == "__main__":
    main()
