"""Picks engine: keeps the scanner current from the live stream and publishes what changed as `picks` events.

A tick hook on the stream engine only records, per symbol, the range traded since the last pass (no work on the
feed path). The engine task then, per touched symbol, folds the minute bars that closed since its last pass
(`Scanner.on_bar`) and applies the tape range (`Scanner.on_tape`): incremental per symbol, never a rescan per
tick. New symbols of the universe are loaded once from REST (earlier sessions become their history, today's bars
go through the numpy rescan). Changed picks are settled (confidence, sentence), published on the bus and handed
to a writer that stores their latest versions in batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Literal, Protocol

import structlog

from core.db.base import new_id
from core.domain.confidence import Factor
from core.domain.events import PicksEvent
from core.domain.picks import Context, Pick
from core.domain.picks_scanner import Scanner
from core.domain.picks_universe import SnapshotRow, Universe, UniverseFilter, select
from core.domain.risk import RiskState
from core.domain.setups.batch import SessionMatrix, batch_states
from core.domain.setups.session import ATR_BARS, SESSION_MINUTES, History, MinuteBar, carry_trs, session_of
from core.errors import CoreError, ExternalPermanent
from core.ports import EventBus, PriceStream
from core.services.settings import SettingsService, Tunables

log = structlog.get_logger("engine.picks")

HISTORY_DAYS = 8  # calendar days: five or more sessions for the volume pace
WARM_CONCURRENCY = 4
TAPE_CAP = 256
# The first universe load (thousands of REST bars per symbol) waits for the rest of start-up (the alert engine
# and its poller take their first look at the market first).
START_DELAY_SEC = 2.0
SNAPSHOT_UPGRADE = ("the Polygon plan has no stock snapshots ({why}): scanning the watchlist only; a plan with "
                    "snapshots adds the day's movers")


class UniverseSource(Protocol):
    """What the engine reads over REST: minute bars and snapshot rows (the Polygon REST adapter)."""

    async def minute_bars(self, symbol: str, start: date, end: date) -> list[MinuteBar]: ...

    async def mover_rows(self, source: Literal["gainers", "losers", "all"]) -> list[SnapshotRow]: ...


Store = Callable[[Sequence[Pick]], Awaitable[None]]
ExtraFactors = Callable[[str], Sequence[Factor]]


def split_sessions(bars: Iterable[MinuteBar], today: date) -> tuple[History, list[float], list[MinuteBar]]:
    """Regular-hours bars (oldest first) -> the history of the sessions before `today`, the true ranges of the
    last of them (to seed the ATR) and today's bars."""
    days: dict[date, list[tuple[int, MinuteBar]]] = {}  # session day -> (minute index, bar)
    for bar in bars:
        where = session_of(bar.start_ms)
        if where is not None and where[0] <= today:
            days.setdefault(where[0], []).append((where[1], bar))
    history, trs = History(), []
    for day in sorted(d for d in days if d < today):
        volumes = [0.0] * SESSION_MINUTES
        for index, bar in days[day]:
            volumes[index] = bar.volume
        session = [bar for _, bar in days[day]]
        history.add_session(max(b.high for b in session), min(b.low for b in session), session[-1].close, volumes,
                            sum((b.high + b.low + b.close) / 3 * b.volume for b in session))
        tail = session[-ATR_BARS - 1:]
        trs = [tail[0].high - tail[0].low] + [max(b.high, p.close) - min(b.low, p.close)
                                              for p, b in itertools.pairwise(tail)]
    return history, trs[-ATR_BARS:], [bar for _, bar in days.get(today, [])]


