"""The client-side rate budget on a fake clock: never more than the limit in any window, server headers obeyed."""

from __future__ import annotations

import asyncio
from bisect import bisect_left

import pytest

from core.adapters.tradier.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def max_in_any_window(stamps: list[float], period: float) -> int:
    return max(bisect_left(stamps, start + period - 1e-9) - index for index, start in enumerate(stamps))


@pytest.mark.parametrize(("limit", "calls"), [(120, 1000), (60, 500), (2, 20)])
async def test_never_more_than_the_limit_in_any_window(limit: int, calls: int) -> None:
    clock = FakeClock()
    limiter = RateLimiter(limit, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(calls):
        await limiter.acquire()
        stamps.append(clock.now)
    assert max_in_any_window(stamps, 60.0) <= limit
    assert stamps[-1] <= (calls - limiter.burst) * 60 / (limit - limiter.burst) + 1e-6, "not slower than needed"


async def test_concurrent_callers_share_the_budget() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, clock=clock, sleep=clock.sleep)
    stamps: list[float] = []

    async def call() -> None:
        await limiter.acquire()
        stamps.append(clock.now)

    await asyncio.gather(*(call() for _ in range(200)))
    assert max_in_any_window(sorted(stamps), 60.0) <= 60


async def test_an_exhausted_server_budget_waits_for_the_expiry() -> None:
    clock = FakeClock()
    limiter = RateLimiter(120, clock=clock, sleep=clock.sleep)
    limiter.observe(available=0, reset_in=12.5)
    assert limiter.blocked_for == 12.5
    await limiter.acquire()
    assert clock.now >= 12.5


async def test_available_lowers_the_tokens_left_and_expiry_is_bounded() -> None:
    clock = FakeClock()
    limiter = RateLimiter(120, clock=clock, sleep=clock.sleep)
    limiter.observe(available=1, reset_in=30)
    assert limiter.blocked_for == 0
    await limiter.acquire()
    assert clock.now == 0
    await limiter.acquire()
    assert clock.now > 0, "the server said one was left"
    limiter.observe(available=0, reset_in=10_000)
    assert limiter.blocked_for <= 60


def test_burst_must_fit_the_limit() -> None:
    with pytest.raises(ValueError, match="burst"):
        RateLimiter(10, burst=10)
