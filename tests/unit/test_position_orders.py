"""PositionOrders (the action service's position part): the order behind each position button, with the broker
read and the option chain scripted (in-process stand-ins for OrderService and OptionsService; the wire path is in
test_discord_commands.py and test_action_parity.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import cast

import pytest

from core.domain.action_refs import ActionRef, Target
from core.domain.options_types import OptionChain, OptionRow, OptionType
from core.domain.order_views import PositionItem, RiskDecision, position_item
from core.domain.orders import OrderClass, OrderRequest, OrderSide, OrderType, Position
from core.errors import Invalid, NotFound
from core.services.action_outcome import ActionOutcome
from core.services.option_hedge import OptionHedges
from core.services.options import OptionsService
from core.services.orders import OrderService, ProposeResult
from core.services.position_orders import PositionAction, PositionOrders, actions_for

D = Decimal
HELD = "AAPL240621C00150000"
NEXT = "AAPL240719C00150000"
LATER = "AAPL240816C00150000"


class Account:
    def __init__(self, positions: list[PositionItem]) -> None:
        self.items = positions

    async def position(self, symbol: str) -> PositionItem | None:
        return next((p for p in self.items if p.symbol == symbol), None)


class Orders:
    def __init__(self, *positions: PositionItem) -> None:
        self.account = Account(list(positions))
        self.proposed: list[tuple[str, OrderRequest, str | None, str | None]] = []

    async def propose(self, actor: str, order: OrderRequest, *, rationale: str | None = None,
                      source: str | None = None) -> ProposeResult:
        self.proposed.append((actor, order, rationale, source))
        return ProposeResult(None, None, RiskDecision("approved", "within every limit"), "token", "PAPER")


class Options:
    """The options service's two reads a roll makes: the listed expirations and one expiration's chain."""

    def __init__(self, rows: list[OptionRow], expirations: list[date] | None = None) -> None:
        self.rows = rows
        self.expirations_listed = sorted(expirations or {row.expiration for row in rows})
        self.asked: list[tuple[str, date | None]] = []

    async def expirations(self, symbol: str) -> tuple[str, list[date]]:
        return "tradier", self.expirations_listed

    async def chain(self, symbol: str, expiration: date | None = None) -> OptionChain:
        self.asked.append((symbol, expiration))
        return OptionChain(symbol=symbol, expiration=expiration, underlying_price=None, source="tradier",
                           as_of=datetime.now(UTC),
                           contracts=tuple(row for row in self.rows if row.expiration == expiration))


def contract(symbol: str, expiration: date, *, bid: str | None, ask: str | None, kind: OptionType = "call",
             strike: str = "150") -> OptionRow:
    def price(value: str | None) -> float | None:
        return None if value is None else float(value)

    return OptionRow(symbol, kind, float(strike), expiration, 30, price(bid), price(ask), None, None, None, None,
                     None, None, None, None, None, None, "none")


def position(symbol: str, quantity: str, *, last: str | None = "2.00") -> PositionItem:
    return position_item(Position(symbol, D(quantity), D(200)), None if last is None else D(last))


CHAIN = [contract(HELD, date(2024, 6, 21), bid="1.90", ask="2.10"),
         contract(NEXT, date(2024, 7, 19), bid="3.40", ask="3.60"),
         contract(LATER, date(2024, 8, 16), bid="4.40", ask="4.60"),
         contract("AAPL240719C00155000", date(2024, 7, 19), bid="1.00", ask="1.10", strike="155")]


def service(orders: Orders, options: Options) -> PositionOrders:
    return PositionOrders(cast(OrderService, orders), cast(OptionsService, options), cast(OptionHedges, None))


class Positions:
    """`propose(...)` in the old call shape, through `execute`."""

    def __init__(self, positions: PositionOrders) -> None:
        self.positions = positions

    async def propose(self, actor: str, symbol: str, action: str, *, source: str) -> ActionOutcome:
        return await self.positions.execute(actor, ActionRef(Target.POSITION, action, symbol), source=source)


async def test_a_long_call_rolls_to_the_next_expiration_as_one_debit_multileg() -> None:
    orders, options = Orders(position(HELD, "2")), Options(CHAIN)
    outcome = await Positions(service(orders, options)).propose("api", HELD, "roll", source="test")
    [(actor, order, rationale, source)] = orders.proposed
    assert (actor, rationale, source) == ("api", "position Roll", "test")
    assert options.asked == [("AAPL", date(2024, 7, 19)), ("AAPL", date(2024, 6, 21))]
    assert order.order_class is OrderClass.MULTILEG and order.symbol == "AAPL"
    assert (order.type, order.price) == (OrderType.DEBIT, D("1.70"))  # buy NEXT at 3.60, sell HELD at 1.90
    assert [(leg.option_symbol, leg.side, leg.quantity) for leg in order.legs] == [
        (HELD, OrderSide.SELL_TO_CLOSE, 2), (NEXT, OrderSide.BUY_TO_OPEN, 2)]
    assert outcome.effect is not None and outcome.effect.dollars == D("-340.00")  # 1.70 x 100 x 2 paid
    assert outcome.bracket is None and outcome.proposal is not None


async def test_a_short_call_rolls_for_a_credit_and_falls_back_to_the_last_price() -> None:
    chain = [c for c in CHAIN if c.option_symbol != HELD]  # the held contract is not listed any more
    orders = Orders(position(HELD, "-1", last="3.00"))
    listed = Options(chain, [date(2024, 6, 21), date(2024, 7, 19)])
    await Positions(service(orders, listed)).propose("api", HELD, PositionAction.ROLL, source="test")
    [(_, order, _, _)] = orders.proposed
    assert (order.type, order.price) == (OrderType.CREDIT, D("0.40"))  # buy back at 3.00, sell NEXT at 3.40
    assert [leg.side for leg in order.legs] == [OrderSide.BUY_TO_CLOSE, OrderSide.SELL_TO_OPEN]


async def test_without_prices_the_roll_goes_at_market() -> None:
    chain = [contract(NEXT, date(2024, 7, 19), bid=None, ask=None)]
    orders = Orders(position(HELD, "1", last=None))
    listed = Options(chain, [date(2024, 6, 21), date(2024, 7, 19)])
    await Positions(service(orders, listed)).propose("api", HELD, "roll", source="test")
    [(_, order, _, _)] = orders.proposed
    assert (order.type, order.price) == (OrderType.MARKET, None)


async def test_an_equity_position_does_not_roll() -> None:
    orders = Orders(position("AAPL", "10"))
    with pytest.raises(Invalid, match="only options roll"):
        await Positions(service(orders, Options(CHAIN))).propose("api", "AAPL", "roll", source="test")
    assert orders.proposed == []
    assert actions_for("AAPL") == [PositionAction.TRIM, PositionAction.CLOSE, PositionAction.BREAKEVEN,
                                   PositionAction.HEDGE, PositionAction.COLLAR]
    assert actions_for(HELD)[-1] is PositionAction.ROLL


async def test_a_next_expiration_without_the_strike_is_refused_naming_it() -> None:
    orders = Orders(position(HELD, "1"))
    listed = Options([CHAIN[0], CHAIN[3]])  # 2024-07-19 lists the 155 call only
    with pytest.raises(Invalid, match="AAPL lists no 150 call expiring 2024-07-19"):
        await Positions(service(orders, listed)).propose("api", HELD, "roll", source="test")
    assert orders.proposed == []


async def test_no_later_expiration_unknown_action_and_a_gone_position_are_refused() -> None:
    orders = Orders(position(HELD, "1"))
    only_held = Options([CHAIN[0]])
    with pytest.raises(Invalid, match="no listed expiration after 2024-06-21"):
        await Positions(service(orders, only_held)).propose("api", HELD, "roll", source="test")
    with pytest.raises(Invalid, match="unknown position action 'spin'"):
        await Positions(service(orders, only_held)).propose("api", HELD, "spin", source="test")
    with pytest.raises(NotFound, match="no open MSFT position"):
        await Positions(service(orders, only_held)).propose("api", "MSFT", "close", source="test")
    assert orders.proposed == []


async def test_trim_close_and_breakeven_orders() -> None:
    orders = Orders(position("AAPL", "10", last="25.00"))
    positions = Positions(service(orders, Options([])))
    for action in ("trim", "close", "breakeven"):
        await positions.propose("api", "AAPL", action, source="test")
    trim, close, breakeven = (order for _, order, _, _ in orders.proposed)
    assert (trim.side, trim.quantity, trim.type) == (OrderSide.SELL, D(5), OrderType.MARKET)
    assert (close.side, close.quantity) == (OrderSide.SELL, D(10))
    assert (breakeven.type, breakeven.stop, breakeven.quantity) == (OrderType.STOP, D("20.00"), D(10))
