"""TradierBroker trading against the double: form encoding, rejections, never-retried writes, unknown outcomes."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from core.adapters.tradier import OrderOutcomeUnknown, TradierBroker
from core.domain.orders import OrderClass, OrderDuration, OrderLeg, OrderRequest, OrderSide, OrderType
from core.errors import ExternalPermanent, ExternalTransient, Invalid
from tests.doubles.tradier import ACCOUNT, TOKEN, TradierDouble

D = Decimal
TAG = "0f9c2b7e-intent-1"
SPY_C = "SPY240621C00500000"
SPY_C2 = "SPY240621C00510000"


@pytest.fixture
async def broker(tradier: TradierDouble) -> AsyncIterator[TradierBroker]:
    async with TradierBroker(base_url=tradier.base_url, access_token=TOKEN, account_id=ACCOUNT, timeout=0.5,
                             max_retry_wait=0.05) as client:
        yield client


def equity(type_: OrderType = OrderType.LIMIT, **changes: object) -> OrderRequest:
    fields: dict[str, object] = {"symbol": "SPY", "side": OrderSide.BUY, "quantity": D(10), "type": type_,
                                 "price": D("410.50") if type_ in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
                                 "stop": D("400") if type_ in (OrderType.STOP, OrderType.STOP_LIMIT) else None}
    fields.update(changes)
    return OrderRequest(**fields)  # type: ignore[arg-type]


FORMS = [
    (equity(OrderType.MARKET), {"class": "equity", "symbol": "SPY", "side": "buy", "quantity": "10",
                                "type": "market", "duration": "day"}),
    (equity(OrderType.LIMIT, duration=OrderDuration.GTC), {"type": "limit", "price": "410.50", "duration": "gtc"}),
    (equity(OrderType.STOP, side=OrderSide.SELL, duration=OrderDuration.PRE), {"type": "stop", "stop": "400",
                                                                              "side": "sell", "duration": "pre"}),
    (equity(OrderType.STOP_LIMIT, side=OrderSide.SELL_SHORT, duration=OrderDuration.POST),
     {"type": "stop_limit", "price": "410.50", "stop": "400", "side": "sell_short", "duration": "post"}),
    (OrderRequest("SPY", OrderSide.BUY_TO_OPEN, D(2), OrderType.LIMIT, order_class=OrderClass.OPTION,
                  price=D("1.25"), option_symbol=SPY_C),
     {"class": "option", "symbol": "SPY", "option_symbol": SPY_C, "side": "buy_to_open", "quantity": "2",
      "price": "1.25"}),
    (OrderRequest("SPY", OrderSide.BUY_TO_OPEN, D(1), OrderType.DEBIT, order_class=OrderClass.MULTILEG,
                  price=D("1.10"), legs=(OrderLeg(SPY_C, OrderSide.BUY_TO_OPEN, 1),
                                         OrderLeg(SPY_C2, OrderSide.SELL_TO_OPEN, 1))),
     {"class": "multileg", "symbol": "SPY", "type": "debit", "price": "1.10", "option_symbol[0]": SPY_C,
      "side[0]": "buy_to_open", "quantity[0]": "1", "option_symbol[1]": SPY_C2, "side[1]": "sell_to_open"}),
    (OrderRequest("SPY", OrderSide.SELL_TO_OPEN, D(1), OrderType.CREDIT, order_class=OrderClass.MULTILEG,
                  price=D("0.90"), legs=(OrderLeg(SPY_C, OrderSide.SELL_TO_OPEN, 1),
                                         OrderLeg(SPY_C2, OrderSide.BUY_TO_OPEN, 1))),
     {"type": "credit", "price": "0.90"}),
    (OrderRequest("SPY", OrderSide.BUY_TO_OPEN, D(1), OrderType.EVEN, order_class=OrderClass.MULTILEG,
                  legs=(OrderLeg(SPY_C, OrderSide.BUY_TO_OPEN, 1), OrderLeg(SPY_C2, OrderSide.SELL_TO_OPEN, 1))),
     {"type": "even"}),
    (equity(OrderType.LIMIT, order_class=OrderClass.OTOCO, take_profit=D("420"), stop_loss=D("405")),
     {"class": "otoco", "duration": "day", "symbol[0]": "SPY", "side[0]": "buy", "type[0]": "limit",
      "price[0]": "410.50", "quantity[0]": "10", "symbol[1]": "SPY", "side[1]": "sell", "type[1]": "limit",
      "price[1]": "420", "quantity[1]": "10", "side[2]": "sell", "type[2]": "stop", "stop[2]": "405",
      "quantity[2]": "10"}),
]


@pytest.mark.parametrize(("order", "expected"), FORMS)
async def test_every_order_class_is_form_encoded(tradier: TradierDouble, broker: TradierBroker,
                                                 order: OrderRequest, expected: dict[str, str]) -> None:
    ack = await broker.place(order, tag=TAG)
    request = tradier.requests_to("POST", "/orders")[-1]
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert expected.items() <= request.form.items()
    assert request.form["tag"] == TAG and "preview" not in request.form
    assert ack.id in tradier.orders and ack.tag == TAG and ack.status == "ok"
    echo = await broker.order(ack.id)
    assert echo.tag == TAG and echo.is_working


async def test_multileg_and_otoco_echo_their_legs(tradier: TradierDouble, broker: TradierBroker) -> None:
    ack = await broker.place(FORMS[-1][0], tag=TAG)
    echo = await broker.order(ack.id)
    assert echo.order_class == "otoco" and [leg.type for leg in echo.legs] == ["limit", "limit", "stop"]


async def test_preview_costs_the_order_and_places_nothing(tradier: TradierDouble, broker: TradierBroker) -> None:
    preview = await broker.preview(equity(OrderType.MARKET))
    assert preview.ok and preview.commission == D("3.49") and preview.cost == D("34.715100000000")
    assert preview.day_trades == 3 and preview.raw["strategy"] == "equity"
    assert tradier.requests[-1].form["preview"] == "true" and "tag" not in tradier.requests[-1].form
    assert tradier.orders == {}


async def test_200_with_errors_rejects_with_the_message(tradier: TradierDouble, broker: TradierBroker) -> None:
    tradier.fail("errors_200", method="POST", message="DayTradingBuyingPowerExceeded")
    with pytest.raises(ExternalPermanent, match="DayTradingBuyingPowerExceeded") as caught:
        await broker.place(equity(), tag=TAG)
    assert caught.value.details["errors"] == ["DayTradingBuyingPowerExceeded"]
    assert tradier.orders == {} and len(tradier.requests_to("POST", "/orders")) == 1


async def test_400_rejects_and_is_not_retried(tradier: TradierDouble, broker: TradierBroker) -> None:
    tradier.fail("status", method="POST", status=400, message="Invalid Parameter: quantity")
    with pytest.raises(ExternalPermanent, match="Invalid Parameter: quantity"):
        await broker.place(equity(), tag=TAG)
    assert len(tradier.requests_to("POST", "/orders")) == 1


@pytest.mark.parametrize(("kind", "options"), [
    ("drop_after_accept", {}),
    ("hang_after_accept", {"delay": 0.8}),
])
async def test_timeout_after_accept_is_unknown_and_resolved_by_tag(tradier: TradierDouble, broker: TradierBroker,
                                                                   kind: str, options: dict[str, object]) -> None:
    tradier.fail(kind, method="POST", path="/orders", **options)
    with pytest.raises(OrderOutcomeUnknown) as caught:
        await broker.place(equity(), tag=TAG)
    assert caught.value.tag == TAG
    assert len(tradier.requests_to("POST", "/orders")) == 1, "a place is never retried"
    assert len(tradier.by_tag(TAG)) == 1 and len(tradier.orders) == 1
    found = await broker.find_order_by_tag(TAG)
    assert found is not None and found.id in tradier.orders and found.symbol == "SPY"
    assert await broker.find_order_by_tag("some-other-intent") is None


@pytest.mark.parametrize(("kind", "options"), [("status", {"status": 500}), ("status", {"status": 502}),
                                               ("malformed", {}), ("drop", {})])
async def test_ambiguous_failures_of_place_are_unknown_never_retried(
        tradier: TradierDouble, broker: TradierBroker, kind: str, options: dict[str, object]) -> None:
    tradier.fail(kind, method="POST", path="/orders", **options)
    with pytest.raises(OrderOutcomeUnknown):
        await broker.place(equity(), tag=TAG)
    assert len(tradier.requests_to("POST", "/orders")) == 1


async def test_429_on_place_is_transient_not_unknown_and_not_retried(tradier: TradierDouble,
                                                                    broker: TradierBroker) -> None:
    tradier.fail("status", method="POST", status=429, message="Rate limit exceeded", expiry_ms=5000)
    with pytest.raises(ExternalTransient) as caught:
        await broker.place(equity(), tag=TAG)
    assert not isinstance(caught.value, OrderOutcomeUnknown)
    assert caught.value.retry_after is not None and 3 < caught.value.retry_after <= 5
    assert len(tradier.requests_to("POST", "/orders")) == 1 and tradier.orders == {}


async def test_connection_refused_means_not_sent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with TradierBroker(base_url=f"http://127.0.0.1:{port}/v1", access_token=TOKEN, account_id=ACCOUNT,
                             timeout=0.5) as client:
        with pytest.raises(ExternalTransient) as caught:
            await client.place(equity(), tag=TAG)
    assert not isinstance(caught.value, OrderOutcomeUnknown)


@pytest.mark.parametrize("order", [
    equity(quantity=D(0)), equity(quantity=D(-5)), equity(quantity=D("1.5")), equity(OrderType.LIMIT, price=None),
    equity(OrderType.STOP, stop=None), equity(side=OrderSide.BUY_TO_OPEN), equity(symbol="SP Y"),
    equity(symbol="spy"), equity(order_class=OrderClass.OPTION),
    equity(order_class=OrderClass.OTOCO, take_profit=D("400"), stop_loss=D("420")),
    OrderRequest("SPY", OrderSide.BUY_TO_OPEN, D(1), OrderType.LIMIT, order_class=OrderClass.MULTILEG,
                 price=D(1), legs=(OrderLeg(SPY_C, OrderSide.BUY_TO_OPEN, 1),)),
])
async def test_bad_orders_are_refused_before_sending(tradier: TradierDouble, broker: TradierBroker,
                                                     order: OrderRequest) -> None:
    with pytest.raises(Invalid):
        await broker.place(order, tag=TAG)
    assert tradier.requests == []


@pytest.mark.parametrize("tag", ["", "has space", "under_score", "x" * 256])
async def test_bad_tags_are_refused_before_sending(tradier: TradierDouble, broker: TradierBroker, tag: str) -> None:
    with pytest.raises(Invalid, match="tag"):
        await broker.place(equity(), tag=tag)
    assert tradier.requests == []


async def test_modify_puts_only_changed_fields_and_cancel_deletes(tradier: TradierDouble,
                                                                  broker: TradierBroker) -> None:
    ack = await broker.place(equity(), tag=TAG)
    await broker.modify(ack.id, type=OrderType.LIMIT, price=D("409.75"))
    put = tradier.requests_to("PUT", f"/orders/{ack.id}")[-1]
    assert put.form == {"type": "limit", "price": "409.75"}
    assert (await broker.order(ack.id)).price == D("409.75")
    cancelled = await broker.cancel(ack.id)
    assert cancelled.id == ack.id and (await broker.order(ack.id)).status == "canceled"
    with pytest.raises(Invalid):
        await broker.modify(ack.id)


async def test_cancel_of_an_unknown_order_is_refused(tradier: TradierDouble, broker: TradierBroker) -> None:
    with pytest.raises(ExternalPermanent, match="Order not found"):
        await broker.cancel("999999")
    assert len(tradier.requests_to("DELETE", "/orders/999999")) == 1
