"""Brackets against the Tradier double: the forms TradierBroker sends are accepted, and the double refuses what
Tradier refuses in an oto/otoco form (leg count, missing or extra leg fields, flat fields, leg types, sides)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from core.adapters.tradier import TradierBroker
from core.adapters.tradier.forms import order_form
from core.domain.brackets import bracket_order
from tests.doubles.tradier import ACCOUNT, TOKEN, TradierDouble

D = Decimal
OTOCO = order_form(bracket_order("SPY", long=True, quantity=D(10), entry=D("410.50"), stop=D(405), target=D(420)))
OTO = order_form(bracket_order("SPY", long=False, quantity=D(5), entry=D(410), stop=D(415), target=None))


@pytest.fixture
async def broker(tradier: TradierDouble) -> AsyncIterator[TradierBroker]:
    async with TradierBroker(base_url=tradier.base_url, access_token=TOKEN, account_id=ACCOUNT, timeout=0.5,
                             max_retry_wait=0.05) as client:
        yield client


async def post(tradier: TradierDouble, form: list[tuple[str, str]]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=tradier.base_url) as http:
        return await http.post(f"/accounts/{ACCOUNT}/orders", data=dict(form),
                               headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"})


@pytest.mark.parametrize("order", [
    bracket_order("SPY", long=True, quantity=D(10), entry=D("410.50"), stop=D(405), target=D(420)),
    bracket_order("SPY", long=False, quantity=D(5), entry=D(410), stop=D(415), target=None),
])
async def test_both_bracket_classes_are_placed_as_one_order(tradier: TradierDouble, broker: TradierBroker,
                                                            order: object) -> None:
    ack = await broker.place(order, tag="intent-1")  # type: ignore[arg-type]
    placed = tradier.orders[ack.id]
    legs = 3 if placed["class"] == "otoco" else 2
    assert placed["num_legs"] == legs and [leg["type"] for leg in placed["leg"]][-1] == "stop"


def _without(form: list[tuple[str, str]], *names: str) -> list[tuple[str, str]]:
    return [(key, value) for key, value in form if key not in names]


def _with(form: list[tuple[str, str]], **values: str) -> list[tuple[str, str]]:
    return _without(form, *values) + list(values.items())


@pytest.mark.parametrize(("form", "error"), [
    (_without(OTOCO, "symbol[2]", "side[2]", "quantity[2]", "type[2]", "stop[2]"), "An otoco order has 3 legs, got 2"),
    (_with(OTO, **{"symbol[2]": "SPY"}), "An oto order has 2 legs, got 3"),
    (_without(OTO, "quantity[1]"), "quantity[1] is required"),
    (_with(OTO, **{"price[1]": "415"}), "price[1] is not allowed for a stop leg"),
    (_without(OTO, "stop[1]"), "stop[1] is required for a stop leg"),
    (_with(OTO, **{"colour[1]": "red"}), "Leg 1 has unknown field colour[1]"),
    (_with(OTO, symbol="SPY"), "symbol must be indexed (symbol[0], symbol[1], ...) in an oto order"),
    (_with(OTO, **{"type[0]": "market"}), "type[0] must be one of limit, stop, stop_limit"),
    (_with(OTO, **{"side[1]": "sell"}), "The triggered legs must close the entry (side buy_to_cover)"),
    (_with(OTOCO, **{"type[1]": "stop", "stop[1]": "420"}), "Second and third orders must have a different type"),
    (_without(OTO, "duration"), "Send duration once, or duration[n] for every leg"),
])
async def test_the_double_refuses_a_bracket_tradier_would_refuse(tradier: TradierDouble,
                                                                 form: list[tuple[str, str]], error: str) -> None:
    response = await post(tradier, form)
    assert response.status_code == 400
    errors = response.json()["errors"]["error"]
    assert error in (errors if isinstance(errors, list) else [errors])
    assert tradier.orders == {}
