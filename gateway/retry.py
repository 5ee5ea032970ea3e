"""Capped exponential backoff with full jitter, shared by every retry loop."""

from __future__ import annotations

import random
from datetime import timedelta


def backoff(
    attempt: int, base: timedelta, cap: timedelta, rng: random.Random | None = None
) -> timedelta:
    """Delay before retry number `attempt` (1-based): uniform in [base/2, min(cap, base*2^n)]."""
    ceiling = min(cap.total_seconds(), base.total_seconds() * (2 ** max(attempt - 1, 0)))
    floor = min(base.total_seconds() / 2, ceiling)
    return timedelta(seconds=(rng or random).uniform(floor, ceiling))
