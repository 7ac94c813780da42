"""The risk engine end to end against the Tradier double: the runtime reads balances, positions and today's
orders over HTTP, publishes `risk` with the usage strings, and alerts when the day's loss halts trading."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import httpx
import pytest

from api.app import create_app
from core.domain.events import AlertEvent, Event, RiskEvent
from core.ports import Subscription
from core.runtime import Runtime
from core.settings import Settings, TradierSettings
from tests.conftest import API_KEY
from tests.doubles.tradier import ACCOUNT, TOKEN, TradierDouble


def balances(close_pl: float, equity: float = 50_000) -> dict[str, Any]:
    return {"balances": {"account_number": ACCOUNT, "account_type": "margin", "total_equity": equity,
                         "total_cash": 10_000, "open_pl": 0, "close_pl": close_pl,
                         "margin": {"stock_buying_power": 80_000, "option_buying_power": 40_000}}}


def filled(order_id: int, symbol: str, side: str, quantity: float, price: float) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"id": order_id, "type": "market", "symbol": symbol, "side": side, "quantity": quantity,
            "status": "filled", "duration": "day", "avg_fill_price": price, "exec_quantity": quantity,
            "remaining_quantity": 0, "create_date": now, "transaction_date": now, "class": "equity"}


@pytest.fixture
async def tradier() -> AsyncIterator[TradierDouble]:
    async with TradierDouble() as double:
        # AAPL 10 @ 440.00 and MSFT 3 @ 36.67 against the fixture quotes (AAPL 438.89, MSFT 35.47)
        double.positions = [{"cost_basis": 4400.0, "date_acquired": "2026-03-02T14:41:11.405Z", "id": 1,
                             "quantity": 10.0, "symbol": "AAPL"},
                            {"cost_basis": 110.0, "date_acquired": "2026-03-02T14:42:00.774Z", "id": 2,
                             "quantity": 3.0, "symbol": "MSFT"}]
        double.orders = {"7001": filled(7001, "AAPL", "buy", 10, 440.0), "7002": filled(7002, "MSFT", "buy", 3,
                                                                                        36.6667)}
        double.serve("/balances", balances(close_pl=-120))
        yield double


@pytest.fixture
def broker_settings(make_settings: Callable[..., Settings], tradier: TradierDouble) -> Settings:
    return make_settings(tradier=TradierSettings(access_token=TOKEN, account_id=ACCOUNT, base_url=tradier.base_url),
                         risk_eval_sec=0.1)


async def _next(sub: Subscription, predicate: Callable[[Event], bool], timeout: float = 10.0) -> Event:
    async with asyncio.timeout(timeout):
        async for event in sub:
            if predicate(event):
                return event
    raise AssertionError("subscription ended")


def _status(event: Event) -> str | None:
    return event.state.status if isinstance(event, RiskEvent) else None


async def test_engine_publishes_usage_and_a_halted_alert_when_the_day_loss_passes_the_limit(
        tradier: TradierDouble, broker_settings: Settings) -> None:
    async with Runtime(broker_settings, roles={"engine"}) as rt:
        sub = rt.bus.subscribe(["risk", "alert"], name="test")
        assert "risk" in rt.expected_tasks() and rt.risk_state() is None  # the heartbeat does not send `risk`
        first = await _next(sub, lambda e: isinstance(e, RiskEvent))
        assert isinstance(first, RiskEvent)
        state = first.state
        assert state.status == "ACTIVE" and state.state == "ACTIVE"
        # day P&L: -120 realized + (4388.90 - 4400) + (106.41 - 110) = -134.69; limit min($500, 2% of $50,000)
        assert state.day_pnl == D("-134.69")
        texts = [usage.text for usage in state.usage]
        assert "$134.69 of $500.00 daily loss" in texts
        assert "2/10 trades" in texts and "2/5 positions" in texts

        tradier.serve("/balances", balances(close_pl=-600))
        alert = await _next(sub, lambda e: isinstance(e, AlertEvent))
        assert isinstance(alert, AlertEvent)
        assert alert.level == "critical"
        assert alert.msg.startswith("Trading HALTED: daily loss $614.69 reached the $500.00 limit")
        assert alert.meta is not None and alert.meta.previous == "ACTIVE"
        halted = await _next(sub, lambda e: _status(e) == "HALTED")
        assert isinstance(halted, RiskEvent) and "$614.69 of $500.00 daily loss" in [
            u.text for u in halted.state.usage]
        await sub.close()
    assert tradier.requests_to("GET", "/orders") and tradier.requests_to("GET", "/markets/quotes")


async def test_a_broker_that_refuses_the_token_gives_unknown_with_the_reason(
        tradier: TradierDouble, broker_settings: Settings) -> None:
    tradier.token = "rotated-token"
    async with Runtime(broker_settings, roles={"engine"}) as rt:
        sub = rt.bus.subscribe(["risk"], name="test")
        first = await _next(sub, lambda e: isinstance(e, RiskEvent))
        assert isinstance(first, RiskEvent)
        assert first.state.state == "unknown"
        assert "Tradier refused the credentials (401)" in first.state.reasons[0]
        assert "TRADIER_ACCESS_TOKEN" in (first.state.how_to_enable or "")
        tradier.token = TOKEN  # the loop is still alive and recovers
        recovered = await _next(sub, lambda e: _status(e) == "ACTIVE")
        assert isinstance(recovered, RiskEvent)
        await sub.close()


async def test_stream_risk_snapshot_over_the_api(tradier: TradierDouble, broker_settings: Settings) -> None:
    app = create_app(broker_settings, roles=frozenset({"api"}))  # API-only: evaluated on demand
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver",
            headers={"X-API-Key": API_KEY}) as client:
        body = (await client.get("/api/v1/stream/risk")).json()
    assert body["state"]["status"] == "ACTIVE"
    assert "$134.69 of $500.00 daily loss" in [u["text"] for u in body["state"]["usage"]]
