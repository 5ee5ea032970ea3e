"""Reply matching on the corpus of partner-reply shapes: what each gets, and the accuracy.

.venv/bin/python bench/matching.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from matching_corpus import cases, outcome


def main() -> None:
    corpus = cases()
    right = 0
    print(f"{'reply':48} {'expected':32} result")
    for case in corpus:
        got = outcome(case)
        right += got == case.expected
        mark = "right" if got == case.expected else f"WRONG: {got}"
        print(f"{case.name[:48]:48} {case.expected:32} {mark}")
    print(f"accuracy: {right}/{len(corpus)}")


if __name__ == "__main__":
    main()
