"""OrderService end to end against the Tradier double, on SQLite and PostgreSQL: confirmed once, placed once,
always accounted for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from core.db.models import JournalEntry, OrderIntentRow, OrderRow
from core.domain.events import AlertEvent
from core.domain.orders import OrderType
from core.errors import Conflict, Expired, Forbidden, NotFound
from core.runtime import Runtime
from core.services.orders import OrderService, backoff
from core.settings import Settings
from tests.doubles.tradier import TradierDouble
from tests.integration.orders_helpers import (
    AAPL_LAST,
    buy_aapl,
    intent_row,
    order_runtime,
    place_posts,
    placed,
)


@pytest.fixture
async def rt(settings: Settings) -> AsyncIterator[Runtime]:
    async with order_runtime(settings) as runtime:
        yield runtime


async def _journal(rt: Runtime) -> list[JournalEntry]:
    async with rt.db.read() as session:
        return list((await session.scalars(select(JournalEntry).where(JournalEntry.kind == "order")
                                           .order_by(JournalEntry.created_at))).all())


async def _propose(service: OrderService, **changes: Any) -> tuple[str, str]:
    result = await service.propose("api", buy_aapl(**changes), rationale="breakout over 438", source="test")
    assert not result.denied, result.risk
    assert result.intent is not None and result.token is not None
    return result.intent.id, result.token


async def test_propose_then_confirm_places_one_tagged_order_and_audits_every_step(rt: Runtime,
                                                                                 tradier: TradierDouble) -> None:
    result = await rt.orders.propose("api", buy_aapl(), rationale="breakout over 438", source="test")
    assert result.risk.decision == "approved"
    assert result.preview is not None and result.preview.commission == Decimal("3.49")
    assert result.mode == "PAPER"
    intent = result.intent
    assert intent is not None and intent.status == "PENDING" and intent.reference_price is not None
    assert intent.reference_price == AAPL_LAST
    assert len(intent.order_hash) == 64
    assert place_posts(tradier) == []  # a proposal sends nothing but the preview

    confirmed = await rt.orders.confirm(intent.id, result.token or "", "api")
    assert confirmed.outcome == "submitted"
    orders = placed(tradier)
    assert len(orders) == 1 and orders[0]["tag"] == intent.id
    row = await intent_row(rt, intent.id)
    assert row.status == "SUBMITTED" and row.broker_order_id == str(orders[0]["id"])
    async with rt.db.read() as session:
        echo = await session.get(OrderRow, row.broker_order_id)
    assert echo is not None and echo.intent_id == intent.id and not echo.manual
    audit = await _journal(rt)
    assert [e.body.split(":")[0] for e in audit] == ["PENDING", "SUBMITTING", "SUBMITTED"]
    assert all(e.rationale == "breakout over 438" and e.actor == "api" for e in audit)
    assert "broker echo" in audit[-1].body


async def test_second_confirm_is_already_handled_and_sends_nothing(rt: Runtime, tradier: TradierDouble) -> None:
    intent_id, token = await _propose(rt.orders)
    assert (await rt.orders.confirm(intent_id, token, "api")).outcome == "submitted"
    with pytest.raises(Conflict, match="already handled"):
        await rt.orders.confirm(intent_id, token, "api")
    assert len(placed(tradier)) == 1
    assert len(place_posts(tradier)) == 1


async def test_concurrent_confirms_place_exactly_one_order(rt: Runtime, tradier: TradierDouble) -> None:
    intent_id, token = await _propose(rt.orders)
    outcomes = await asyncio.gather(*(rt.orders.confirm(intent_id, token, "api") for _ in range(3)),
                                    return_exceptions=True)
    assert sum(1 for o in outcomes if not isinstance(o, BaseException) and o.outcome == "submitted") == 1
    assert sum(1 for o in outcomes if isinstance(o, Conflict)) == 2
    assert len(placed(tradier)) == 1


async def test_no_answer_and_no_order_stays_unknown_and_alerts_a_human(rt: Runtime, tradier: TradierDouble) -> None:
    rt.orders.resolve_window = 0.6
    alerts = rt.bus.subscribe(["alert"], name="test-alerts")
    intent_id, token = await _propose(rt.orders)
    tradier.fail("drop", method="POST", path="/orders")  # connection closed before the double records anything
    result = await rt.orders.confirm(intent_id, token, "api")
    assert result.outcome == "unknown" and "NOT resent" in (result.reason or "")
    assert (await intent_row(rt, intent_id)).status == "UNKNOWN"
    assert placed(tradier) == [] and len(place_posts(tradier)) == 1
    event = await asyncio.wait_for(anext(aiter(alerts)), 5)
    assert isinstance(event, AlertEvent) and event.level == "critical" and event.meta
    assert event.meta.intent_id == intent_id
    await alerts.close()


async def test_risk_halted_denies_and_sends_nothing(rt: Runtime, tradier: TradierDouble) -> None:
    tradier.serve("/balances", {"balances": {"account_number": "VA00000001", "account_type": "margin",
                                             "total_equity": 17798.36, "total_cash": 1437.01, "open_pl": 0,
                                             "close_pl": -900.0, "market_value": 16361.35,
                                             "margin": {"stock_buying_power": 12727.72,
                                                        "option_buying_power": 6363.86}}})
    result = await rt.orders.propose("api", buy_aapl())
    assert result.denied and result.intent is None and result.token is None
    assert result.risk.code == "halted" and "daily loss" in result.risk.reason
    assert tradier.requests_to("POST", "/orders") == []  # not even a preview
    async with rt.db.read() as session:
        assert (await session.scalars(select(OrderIntentRow))).all() == []
    assert (await _journal(rt))[-1].body.startswith("DENIED")


async def test_expired_forged_and_reused_tokens(rt: Runtime, tradier: TradierDouble) -> None:
    intent_id, token = await _propose(rt.orders)
    other_id, other_token = await _propose(rt.orders)
    with pytest.raises(Forbidden, match="token is not valid"):
        await rt.orders.confirm(intent_id, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), "api")
    with pytest.raises(Forbidden, match="token is not valid"):
        await rt.orders.confirm(intent_id, other_token, "api")  # a real token, for another intent
    assert (await rt.orders.confirm(intent_id, token, "api")).outcome == "submitted"
    with pytest.raises(Conflict):
        await rt.orders.confirm(intent_id, token, "api")  # reused

    rt.orders.confirm_ttl = timedelta(seconds=-1)  # proposals expire at once
    expired_id, expired_token = await _propose(rt.orders)
    with pytest.raises(Expired, match="propose it again"):
        await rt.orders.confirm(expired_id, expired_token, "api")
    assert (await intent_row(rt, expired_id)).status == "EXPIRED"
    assert len(placed(tradier)) == 1
    assert (await intent_row(rt, other_id)).status == "PENDING"


async def test_only_traders_and_only_the_proposer_may_confirm(rt: Runtime, tradier: TradierDouble) -> None:
    intent_id, token = await _propose(rt.orders)
    with pytest.raises(Forbidden, match="TRADERS"):
        await rt.orders.confirm(intent_id, token, "slack:T1:U9")
    with pytest.raises(Forbidden, match="not yours"):
        await rt.orders.confirm(intent_id, token, "discord:1")  # a trader, but not the proposer
    with pytest.raises(Forbidden, match="not yours"):
        await rt.orders.cancel_intent(intent_id, "discord:1")
    assert (await intent_row(rt, intent_id)).status == "PENDING"
    assert placed(tradier) == []


async def test_price_moved_beyond_slippage_aborts(rt: Runtime, tradier: TradierDouble) -> None:
    intent_id, token = await _propose(rt.orders)
    tradier.quotes["AAPL"] = {**tradier.quotes["AAPL"], "last": float(AAPL_LAST * Decimal("1.01"))}  # 100 bps
    result = await rt.orders.confirm(intent_id, token, "api")
    assert result.outcome == "aborted" and result.code == "price_moved" and "bps" in (result.reason or "")
    assert (await intent_row(rt, intent_id)).status == "ABORTED"
    assert placed(tradier) == []


async def test_cancel_intent_then_confirm_is_conflict(rt: Runtime, tradier: TradierDouble) -> None:
    intent_id, token = await _propose(rt.orders)
    assert (await rt.orders.cancel_intent(intent_id, "api")).status == "CANCELLED"
    with pytest.raises(Conflict):
        await rt.orders.confirm(intent_id, token, "api")
    with pytest.raises(Conflict):
        await rt.orders.cancel_intent(intent_id, "api")
    assert placed(tradier) == []


async def test_cancel_and_replace_go_through_intents(rt: Runtime, tradier: TradierDouble) -> None:
    intent_id, token = await _propose(rt.orders, type=OrderType.LIMIT, price=Decimal("430"))
    await rt.orders.confirm(intent_id, token, "api")
    order_id = str(placed(tradier)[0]["id"])

    replace = await rt.orders.propose_replace("api", order_id, {"price": "431.5"})
    assert replace.intent is not None and replace.intent.action == "replace" and replace.preview is None
    assert tradier.orders[order_id]["price"] == "430"  # nothing sent before the confirm
    assert (await rt.orders.confirm(replace.intent.id, replace.token or "", "api")).outcome == "submitted"
    assert tradier.orders[order_id]["price"] == "431.5"

    cancel = await rt.orders.propose_cancel("api", order_id, rationale="setup failed")
    assert cancel.intent is not None and cancel.intent.action == "cancel"
    assert tradier.orders[order_id]["status"] == "open"
    assert (await rt.orders.confirm(cancel.intent.id, cancel.token or "", "api")).outcome == "submitted"
    assert tradier.orders[order_id]["status"] == "canceled"
    assert len(placed(tradier)) == 1
    with pytest.raises(Conflict, match="only working orders"):
        await rt.orders.propose_cancel("api", order_id)
    with pytest.raises(NotFound):
        await rt.orders.propose_cancel("api", "999999")


def test_backoff_adds_up_to_the_window() -> None:
    assert backoff(30) == [0.5, 1, 2, 4, 8, 14.5]
    assert sum(backoff(0.6)) == pytest.approx(0.6)
