"""TradierBroker reads against the local Tradier double: shapes, Decimal numbers, error mapping, read retries."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from core.adapters.tradier import TradierBroker, wire
from core.domain.market import MarketSession
from core.errors import ExternalPermanent, ExternalTransient, IntegrationDisabled, NotFound
from core.settings import Settings, TradierSettings
from tests.doubles.tradier import ACCOUNT, TOKEN, TradierDouble, fixture, fixture_text


@pytest.fixture
async def broker(tradier: TradierDouble) -> AsyncIterator[TradierBroker]:
    async with TradierBroker(base_url=tradier.base_url, access_token=TOKEN, account_id=ACCOUNT, timeout=1.0,
                             max_retry_wait=0.3) as client:
        yield client


async def test_requests_carry_bearer_and_json_accept_and_never_log_the_token(
        tradier: TradierDouble, broker: TradierBroker) -> None:
    with capture_logs() as logs:
        await broker.balances()
    request = tradier.requests[-1]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "application/json"
    assert TOKEN not in repr(logs) and TOKEN not in repr(broker)


@pytest.mark.parametrize(("body", "symbols"), [
    (fixture("docs_positions_multi.json"), ["AAPL", "AMZN", "CAH", "FB", "GE", "IBM", "MSFT"]),
    (fixture_text("rb_account_positions_multi_list.json"), ["AAPL", "DELL140118C00015000"]),
    ({"positions": {"position": {"cost_basis": 207.01, "date_acquired": "2018-08-08T14:41:11.405Z", "id": 1,
                                 "quantity": 1.0, "symbol": "AAPL"}}}, ["AAPL"]),
    ({"positions": "null"}, []),
    ({"positions": None}, []),
])
async def test_positions_every_shape(tradier: TradierDouble, broker: TradierBroker, body: object,
                                     symbols: list[str]) -> None:
    tradier.serve("/positions", body)
    assert [p.symbol for p in await broker.positions()] == symbols


async def test_positions_numbers_are_exact_decimals(tradier: TradierDouble, broker: TradierBroker) -> None:
    tradier.serve("/positions", fixture_text("rb_account_positions_multi_list.json"))
    aapl, dell = await broker.positions()
    assert aapl.cost_basis == Decimal("9847.3500000000004") and aapl.quantity == 21
    assert dell.quantity == -1 and not dell.is_long
    assert aapl.opened_at is not None and aapl.opened_at.tzinfo is not None


async def test_orders_list_single_and_null(tradier: TradierDouble, broker: TradierBroker) -> None:
    assert await broker.orders() == []
    for number in (1, 2):
        tradier.orders[str(number)] = {"id": number, "type": "limit", "symbol": "SPY", "side": "buy",
                                       "quantity": 10.0, "status": "open", "duration": "day", "price": 410.5,
                                       "avg_fill_price": 0.0, "exec_quantity": 0.0, "class": "equity",
                                       "create_date": "2024-06-03T14:30:00.000Z", "tag": f"intent-{number}"}
        orders = await broker.orders()
        assert [o.tag for o in orders] == [f"intent-{n}" for n in range(1, number + 1)]
    assert orders[0].price == Decimal("410.5") and orders[0].is_working
    assert tradier.requests[-1].query["includeTags"] == "true"
    tradier.serve("/orders", {"orders": "null"})
    assert await broker.orders() == []


async def test_order_with_legs_and_one_by_id(tradier: TradierDouble, broker: TradierBroker) -> None:
    tradier.orders["7"] = {"id": 7, "type": "debit", "symbol": "SPY", "side": "buy", "quantity": 1.0,
                           "status": "filled", "class": "multileg", "price": 1.25, "num_legs": 2, "leg": [
                               {"id": 8, "side": "buy_to_open", "option_symbol": "SPY240621C00500000",
                                "quantity": 1.0, "status": "filled"},
                               {"id": 9, "side": "sell_to_open", "option_symbol": "SPY240621C00510000",
                                "quantity": 1.0, "status": "filled"}]}
    order = await broker.order("7")
    assert order.order_class == "multileg" and [leg.side for leg in order.legs] == ["buy_to_open", "sell_to_open"]
    assert not order.is_working
    with pytest.raises(NotFound):
        await broker.order("404")


@pytest.mark.parametrize(("name", "symbols"), [
    ("rb_quotes_single_object.json", ["AAPL"]),
    ("rb_quotes_multi_list.json", ["AAPL", "MSFT"]),
    ("rb_option_quote_single.json", ["AAPL7150117C00430000"]),
])
async def test_quotes_fixture_shapes(tradier: TradierDouble, broker: TradierBroker, name: str,
                                     symbols: list[str]) -> None:
    tradier.serve("/quotes", fixture_text(name))
    quotes = await broker.quotes(symbols)
    assert [q.symbol for q in quotes] == symbols
    assert all(isinstance(q.last, Decimal) for q in quotes)


async def test_quotes_from_state_and_unmatched(tradier: TradierDouble, broker: TradierBroker) -> None:
    assert await broker.quote_price("MSFT") == Decimal("35.47")
    assert await broker.quote_price("NOPE") is None
    quote = (await broker.quotes(["AAPL", "ZZZZ"]))[0]
    assert (quote.bid, quote.ask, quote.bid_size, quote.prev_close) == (Decimal("438.6"), Decimal("438.8"), 1, None)


@pytest.mark.parametrize(("account", "kind", "buying_power"), [
    ({"account_number": ACCOUNT, "type": "margin"}, "margin", Decimal("12727.72")),
    ([{"account_number": ACCOUNT, "type": "cash"}, {"account_number": "VA2", "type": "margin"}], "cash",
     Decimal("4500.25")),
    ({"account_number": ACCOUNT, "type": "pdt"}, "pdt", Decimal("20000.0")),
])
async def test_profile_accounts_and_balances_variants(tradier: TradierDouble, broker: TradierBroker,
                                                      account: object, kind: str, buying_power: Decimal) -> None:
    tradier.account_type = kind
    tradier.serve("/profile", {"profile": {"id": "id-1", "name": "T", "account": account}})
    profile = await broker.profile()
    assert profile.accounts[0].type == kind and profile.accounts[0].account_number == ACCOUNT
    balances = await broker.balances()
    assert (balances.account_type, balances.buying_power) == (kind, buying_power)
    assert balances.equity > 0 and isinstance(balances.cash, Decimal)


@pytest.mark.parametrize(("body", "expected"), [
    (fixture("rb_options_expirations.json"), 12),
    ({"expirations": {"date": "2024-06-21"}}, 1),
    ({"expirations": "null"}, 0),
])
async def test_expirations_shapes(tradier: TradierDouble, broker: TradierBroker, body: object,
                                  expected: int) -> None:
    tradier.serve("/expirations", body)
    dates = await broker.option_expirations("SPY")
    assert len(dates) == expected and dates == sorted(dates)


async def test_chain_with_greeks_and_clock(tradier: TradierDouble, broker: TradierBroker) -> None:
    call, put = await broker.option_chain("SPY", date(2024, 6, 21))
    assert call.greeks is not None and call.greeks.delta == Decimal("0.52") and put.greeks is None
    assert call.expiration == date(2024, 6, 21) and call.strike == Decimal("150.0")
    assert tradier.requests[-1].query == {"symbol": "SPY", "expiration": "2024-06-21", "greeks": "true"}
    status = await broker.clock()
    assert status.session is MarketSession.CLOSED and status.server_time is not None


async def test_401_disables_the_integration_with_how_to_fix(tradier: TradierDouble) -> None:
    async with TradierBroker(base_url=tradier.base_url, access_token="wrong", account_id=ACCOUNT) as client:
        with pytest.raises(IntegrationDisabled) as caught:
            await client.positions()
    assert "TRADIER_ACCESS_TOKEN" in caught.value.how_to_enable
    assert len(tradier.requests) == 1


async def test_400_is_permanent_with_the_broker_message(tradier: TradierDouble, broker: TradierBroker) -> None:
    tradier.fail("status", status=400, message="Invalid Parameter: symbols", path="/quotes")
    with pytest.raises(ExternalPermanent, match="Invalid Parameter: symbols"):
        await broker.quotes(["AAPL"])
    assert len(tradier.requests) == 1


async def test_200_with_errors_on_a_read_is_permanent(tradier: TradierDouble, broker: TradierBroker) -> None:
    tradier.fail("errors_200", message="Account is disabled", path="/balances")
    with pytest.raises(ExternalPermanent, match="Account is disabled") as caught:
        await broker.balances()
    assert caught.value.details["errors"] == ["Account is disabled"]


async def test_non_json_is_permanent(tradier: TradierDouble, broker: TradierBroker) -> None:
    tradier.serve("/clock", "<clock><state>open</state></clock>")
    with pytest.raises(ExternalPermanent, match="not JSON"):
        await broker.clock()


@pytest.mark.parametrize(("kind", "options"), [
    ("status", {"status": 500}),
    ("status", {"status": 503}),
    ("malformed", {}),
    ("drop", {}),
    ("slow", {"delay": 1.5}),
])
async def test_reads_retry_transient_faults_then_succeed(tradier: TradierDouble, broker: TradierBroker, kind: str,
                                                         options: dict[str, object]) -> None:
    tradier.fail(kind, path="/positions", times=2, **options)
    assert len(await broker.positions()) == 7
    assert len(tradier.requests_to("GET", "/positions")) == 3


async def test_reads_give_up_after_bounded_attempts(tradier: TradierDouble, broker: TradierBroker) -> None:
    tradier.fail("status", status=500, path="/positions", times=10)
    with pytest.raises(ExternalTransient):
        await broker.positions()
    assert len(tradier.requests_to("GET", "/positions")) == 4


async def test_429_waits_for_the_rate_limit_expiry_then_retries(tradier: TradierDouble,
                                                               broker: TradierBroker) -> None:
    tradier.fail("status", status=429, path="/balances", expiry_ms=250)
    started = time.monotonic()
    balances = await broker.balances()
    assert balances.account_type == "margin"
    assert time.monotonic() - started >= 0.2
    assert len(tradier.requests_to("GET", "/balances")) == 2


async def test_429_retry_after_header_is_honoured(tradier: TradierDouble, broker: TradierBroker) -> None:
    tradier.fail("status", status=429, path="/clock", retry_after="0.2", expiry_ms=0)
    started = time.monotonic()
    await broker.clock()
    assert time.monotonic() - started >= 0.15


async def test_exhausted_budget_header_blocks_the_category(tradier: TradierDouble, broker: TradierBroker) -> None:
    tradier.allowed = 1
    await broker.positions()
    assert broker.limiters["standard"].blocked_for > 30
    assert broker.limiters["market"].blocked_for == 0


def test_legacy_rejection_and_error_list_shapes() -> None:
    assert wire.error_messages(fixture("rb_order_rejected_legacy_2013.json")) == [
        "You do not have enough buying power for this trade."]
    assert wire.error_messages({"errors": {"error": ["a", "b"]}}) == ["a", "b"]
    assert wire.error_messages({"order": {"id": 1, "status": "ok"}}) == []


def test_from_settings_requires_credentials() -> None:
    with pytest.raises(IntegrationDisabled, match="TRADIER_ACCESS_TOKEN"):
        TradierBroker.from_settings(Settings(tradier=TradierSettings(access_token=None, account_id=None)))


async def test_from_settings_uses_the_sandbox_by_default() -> None:
    settings = Settings(tradier=TradierSettings(access_token="t", account_id=ACCOUNT, base_url=None))
    async with TradierBroker.from_settings(settings) as client:
        assert "sandbox.tradier.com/v1" in repr(client)


def test_production_is_refused_without_allow_live_trading() -> None:
    with pytest.raises(ValidationError, match=r"api\.tradier\.com, Tradier's production API: real orders"):
        Settings(tradier=TradierSettings(env="production"), allow_live_trading=False)
    live = Settings(tradier=TradierSettings(env="production"), allow_live_trading=True)
    assert live.tradier.effective_base_url == "https://api.tradier.com/v1"