class PicksEngine:
    def __init__(self, stream: PriceStream, source: UniverseSource | None, bus: EventBus,
                 settings: SettingsService, store: Store, *,
                 risk_state: Callable[[], Awaitable[RiskState | None]] | None = None,
                 watch: Callable[[set[str]], Awaitable[None]] | None = None,
                 extra_factors: ExtraFactors | None = None,
                 clock: Callable[[], int] | None = None, universe_sec: float = 60.0,
                 write_sec: float = 0.5, start_delay_sec: float = START_DELAY_SEC) -> None:
        self.stream, self.source, self.bus, self.settings, self.store = stream, source, bus, settings, store
        self.clock = clock or (lambda: int(time.time() * 1000))
        self._risk_state, self._watch, self._extra = risk_state, watch, extra_factors
        self.universe_sec, self.write_sec, self.start_delay_sec = universe_sec, write_sec, start_delay_sec
        self.scanner = Scanner(new_id, self._context)
        self.universe = Universe((), "watchlist", "the picks engine has not loaded its universe yet")
        self._folded: dict[str, int] = {}
        self._tape: dict[str, list[tuple[float, float, float, int]]] = {}  # (high, low, last, ts) since last pass
        self._wake = asyncio.Event()
        self._pending: dict[str, Pick] = {}
        self._risk: RiskState | None = None
        self._min_dollars = 0.0
        self.ready = asyncio.Event()

    # -- wiring --------------------------------------------------------------------------------------------------

    def _context(self, symbol: str) -> Context:
        state = self.stream.state(symbol)
        extra = self._extra(symbol) if self._extra is not None else ()
        return Context(now_ms=self.clock(), bid=state.bid if state else None, ask=state.ask if state else None,
                       risk=self._risk, min_dollar_volume=self._min_dollars, extra=extra)

    def _on_tick(self, symbol: str, price: float, high: float, low: float, ts_ms: int,  # noqa: PLR0917
                 late: bool) -> None:
        """Stream tick hook: record the range only (called on the feed path for every trade and bar, back-filled
        ones too: a pick's range must include what the stream missed)."""
        if symbol not in self._folded:
            return
        tape = self._tape.get(symbol)
        if tape is None:
            self._tape[symbol] = [(high, low, price, ts_ms)]
        elif len(tape) < TAPE_CAP:
            tape.append((high, low, price, ts_ms))
        else:  # a burst between two passes: fold it into one range, keeping the latest time and price
            first = tape[0]
            latest = max(tape, key=lambda t: t[3])
            tape[:] = [(max(t[0] for t in tape), min(t[1] for t in tape), latest[2], max(first[3], latest[3]))]
            tape.append((high, low, price, ts_ms))
        self._wake.set()

    async def run(self) -> None:
        self.stream.add_tick_hook(self._on_tick)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._universe_loop())
                group.create_task(self._process_loop())
                group.create_task(self._write_loop())
        finally:
            self.stream.remove_tick_hook(self._on_tick)

    # -- universe ------------------------------------------------------------------------------------------------

    async def _universe_loop(self) -> None:
        await asyncio.sleep(self.start_delay_sec)
        while True:
            try:
                await self.refresh_universe()
            except CoreError as exc:
                log.warning("picks.universe_failed", error=exc.message)
            self.ready.set()
            await asyncio.sleep(self.universe_sec)

    async def refresh_universe(self) -> Universe:
        tunables = await self.settings.get()
        settings = tunables.picks_universe
        self._min_dollars = float(settings.min_avg_dollar_volume)
        if self._risk_state is not None:
            self._risk = await self._risk_state()
        rule = UniverseFilter(settings.min_price, settings.min_avg_dollar_volume, settings.min_relative_volume,
                              settings.max_symbols, settings.include_movers)
        movers, reason = await self._movers(rule)
        universe = select(tunables.watchlist, movers, rule, reason)
        added = [s for s in universe.symbols if s not in self._folded]
        gone = [s for s in self._folded if s not in universe.symbols]
        self.scanner.drop(gone)
        for symbol in gone:
            del self._folded[symbol]
        self.universe = universe
        if self._watch is not None and (added or gone):
            await self._watch(set(universe.symbols))
        if added:
            await self._load(added)
        return universe

    async def _movers(self, rule: UniverseFilter) -> tuple[list[SnapshotRow] | None, str | None]:
        if not rule.include_movers or self.source is None:
            return None, None if self.source is not None else "market data is disabled"
        rows: list[SnapshotRow] = []
        try:
            for kind in ("gainers", "losers", "all"):
                rows += await self.source.mover_rows(kind)
        except ExternalPermanent as exc:
            return None, SNAPSHOT_UPGRADE.format(why=exc.message)
        return rows, None

    async def _load(self, symbols: Sequence[str]) -> None:
        """History from REST for new symbols, today's bars through one numpy rescan, then live."""
        today = datetime.fromtimestamp(self.clock() / 1000, UTC).date()
        slots = asyncio.Semaphore(WARM_CONCURRENCY)

        async def fetch(symbol: str) -> tuple[str, History, list[float], list[MinuteBar]]:
            if self.source is None:
                return symbol, History(), [], []
            try:
                async with slots:
                    bars = await self.source.minute_bars(symbol, today - timedelta(days=HISTORY_DAYS), today)
            except CoreError as exc:
                log.warning("picks.history_failed", symbol=symbol, error=exc.message)
                return symbol, History(), [], []
            # on the event loop: ~15 ms per symbol, where a worker thread would make every other task wait for
            # the GIL after each of its system calls
            return symbol, *split_sessions(bars, today)

        parts = await asyncio.gather(*(fetch(s) for s in symbols))
        for symbol, history, trs, _ in parts:
            self._folded[symbol] = 0
            state = self.scanner.state(symbol)
            state.history = history
            carry_trs(state, trs)
        live = [(symbol, bars) for symbol, _, _, bars in parts if bars]
        if live:
            states = batch_states(SessionMatrix.from_bars(live), [h for _, h, _, b in parts if b],
                                  [t for _, _, t, b in parts if b])
            self._changed(self.scanner.load(states))
            for symbol, bars in live:
                self._folded[symbol] = bars[-1].start_ms
        log.info("picks.loaded", symbols=len(symbols), live=len(live))
        self._wake.set()

    # -- the live pass -------------------------------------------------------------------------------------------

    async def _process_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)
            self._wake.clear()
            changed = self.process()
            if changed:
                await self.bus.publish(PicksEvent(items=[p.view(self.clock()) for p in changed]))

    def process(self) -> list[Pick]:
        """One pass: new closed minute bars and the tape of every touched symbol, then the clock."""
        tape, self._tape = self._tape, {}
        changed: list[Pick] = []
        for symbol in list(self._folded):
            state = self.stream.state(symbol)
            last = self._folded[symbol]
            if state is not None and state.minutes and state.minutes[-1].start_ms > last:
                fresh = [b for b in state.minutes if b.start_ms > last]
                for bar in fresh:
                    changed += self.scanner.on_bar(symbol, MinuteBar(bar.start_ms, bar.open, bar.high, bar.low,
                                                                     bar.close, bar.volume))
                self._folded[symbol] = fresh[-1].start_ms
            closed = self.scanner.state(symbol).end_ms if self.scanner.state(symbol).bars else 0
            traded = [t for t in tape.get(symbol, ()) if t[3] > closed]  # what the folded bars do not hold
            if traded:
                latest = max(traded, key=lambda t: t[3])
                changed += self.scanner.on_tape(symbol, max(t[0] for t in traded), min(t[1] for t in traded),
                                                latest[2], latest[3])
        changed += self.scanner.sweep(self.clock())
        return self._changed(changed)

    def _changed(self, changed: list[Pick]) -> list[Pick]:
        unique = list({id(p): p for p in changed}.values())
        for pick in unique:
            self.scanner.settle(pick)
            self._pending[pick.id] = pick
        return unique

    async def _write_loop(self) -> None:
        while True:
            await asyncio.sleep(self.write_sec)
            await self.flush()

    async def flush(self) -> None:
        """Store the latest version of every changed pick (kept for the next try if the database fails)."""
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        try:
            await self.store(list(batch.values()))
        except Exception as exc:  # the database may be down: keep the rows, try again next tick
            log.error("picks.store_failed", picks=len(batch), error=str(exc))
            self._pending = {**batch, **self._pending}

    def tunables_changed(self) -> Callable[[Tunables, set[str]], Awaitable[None]]:
        """A settings listener: a watchlist or universe edit reloads the universe at once."""
        async def listener(_tunables: Tunables, changed: set[str]) -> None:
            if changed & {"watchlist", "picks_universe"}:
                await self.refresh_universe()
        return listener
