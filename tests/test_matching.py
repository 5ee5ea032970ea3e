"""Every reply shape in the matching corpus reaches the outcome it should."""

from __future__ import annotations

import pytest
from matching_corpus import Case, cases, outcome


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_reply_matching(case: Case) -> None:
    assert outcome(case) == case.expected
