"""The alert poller (every ALERT_POLL_SEC): alerts keep working without fresh stream data.

``minute``/``day`` alerts are evaluated on completed Polygon aggregates (``on_bar`` on the close); ``tick`` alerts
of symbols the stream has no fresh data for get ``on_tick`` with each new minute bar's high/low, so a spike between
polls still fires; expiry is checked every round. Only bars that closed after the symbol was first polled count:
an old close never fires a new alert. Fires go to the engine's queue like the stream's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

import structlog

from core.domain.alerts import Fired, Timeframe
from core.domain.market import Bar, epoch_ms
from core.engines.alert_index import AlertIndex
from core.errors import CoreError
from core.services.market import MarketService

log = structlog.get_logger("engine.alerts")

DAY_CLOSE_AFTER = timedelta(hours=16)  # Polygon day bars start at 00:00 New York; the session closes at 16:00


class AlertPoller:
    def __init__(self, index: AlertIndex, market: MarketService, enqueue: Callable[[Sequence[Fired]], None], *,
                 poll_sec: float) -> None:
        self.index, self.market, self.enqueue, self.poll_sec = index, market, enqueue, poll_sec
        self._watermarks: dict[tuple[Timeframe, str], int] = {}

    async def run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except Exception as exc:
                log.error("alerts.poll_failed", error=str(exc))
            await asyncio.sleep(self.poll_sec)

    async def poll_once(self) -> int:
        """One poller round; returns the number of fires it queued."""
        now_ms = epoch_ms(datetime.now(UTC))
        self.index.expire_due(now_ms)
        if not self.market.status().enabled:
            return 0
        fires = 0
        engine = self.market.engine
        for symbol in sorted(self.index.symbols(Timeframe.TICK)):
            state = engine.state(symbol)
            if state is not None and not engine.is_stale(state, now_ms):
                continue
            for bar, end_ms in await self._new_bars(Timeframe.TICK, symbol, now_ms):
                fired = self.index.on_tick(symbol, float(bar.close), float(bar.high), float(bar.low), end_ms)
                self.enqueue(fired)
                fires += len(fired)
        for timeframe in (Timeframe.MINUTE, Timeframe.DAY):
            for symbol in sorted(self.index.symbols(timeframe)):
                for bar, end_ms in await self._new_bars(timeframe, symbol, now_ms):
                    fired = self.index.on_bar(symbol, timeframe, float(bar.close), end_ms)
                    self.enqueue(fired)
                    fires += len(fired)
        return fires

    async def _new_bars(self, timeframe: Timeframe, symbol: str, now_ms: int) -> Iterable[tuple[Bar, int]]:
        """Completed bars (with their close time) that closed after the last one seen for this symbol/timeframe."""
        key = (timeframe, symbol)
        watermark = self._watermarks.setdefault(key, now_ms - int(self.poll_sec * 1000))
        span = "day" if timeframe is Timeframe.DAY else "minute"
        try:
            bars = await self.market.bars(symbol, timespan=span, limit=3)
        except CoreError as exc:
            log.warning("alerts.poll_bars_failed", symbol=symbol, timespan=span, error=exc.message)
            return []
        length = DAY_CLOSE_AFTER if timeframe is Timeframe.DAY else timedelta(minutes=1)
        fresh = []
        for bar in bars:
            end_ms = epoch_ms(bar.start + length)
            if watermark < end_ms <= now_ms:
                fresh.append((bar, end_ms))
        if fresh:
            self._watermarks[key] = max(end for _, end in fresh)
        return fresh
