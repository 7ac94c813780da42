"""The scanner: every symbol's session state and its live picks, advanced one closed bar or one trade at a time.

No I/O and no clock of its own (times come with the bars and trades; `Context` brings the wall clock for
freshness), so the live engine, the full rescan and the benchmark drive the same code. A closed bar costs one
O(1) fold, the setups of that one symbol and the lifecycle of its picks: never a rescan of the universe.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

from core.domain.pick_views import PickStatus
from core.domain.picks import ACTIVE, Context, Pick, end_session, new_pick, on_range, refresh, settle
from core.domain.setups.rules import Direction, scan
from core.domain.setups.session import History, MinuteBar, SessionState

RECENT_CLOSED = 1000  # closed picks kept in memory for the list and the cards (all of them are stored)

ContextOf = Callable[[str], Context]
Key = tuple[str, Direction]


class Scanner:
    def __init__(self, new_id: Callable[[], str], context: ContextOf) -> None:
        self._new_id = new_id
        self._context = context
        self.states: dict[str, SessionState] = {}
        self.active: dict[str, dict[Key, Pick]] = {}
        self.closed: OrderedDict[str, Pick] = OrderedDict()
        self._last_levels: dict[tuple[str, str, Direction], tuple[float, float]] = {}

    # -- feeding -----------------------------------------------------------------------------------------------

    def state(self, symbol: str) -> SessionState:
        state = self.states.get(symbol)
        if state is None:
            state = self.states[symbol] = SessionState(symbol, History())
        return state

    def on_bar(self, symbol: str, bar: MinuteBar) -> list[Pick]:
        """Fold one closed minute bar: the bar's range advances the symbol's picks, then its setups run at the
        close. Returns the picks that changed (empty for a bar outside the session or already folded)."""
        state = self.state(symbol)
        day = state.day
        if not state.add(bar):
            return []
        changed: list[Pick] = []
        picks = self.active.get(symbol)
        if picks:
            end = state.end_ms
            for pick in picks.values():
                if day != state.day:
                    end_session(pick, bar.start_ms)
                    changed.append(pick)
                elif on_range(pick, bar.high, bar.low, end):
                    changed.append(pick)
        return self._evaluate(state, changed)

    def on_tape(self, symbol: str, high: float, low: float, last: float, ts_ms: int) -> list[Pick]:
        """Trades between bar closes (their high, low and last): picks trigger or invalidate on the tape, not at
        the next close."""
        picks = self.active.get(symbol)
        if not picks:
            return []
        changed = [pick for pick in picks.values() if on_range(pick, high, low, ts_ms)]
        for pick in changed:
            pick.last = last
        self._retire(symbol, changed)
        return changed

    def sweep(self, now_ms: int) -> list[Pick]:
        """By the clock: picks whose window or session is over close even when no trade comes (after hours)."""
        changed = []
        for symbol, picks in self.active.items():
            due = [p for p in picks.values() if p.expires_ms <= now_ms or p.session_end_ms <= now_ms]
            for pick in due:
                if pick.session_end_ms <= now_ms:
                    end_session(pick, now_ms)
                else:
                    on_range(pick, pick.last, pick.last, now_ms)
            self._retire(symbol, due)
            changed += due
        return changed

    def load(self, states: Iterable[SessionState]) -> list[Pick]:
        """Adopt states built elsewhere (the full rescan) and evaluate each at its last bar."""
        changed: list[Pick] = []
        for state in states:
            self.states[state.symbol] = state
            if state.bars:
                changed.extend(self._evaluate(state, []))
        return changed

    def drop(self, symbols: Iterable[str]) -> None:
        """Forget symbols that left the universe (their closed picks stay listed)."""
        for symbol in symbols:
            self.states.pop(symbol, None)
            self.active.pop(symbol, None)

    def _evaluate(self, state: SessionState, changed: list[Pick]) -> list[Pick]:
        symbol = state.symbol
        picks = self.active.setdefault(symbol, {})
        seen: set[Key] = set()
        for signal in scan(state):
            key = (signal.setup, signal.direction)
            seen.add(key)
            pick = picks.get(key)
            if pick is not None and pick.status in ACTIVE:
                refresh(pick, signal, state)
            elif self._last_levels.get((symbol, *key)) == (signal.trigger, signal.stop):
                continue  # the same levels that just closed: not a new setup
            else:
                pick = picks[key] = new_pick(self._new_id(), signal, state)
            if pick not in changed:
                changed.append(pick)
        for key, pick in picks.items():
            if key not in seen and pick.status in ACTIVE:
                refresh(pick, None, state)
                if pick not in changed:
                    changed.append(pick)
        self._retire(symbol, changed)
        return changed

    def _retire(self, symbol: str, changed: list[Pick]) -> None:
        picks = self.active.get(symbol, {})
        for pick in changed:
            if pick.status in ACTIVE:
                continue
            key = (pick.setup, pick.direction)
            if picks.get(key) is pick:
                del picks[key]
            self._last_levels[(symbol, *key)] = (pick.trigger, pick.stop)
            self.closed[pick.id] = pick
            while len(self.closed) > RECENT_CLOSED:
                self.closed.popitem(last=False)

    # -- reading -----------------------------------------------------------------------------------------------

    def settle(self, pick: Pick) -> Pick:
        """The pick with its confidence and sentence up to date (see `core.domain.picks.settle`)."""
        if pick.stale:
            settle(pick, self.state(pick.symbol), self._context(pick.symbol))
        return pick

    def get(self, pick_id: str) -> Pick | None:
        for picks in self.active.values():
            for pick in picks.values():
                if pick.id == pick_id:
                    return self.settle(pick)
        found = self.closed.get(pick_id)
        return None if found is None else self.settle(found)

    def ranked(self, *, limit: int, setup: str | None = None, symbol: str | None = None,
               statuses: frozenset[PickStatus] = ACTIVE) -> list[Pick]:
        """Active picks by confidence (triggered before forming on a tie), then the most recently closed."""
        pool = [p for picks in self.active.values() for p in picks.values() if p.status in statuses]
        if not statuses <= ACTIVE:
            pool += [p for p in reversed(self.closed.values()) if p.status in statuses]
        chosen = [self.settle(p) for p in pool
                  if (setup is None or p.setup == setup) and (symbol is None or p.symbol == symbol)]
        chosen.sort(key=lambda p: (p.status not in ACTIVE, -p.confidence.score, p.status is not PickStatus.TRIGGERED))
        return chosen[:limit]
