"""Picks use cases: the ranked list, one pick, the scorecard, storage, and one entry point per action.

Reads come from the live scanner when the picks engine runs in this process, else from the stored picks (the
engine writes every version). Each pick is sized at read time from the trader's limits and the broker's equity
(one balances read per request), so the size follows the account, not the moment the pick was born.

Taking a pick or setting an alert at its trigger are clicks the action service executes (`core.services.actions`,
from `active`); `explain` is a coach turn, given the pick as a tool result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

import msgspec

from core.db.repositories import PicksRepository
from core.db.session import Database
from core.domain.coach import ToolCall
from core.domain.coach_replies import CoachReply
from core.domain.pick_views import PickSize, PickView
from core.domain.picks import Pick, SetupStats, scorecard
from core.domain.picks_universe import Universe
from core.domain.setups.rules import SETUPS
from core.domain.symbols import normalize_symbol
from core.errors import Conflict, IntegrationDisabled, Invalid, NotFound
from core.ports import LivePicks
from core.services.plans import PlanService
from core.services.risk import RiskService

MAX_LIMIT = 100
_MARKET_HOW = "set POLYGON_API_KEY to your Polygon (Massive) API key and restart"


class Explainer(Protocol):
    """The coach: one turn that starts from the given tool results."""

    async def chat(self, message: str, conversation_id: str | None = None, *, actor: str = "api",
                   external_ref: str | None = None, seed: Sequence[tuple[ToolCall, dict[str, Any]]] = ()
                   ) -> CoachReply: ...


@dataclass(frozen=True, slots=True)
class PicksPage:
    """The best picks first, the universe they were scanned from, and when the page was read."""

    items: list[PickView]
    universe: Universe
    as_of: str


class PicksService:
    def __init__(self, db: Database, engine: LivePicks | None, *, plans: PlanService, risk: RiskService,
                 coach: Callable[[], Explainer | None], market_disabled: str | None = None) -> None:
        self.db, self.engine = db, engine
        self.plans, self.risk, self._coach = plans, risk, coach
        self.market_disabled = market_disabled

    def _require_market(self) -> None:
        if self.market_disabled is not None:
            raise IntegrationDisabled("market_data", f"picks need market data: {self.market_disabled}", _MARKET_HOW)

    # -- storage (the engine's writer) -------------------------------------------------------------------------

    async def store(self, picks: Sequence[Pick]) -> None:
        rows = [pick_row(p) for p in picks]
        async with self.db.uow() as session:
            await PicksRepository(session).upsert(rows)

    # -- reads ---------------------------------------------------------------------------------------------------

    async def top(self, *, limit: int = 20, setup: str | None = None, symbol: str | None = None,
                  sized: bool = True) -> PicksPage:
        """The best picks first. `sized=False` leaves out the size, which is read from the account: for a reader
        who is not a trader, or an answer everyone in a channel sees."""
        self._require_market()
        if not 1 <= limit <= MAX_LIMIT:
            raise Invalid(f"limit must be 1-{MAX_LIMIT}", details=[{"field": "limit", "message": f"1-{MAX_LIMIT}"}])
        if setup is not None and setup not in SETUPS:
            raise Invalid(f"unknown setup '{setup[:40]}'; setups are {', '.join(SETUPS)}",
                          details=[{"field": "setup", "message": "one of " + ", ".join(SETUPS)}])
        symbol = normalize_symbol(symbol) if symbol else None
        now = datetime.now(UTC)
        if self.engine is not None:
            picks = self.engine.scanner.ranked(limit=limit, setup=setup, symbol=symbol)
            items = [p.view(self.engine.clock()) for p in picks]
            universe = self.engine.universe
        else:
            async with self.db.read() as session:
                rows = await PicksRepository(session).page(limit=limit, setup=setup, symbol=symbol)
            items = [stored_view(row) for row in rows]
            universe = Universe((), "stored", "the picks engine runs in another process: these are its stored "
                                              "picks")
        items = await self._sized(items) if sized else _unsized(items)
        return PicksPage(items, universe, now.isoformat(timespec="seconds"))

    async def picks(self, *, limit: int = 5) -> list[PickView]:
        """The coach's `picks` tool."""
        return (await self.top(limit=limit)).items

    async def _find(self, pick_id: str) -> PickView:
        if self.engine is not None and (pick := self.engine.scanner.get(pick_id)) is not None:
            return pick.view(self.engine.clock())
        if len(pick_id) > 32:
            raise NotFound(f"pick {pick_id[:40]} does not exist")
        async with self.db.read() as session:
            found = await PicksRepository(session).get(pick_id)
        if found is None:
            raise NotFound(f"pick {pick_id} does not exist (or is no longer kept)")
        return stored_view(found)

    async def get(self, pick_id: str, *, sized: bool = True) -> PickView:
        self._require_market()
        found = [await self._find(pick_id)]
        return (await self._sized(found) if sized else _unsized(found))[0]

    async def stats(self) -> list[SetupStats]:
        async with self.db.read() as session:
            return scorecard(await PicksRepository(session).scored())

    async def _sized(self, items: list[PickView]) -> list[PickView]:
        """Each pick with `size` from the sizing service, or `size_note` saying why there is none."""
        if not items:
            return items
        if not self.risk.enabled:
            note = f"sizing needs the broker's equity: {self.risk.disabled_reason}"
            return [item.sized(None, note) for item in items]
        balances, _ = await self.risk.balances()
        sized = []
        for item in items:
            check = await self.plans.size(entry=item.trigger, stop=item.stop,
                                          confidence=Decimal(str(item.confidence.score)),
                                          equity=balances.equity, buying_power=balances.buying_power,
                                          symbol=item.symbol)
            result = check.result
            if result.sizing is None:
                sized.append(item.sized(None, result.summary))
                continue
            s = result.sizing
            sized.append(item.sized(PickSize(s.quantity, str(s.risk_amount.quantize(Decimal("0.01"))),
                                             s.limited_by.value, result.summary)))
        return sized

    # -- actions -------------------------------------------------------------------------------------------------

    async def active(self, pick_id: str) -> PickView:
        """The sized pick, if it can still be acted on (forming or triggered), else Conflict saying why not."""
        pick = await self.get(pick_id)
        if not pick.active:
            raise Conflict(f"pick {pick_id} is {pick.status} ({pick.reason or 'closed'}); only a forming "
                           "or triggered pick can be acted on")
        return pick

    async def explain(self, pick_id: str, *, actor: str) -> CoachReply:
        """A coach turn about this pick; the pick (with its factors) is given to the coach as a tool result."""
        coach = self._coach()
        if coach is None:
            raise IntegrationDisabled("coach", "the coach is not configured", "set LLM_PROVIDER and its LLM_* "
                                                                              "settings and restart")
        pick = await self.get(pick_id)
        call = ToolCall.of(f"pick-{pick.id}", "picks", {"id": pick.id})
        message = (f"Explain the {pick.setup_label} {pick.direction} pick on {pick.symbol} "
                   f"(pick {pick.id}): is it worth taking, and what would make it wrong?")
        return await coach.chat(message, actor=actor, seed=[(call, {"picks": [msgspec.to_builtins(pick)]})])


