"""Every reply shape in the matching corpus reaches the outcome it should: against the corpus's
hand-written state, and against the same state in a real database through `DbLookup`."""

from __future__ import annotations

import pytest
from matching_corpus import Case, cases, outcome, seed

from gateway.inbound.processing import DbLookup
from gateway.store.db import Database


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_reply_matching(case: Case) -> None:
    assert outcome(case) == case.expected


def test_reply_matching_through_the_real_database_lookup(db_url: str) -> None:
    db = Database(db_url)
    db.upgrade()
    try:
        with db.transaction() as session:
            seed(session)
        with db.transaction() as session:
            lookup = DbLookup(session)
            wrong = {
                c.name: got for c in cases() if (got := outcome(c, lookup)) != c.expected
            }
    finally:
        db.dispose()
    assert not wrong, wrong
