"""Every Tradier read against the double serving bodies Tradier does not send: each is an error naming Tradier,
what was expected and what came back, never an empty account, a zero P&L or an invented quote."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path

import pytest

from api.app import create_app
from api.errors import http_status
from core.adapters.tradier import TradierBroker
from core.errors import ExternalPermanent
from core.settings import Settings
from tests.conftest import serving
from tests.doubles.tradier import ACCOUNT, TOKEN, TradierDouble
from tests.integration.orders_helpers import broker_settings

Read = Callable[[TradierBroker], Awaitable[object]]
READS: dict[str, tuple[str, Read]] = {
    "profile": ("/profile", lambda b: b.profile()),
    "balances": ("/balances", lambda b: b.balances()),
    "positions": ("/positions", lambda b: b.positions()),
    "orders": ("/orders", lambda b: b.orders()),
    "order": ("/orders/7", lambda b: b.order("7")),
    "quotes": ("/quotes", lambda b: b.quotes(["AAPL"])),
    "expirations": ("/expirations", lambda b: b.option_expirations("SPY")),
    "chain": ("/chains", lambda b: b.option_chain("SPY", date(2024, 6, 21))),
    "clock": ("/clock", lambda b: b.clock()),
}
MALFORMED: dict[str, list[object]] = {
    "profile": [{"profile": "null"}, {"profile": {"id": "x", "account": ["VA1"]}},
                {"profile": {"id": "x", "account": {"type": "margin"}}}],
    "balances": [{"balances": {"total_equity": 10}},
                 {"balances": {"total_equity": 10, "total_cash": 5, "open_pl": 0}},
                 {"balances": {"total_equity": "lots", "total_cash": 5, "open_pl": 0, "close_pl": 0}}],
    "positions": [{"positions": {}}, {"positions": {"position": ["AAPL"]}},
                  {"positions": {"position": {"symbol": "AAPL", "cost_basis": 1}}},
                  {"positions": {"position": {"quantity": 3, "cost_basis": 1}}}],
    "orders": [{"orders": {}}, {"orders": {"order": [{"symbol": "SPY", "side": "buy", "type": "market"}]}},
               {"orders": []}],
    "order": [{"order": "null"}, {"order": {"id": 7, "status": "open"}}],
    "quotes": [{"quotes": {}}, {"quotes": {"quote": [{"last": 1}]}}, {"quotes": {"quote": 5}}],
    "expirations": [{"expirations": {}}, {"expirations": {"date": "21/06/2024"}}],
    "chain": [{"options": {"option": [{"symbol": "SPY1", "strike": 1}]}},
              {"options": {"option": [{"symbol": "SPY1", "strike": 1, "expiration_date": "soon"}]}},
              {"options": {}}],
    "clock": [{"clock": {"state": "maybe"}}, {"clock": []}],
}


@pytest.fixture
async def broker(tradier: TradierDouble) -> AsyncIterator[TradierBroker]:
    async with TradierBroker(base_url=tradier.base_url, access_token=TOKEN, account_id=ACCOUNT, timeout=1.0,
                             max_retry_wait=0.3) as client:
        tradier.orders["7"] = {"id": 7, "type": "market", "symbol": "SPY", "side": "buy", "quantity": 1.0,
                               "status": "open", "class": "equity"}
        yield client


@pytest.mark.parametrize("read", sorted(READS))
async def test_ok_true_is_refused_by_every_read(tradier: TradierDouble, broker: TradierBroker, read: str) -> None:
    suffix, call = READS[read]
    tradier.serve(suffix, {"ok": True})
    with pytest.raises(ExternalPermanent) as err:
        await call(broker)
    assert err.value.message.startswith("unexpected Tradier response: expected ")
    assert err.value.message.endswith('got {"ok":true}')
    assert http_status(err.value) == 502


@pytest.mark.parametrize(("read", "body"), [(r, b) for r, bodies in MALFORMED.items() for b in bodies])
async def test_each_malformed_shape_is_refused(tradier: TradierDouble, broker: TradierBroker, read: str,
                                               body: object) -> None:
    suffix, call = READS[read]
    tradier.serve(suffix, body)
    with pytest.raises(ExternalPermanent, match=r"^unexpected Tradier response: expected .*, got "):
        await call(broker)


async def test_documented_empty_answers_stay_empty(tradier: TradierDouble, broker: TradierBroker) -> None:
    """What Tradier does send for "nothing" is still nothing."""
    tradier.serve("/positions", {"positions": "null"})
    tradier.serve("/orders", {"orders": "null"})
    tradier.serve("/quotes", {"quotes": {"unmatched_symbols": {"symbol": "ZZZZ"}}})
    tradier.serve("/expirations", {"expirations": None})
    tradier.serve("/chains", {"options": "null"})
    assert await broker.positions() == [] and await broker.orders() == []
    assert await broker.quotes(["ZZZZ"]) == []
    assert await broker.option_expirations("ZZZZ") == []
    assert await broker.option_chain("ZZZZ", date(2024, 6, 21)) == []


async def test_a_malformed_read_is_a_502_naming_tradier_at_the_api(
        tradier: TradierDouble, make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    """Balances without the day's realized P&L would show (and risk-check against) a made-up 0: refused."""
    tradier.serve("/balances", {"balances": {"total_equity": 10000, "total_cash": 10000, "open_pl": 0}})
    async with serving(create_app(broker_settings(make_settings, f"sqlite+aiosqlite:///{tmp_path}/t.db", tradier),
                                  roles=frozenset({"api"}))) as http:
        response = await http.get("/api/v1/broker/account")
    assert response.status_code == 502
    message = response.json()["error"]["message"]
    assert message.startswith("unexpected Tradier response: expected balances with a numeric 'close_pl', got {")
