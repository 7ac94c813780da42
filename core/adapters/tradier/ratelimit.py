"""Client-side request budget: one token bucket per Tradier rate-limit category, plus what the server says.

A bucket of ``burst`` tokens refilled at ``(limit - burst) / period`` per second lets through at most
``burst + (limit - burst) = limit`` requests in any window of ``period`` seconds, so the client never exceeds
the published limit even in bursts. Server headers tighten it: ``X-Ratelimit-Available`` lowers the tokens
left, and at 0 (or after a 429) the category waits until ``X-Ratelimit-Expiry`` / ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

_EPSILON = 1e-9


class RateLimiter:
    def __init__(self, limit: int, period: float = 60.0, *, burst: int | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.limit = limit
        self.period = period
        self.burst = burst if burst is not None else max(1, min(limit // 12, limit - 1))
        if not 1 <= self.burst < limit:
            raise ValueError("burst must be at least 1 and below the limit")
        self._rate = (limit - self.burst) / period
        self._tokens = float(self.burst)
        self._clock = clock
        self._sleep = sleep
        self._stamp = clock()
        self._blocked_until = 0.0
        self._lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now

    async def acquire(self) -> None:
        """Wait until one more request fits the budget, then take it."""
        async with self._lock:
            while True:
                now = self._clock()
                self._refill(now)
                wait = self._blocked_until - now
                if wait <= 0:
                    if self._tokens >= 1 - _EPSILON:  # float refill may stop a hair short of a whole token
                        self._tokens = max(self._tokens - 1, 0.0)
                        return
                    wait = (1 - self._tokens) / self._rate
                await self._sleep(wait)

    @property
    def blocked_for(self) -> float:
        """Seconds until the server's window reopens (0 when not blocked)."""
        return max(self._blocked_until - self._clock(), 0.0)

    def observe(self, *, available: int | None = None, reset_in: float | None = None) -> None:
        """Apply the server's view: `available` requests left, the window resets in `reset_in` seconds."""
        now = self._clock()
        self._refill(now)
        if available is not None:
            self._tokens = min(self._tokens, float(max(available, 0)))
        if reset_in is not None and (available is None or available <= 0):
            self._blocked_until = max(self._blocked_until, now + min(max(reset_in, 0.0), self.period))
