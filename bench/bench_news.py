"""News: what the plan's news checks add to `PlanService.validate` (goal: < 100 us at p50), and storage speed.

1. `PlanService.validate` for one symbol with and without the news service, timed in turns (20 rounds of 250
   calls each, SQLite in a temp dir, 2,000 items stored, no vendor configured): the difference is what
   `earnings_in_hold` and `news_breaking` cost a plan (calendar answers and the latest item are cached, so a
   plan pays a dictionary look-up and a timeout wrapper, and a database read every LATEST_TTL_SEC).
2. Storing: 500 new items (half of them duplicates of stored ones by link or by headline + minute) in one
   unit of work, and reading a 50-item page for 3 symbols out of 2,000 items (information).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.adapters.feeds import FeedClient
from core.bus import InProcessBus
from core.db.migrate import upgrade_to_head
from core.db.repositories.news import NewsRepository
from core.db.session import Database
from core.domain.news import NewsItem
from core.services.news import NewsService
from core.services.plans import PlanService
from core.services.risk import RiskService
from core.services.settings import SettingsService

GOAL_ADDED_P50_US = 100.0
ROUNDS, CALLS = 20, 250
SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMD", "TSLA", "SPY", "QQQ", "META"]
START = datetime(2026, 12, 1, 14, tzinfo=UTC)


def _items(count: int, offset: int = 0) -> list[NewsItem]:
    return [NewsItem(source="feed:bench", title=f"Headline number {i}", url=f"https://bench.example/a/{i}",
                     published_at=START + timedelta(minutes=i), symbols=(SYMBOLS[i % len(SYMBOLS)],))
            for i in range(offset, offset + count)]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _validate_times(plans: PlanService) -> list[float]:
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        check = await plans.validate(side="long", entry="190.50", stop="189.80", targets=["192.00"],
                                     symbol="AAPL")
        times.append((time.perf_counter() - started) * 1e6)
        assert check.result.ok
    return times


async def _run(db: Database) -> bool:
    settings = SettingsService(db)
    risk = RiskService(broker=None, settings_service=settings)
    async with FeedClient() as feeds:
        news = NewsService(db, InProcessBus(), settings, feeds=feeds, polygon=None, polygon_disabled="bench")
        async with db.uow() as session:
            await NewsRepository(session).add(_items(2000))
        with_news, without = PlanService(settings, risk, news=news), PlanService(settings, risk)
        await _validate_times(with_news)
        await _validate_times(without)  # warm-up
        timed: dict[str, list[float]] = {"with": [], "without": []}
        for _ in range(ROUNDS):
            timed["with"] += await _validate_times(with_news)
            timed["without"] += await _validate_times(without)
        fresh = _items(250, 2000) + _items(125, 0) + [
            NewsItem(source="feed:other", title=f"Headline number {i}", url=f"https://relay.example/{i}",
                     published_at=START + timedelta(minutes=i, seconds=20)) for i in range(125, 250)]
        started = time.perf_counter()
        async with db.uow() as session:
            stored = await NewsRepository(session).add(fresh)
        add_ms = (time.perf_counter() - started) * 1000
        pages = []
        for _ in range(50):
            started = time.perf_counter()
            page = await news.page(symbols=SYMBOLS[:3], limit=50)
            pages.append((time.perf_counter() - started) * 1000)
    assert len(stored) == 250 and len(page.items) == 50
    p50_with, p50_without = statistics.median(timed["with"]), statistics.median(timed["without"])
    added = p50_with - p50_without
    print(f"PlanService.validate with the news checks: p50 {p50_with:.1f} us, p99 {_pct(timed['with'], .99):.1f} us; "
          f"without: p50 {p50_without:.1f} us, p99 {_pct(timed['without'], .99):.1f} us "
          f"({ROUNDS * CALLS} calls each, in turns)")
    met = added < GOAL_ADDED_P50_US
    print(f"  added at p50: {added:.1f} us, {added / GOAL_ADDED_P50_US:.2f}x the {GOAL_ADDED_P50_US:.0f} us goal: "
          f"{'met' if met else 'MISSED'}; ratio with/without {p50_with / p50_without:.2f}")
    print(f"store 500 items (250 new, 250 duplicates by link or headline + minute): {add_ms:.1f} ms; "
          f"a 50-item page for 3 symbols out of 2,250: p50 {statistics.median(pages):.2f} ms (information)")
    return met


def main() -> bool:
    async def run() -> bool:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
            try:
                await upgrade_to_head(db)
                return await _run(db)
            finally:
                await db.close()
    return asyncio.run(run())


if __name__ == "__main__":
    main()
