"""Coach turn overhead excluding LLM and data latency (p95 < 30 ms) and three independent tool calls ~ one latency.

Both use in-process doubles: an LLM that answers from a script at once and a market whose calls take `delay`
seconds (0 for the overhead figure). A turn includes everything the product does: argument validation, the
tools (plan validation with market context, risk), suggestions with confidence, the numbers check and saving
both messages to a SQLite database.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.db.migrate import upgrade_to_head
from core.db.session import Database
from core.domain.coach import ChatMessage, LLMReply, ToolCall, ToolSpec
from core.domain.market import MarketSession, MarketStatus, Quote
from core.domain.risk import RiskLimits, RiskState, TradingStatus
from core.services.coach import CoachService
from core.services.coach_tools import CoachTools
from core.services.journal import JournalService
from core.services.settings import SettingsService

OVERHEAD_P95_MS = 30.0
TURNS, WARMUP = 200, 20
DELAY = 0.2
CONCURRENCY_MAX_RATIO = 1.5  # three parallel calls may cost at most 1.5x one call


class ScriptedLLM:
    """Answers at once: first the tool calls, then a final answer whose numbers come from the tools."""

    def __init__(self, calls: Sequence[tuple[str, dict[str, Any]]], final: str) -> None:
        self._calls, self._final = calls, final

    async def complete(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] | None = None, *,
                       timeout: float | None = None) -> LLMReply:
        if messages[-1].role == "user":
            calls = tuple(ToolCall.of(f"c{i}", name, args) for i, (name, args) in enumerate(self._calls))
            return LLMReply(None, calls, "tool_calls")
        return LLMReply(self._final)

    async def stream(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] | None = None, *,
                     timeout: float | None = None) -> AsyncIterator[str | LLMReply]:
        yield await self.complete(messages, tools, timeout=timeout)

    async def aclose(self) -> None:
        return None


class Market:
    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def quote(self, symbol: str) -> Quote:
        if self.delay:
            await asyncio.sleep(self.delay)
        return Quote(symbol, Decimal("512.30"), Decimal("512.29"), Decimal("512.31"), 100, 100, Decimal("508"),
                     datetime.now(UTC) - timedelta(seconds=2), "polygon:snapshot")

    async def bars(self, symbol: str, **_: Any) -> list[Any]:
        return []

    async def news(self, symbol: str | None = None, *, limit: int = 10) -> list[dict[str, Any]]:
        return []

    async def market_status(self) -> MarketStatus:
        if self.delay:
            await asyncio.sleep(self.delay)
        return MarketStatus(MarketSession.OPEN, datetime.now(UTC), "polygon")

    def market_open(self) -> bool:
        return True


class Risk:
    async def current(self) -> tuple[RiskState, None]:
        return RiskState(TradingStatus.ACTIVE, (), (), RiskLimits(), Decimal(100_000), Decimal(0),
                         datetime.now(UTC)), None


PLAN_CALLS: list[tuple[str, dict[str, Any]]] = [("quote", {"symbol": "SPY"}), ("risk_state", {}),
              ("validate_plan", {"symbol": "SPY", "side": "long", "entry": "512.40", "stop": "510.90",
                                 "targets": ["515.40"]}),
              ("suggest_size", {"symbol": "SPY", "entry": "512.40", "stop": "510.90"})]
PLAN_ANSWER = ("SPY is at 512.30. Long at 512.40 with a stop at 510.90 risks 1.50 per share; the 515.40 target "
               "is 2R. Risk state ACTIVE.")


def _coach(db: Database, llm: ScriptedLLM, delay: float) -> CoachService:
    tools = CoachTools(market=Market(delay), settings=SettingsService(db), journal=JournalService(db), risk=Risk())
    return CoachService(db, llm, tools)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.95)]


async def _overhead(db: Database) -> dict[str, tuple[float, float]]:
    """(p50, p95) in ms by wall clock and by process CPU time (all threads, so SQLite's worker thread counts;
    it leaves out time the OS gave to other processes on a shared machine)."""
    coach = _coach(db, ScriptedLLM(PLAN_CALLS, PLAN_ANSWER), 0.0)
    wall: list[float] = []
    cpu: list[float] = []
    for i in range(TURNS + WARMUP):
        started, started_cpu = time.perf_counter(), time.process_time()
        reply = await coach.chat("Is a long SPY at 512.40, stop 510.90, target 515.40 good?")
        if i >= WARMUP:
            cpu.append((time.process_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
        assert not reply.unverified_numbers, reply.unverified_numbers
    return {"wall": _percentiles(wall), "cpu": _percentiles(cpu)}


async def _turn_ms(db: Database, calls: list[tuple[str, dict[str, Any]]]) -> float:
    coach = _coach(db, ScriptedLLM(calls, "Done."), DELAY)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        await coach.chat("SPY, QQQ and the market?")
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


async def _main() -> bool:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        await upgrade_to_head(db)
        try:
            overhead = await _overhead(db)
            one = await _turn_ms(db, [("quote", {"symbol": "SPY"})])
            three = await _turn_ms(db, [("quote", {"symbol": "SPY"}), ("quote", {"symbol": "QQQ"}),
                                        ("market_status", {})])
        finally:
            await db.close()
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    print(f"load average {load:.2f} on {cpus} CPUs")
    for clock, (p50, p95) in overhead.items():
        print(f"coach turn overhead [{clock}] (4 tools, instant doubles, SQLite persistence): p50 {p50:.2f} ms, "
              f"p95 {p95:.2f} ms (goal p95 < {OVERHEAD_P95_MS:.0f} ms) "
              f"{'met' if p95 < OVERHEAD_P95_MS else 'MISSED'}")
    # Wall clock decides; on an overloaded machine (load above the CPU count) the CPU figure stands in for it.
    overhead_ok = overhead["wall"][1] < OVERHEAD_P95_MS or (load > cpus and overhead["cpu"][1] < OVERHEAD_P95_MS)
    ratio = three / one
    concurrency_ok = ratio < CONCURRENCY_MAX_RATIO
    print(f"tool latency {DELAY * 1000:.0f} ms: one call {one:.1f} ms, three independent calls {three:.1f} ms, "
          f"ratio {ratio:.2f} (goal < {CONCURRENCY_MAX_RATIO}, sequential would be ~3) "
          f"{'OK' if concurrency_ok else 'MISSED'}")
    return overhead_ok and concurrency_ok


def main() -> bool:
    return asyncio.run(_main())


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