def _iso_dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def pick_row(pick: Pick) -> dict[str, Any]:
    """The `picks` row of a pick: its JSON (what the API shows) plus the columns the list and scorecard query."""
    view = pick.view(pick.as_of_ms)
    body = msgspec.to_builtins(view)
    return {"id": pick.id, "symbol": pick.symbol, "setup": pick.setup, "direction": pick.direction.value,
            "status": pick.status.value, "session": pick.session, "score": pick.confidence.score, "payload": body,
            "created_at": _iso_dt(view.created_at), "as_of": _iso_dt(view.as_of),
            "triggered_at": _iso_dt(view.triggered_at), "closed_at": _iso_dt(view.closed_at),
            "mfe_r": pick.mfe_r, "mae_r": pick.mae_r, "reached_1r": pick.reached_1r, "result_r": pick.result_r,
            "version": pick.version, "updated_at": datetime.now(UTC)}


UNSIZED_NOTE = "sizing reads the account: only traders see it, in answers only they see"


def _unsized(items: list[PickView]) -> list[PickView]:
    return [item.sized(None, UNSIZED_NOTE) for item in items]


def stored_view(payload: Mapping[str, Any]) -> PickView:
    """A pick as its `payload` column keeps it (`pick_row`)."""
    return msgspec.convert(payload, PickView)
