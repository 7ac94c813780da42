"""RiskService and RiskEngine over a fake Broker port: evaluation inputs, transitions and their alerts, broker
faults, the order gate's staleness rule, and the loss streak it reads from today's fills."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

from core.domain.events import AlertEvent, Event, RiskEvent
from core.domain.market import Quote
from core.domain.orders import Balances, BrokerOrder, OrderRequest, OrderSide, OrderType, Position
from core.domain.risk import Approved, Denied, TradingStatus
from core.engines.risk import RiskEngine
from core.errors import ExternalTransient
from core.services.risk import RiskService
from core.services.settings import RiskLimitsSettings, Tunables

NOW = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # 11:00 in New York


@dataclass
class FakeBroker:
    """The Broker port's reads, answering instantly from fields a test edits between cycles."""

    balances_value: Balances = field(default_factory=lambda: Balances(D(100_000), D(150_000), D(50_000)))
    positions_value: list[Position] = field(default_factory=list)
    orders_value: list[BrokerOrder] = field(default_factory=list)
    quote_prices: dict[str, D] = field(default_factory=dict)
    fail_with: Exception | None = None
    calls: dict[str, int] = field(default_factory=dict)

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1
        if self.fail_with is not None:
            raise self.fail_with

    async def balances(self) -> Balances:
        self._count("balances")
        return self.balances_value

    async def positions(self) -> list[Position]:
        self._count("positions")
        return list(self.positions_value)

    async def orders(self) -> list[BrokerOrder]:
        self._count("orders")
        return list(self.orders_value)

    async def quote_price(self, symbol: str) -> D | None:
        self._count("quote_price")
        return self.quote_prices.get(symbol)


@dataclass
class BatchBroker(FakeBroker):
    async def quotes(self, symbols: Sequence[str]) -> list[Quote]:
        self._count("quotes")
        return [Quote(s, self.quote_prices[s], None, None, None, None, None, NOW, "tradier")
                for s in symbols if s in self.quote_prices]


class FakeSettings:
    def __init__(self, **risk: Any) -> None:
        self.tunables = Tunables(risk=RiskLimitsSettings(**risk))

    async def get(self) -> Tunables:
        return self.tunables


class ListBus:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def publish(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def service(broker: FakeBroker | None, *, eval_sec: float = 5.0, **risk: Any) -> RiskService:
    return RiskService(broker=broker, settings_service=FakeSettings(**risk),  # type: ignore[arg-type]
                       eval_sec=eval_sec, clock=lambda: NOW)


def fill(order_id: str, symbol: str, side: OrderSide, quantity: int, price: str, minute: int,
         status: str = "filled") -> BrokerOrder:
    when = NOW - timedelta(minutes=60 - minute)
    return BrokerOrder(order_id, symbol, side, D(quantity), OrderType.MARKET, status, avg_fill_price=D(price),
                       exec_quantity=D(quantity), created_at=when, updated_at=when)


def buy(symbol: str, quantity: int, price: str | None = "100") -> OrderRequest:
    return OrderRequest(symbol, OrderSide.BUY, D(quantity), OrderType.LIMIT if price else OrderType.MARKET,
                        price=D(price) if price else None)


# -- evaluation -------------------------------------------------------------------------------------------------


async def test_evaluate_reads_the_account_and_prices_positions_through_the_broker() -> None:
    broker = BatchBroker(positions_value=[Position("AAPL", D(10), D(1900)), Position("MSFT", D(0), D(0))],
                         quote_prices={"AAPL": D("185.00")},
                         balances_value=Balances(D(100_000), D(150_000), D(50_000), realized_pnl_today=D(-40)))
    risk = service(broker)
    state = await risk.evaluate()
    assert state.status is TradingStatus.ACTIVE
    assert state.day_pnl == D("-90.00")  # -40 realized + (185 x 10 - 1900) unrealized
    texts = [u.text for u in state.usage]
    assert "$90.00 of $500.00 daily loss" in texts
    assert "1/5 positions" in texts and "0/10 trades" in texts
    assert broker.calls["quotes"] == 1 and "quote_price" not in broker.calls  # one batched call, flat skipped
    payload = risk.snapshot()
    assert payload.status == payload.state == "ACTIVE"


async def test_prices_fall_back_one_by_one_and_a_quote_failure_is_a_warning_not_a_failure() -> None:
    broker = FakeBroker(positions_value=[Position("AAPL", D(10), D(1900))], quote_prices={"AAPL": D(190)})
    state = await service(broker).evaluate()
    assert broker.calls["quote_price"] == 1 and state.day_pnl == D("0.00")

    class QuoteFails(BatchBroker):
        async def quotes(self, symbols: Sequence[str]) -> list[Quote]:
            raise ExternalTransient("quotes down")

    state = await service(QuoteFails(positions_value=[Position("AAPL", D(10), D(1900))])).evaluate()
    assert state.status is TradingStatus.ACTIVE
    assert any("no live price for AAPL" in w for w in state.warnings)
    assert any("broker quotes failed: quotes down" in w for w in state.warnings)


# -- engine: transitions and alerts ---------------------------------------------------------------------------


async def test_engine_publishes_each_cycle_and_alerts_on_restrictive_transitions_only() -> None:
    broker = FakeBroker()
    bus = ListBus()
    engine = RiskEngine(service(broker, max_trades_per_day=2), bus, interval=0.01)  # type: ignore[arg-type]

    await engine.cycle()  # ACTIVE at start: no alert
    broker.orders_value = [fill("1", "AAPL", OrderSide.BUY, 1, "100", 1), fill("2", "AAPL", OrderSide.SELL, 1,
                                                                                "101", 2)]
    await engine.cycle()  # 2/2 trades -> REDUCE_ONLY (warning)
    await engine.cycle()  # still REDUCE_ONLY: no second alert
    broker.balances_value = Balances(D(100_000), D(150_000), D(50_000), realized_pnl_today=D(-500))
    await engine.cycle()  # $500 loss -> HALTED (critical)
    broker.balances_value = Balances(D(100_000), D(150_000), D(50_000))
    broker.orders_value = []
    await engine.cycle()  # back to ACTIVE (info)

    statuses = [e.state.status for e in bus.of(RiskEvent)]
    assert statuses == ["ACTIVE", "REDUCE_ONLY", "REDUCE_ONLY", "HALTED", "ACTIVE"]
    alerts = bus.of(AlertEvent)
    assert [a.level for a in alerts] == ["warning", "critical", "info"]
    assert "Reduce-only: 2/2 trades today" in alerts[0].msg
    assert alerts[1].msg.startswith("Trading HALTED: daily loss $500.00 reached the $500.00 limit")
    assert alerts[1].meta is not None and alerts[1].meta.status == "HALTED"
    assert alerts[1].meta.previous == "REDUCE_ONLY" and alerts[1].meta.kind == "risk"
    assert alerts[1].meta.usage is not None and "$500.00 of $500.00 daily loss" in alerts[1].meta.usage


async def test_first_cycle_already_halted_alerts_and_an_unknown_blip_does_not_re_alert() -> None:
    broker = FakeBroker(balances_value=Balances(D(100_000), D(150_000), D(50_000), realized_pnl_today=D(-600)))
    bus = ListBus()
    engine = RiskEngine(service(broker), bus, interval=0.01)  # type: ignore[arg-type]
    await engine.cycle()
    broker.fail_with = ExternalTransient("Tradier GET balances: server error 503")
    await engine.cycle()
    broker.fail_with = None
    await engine.cycle()
    assert [e.state.status for e in bus.of(RiskEvent)] == ["HALTED", "unknown", "HALTED"]
    assert [a.level for a in bus.of(AlertEvent)] == ["critical"]


async def test_broker_errors_make_the_state_unknown_with_the_reason_and_the_loop_keeps_going() -> None:
    broker = FakeBroker(fail_with=ExternalTransient("Tradier GET balances: server error 500"))
    bus = ListBus()
    risk = service(broker)
    engine = RiskEngine(risk, bus, interval=0.01)  # type: ignore[arg-type]
    task = asyncio.create_task(engine.run())
    try:
        for _ in range(200):
            if len(bus.of(RiskEvent)) >= 2:
                break
            await asyncio.sleep(0.01)
        broker.fail_with = None
        for _ in range(200):
            if bus.of(RiskEvent)[-1].state.status == "ACTIVE":
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
    first = bus.of(RiskEvent)[0].state
    assert first.state == "unknown" and first.status == "unknown"
    assert first.reasons == ("broker read failed: Tradier GET balances: server error 500",)
    assert bus.of(RiskEvent)[-1].state.status == "ACTIVE"
    assert engine.failures >= 2
    assert risk.error is None  # a good cycle clears the error


async def test_an_unexpected_exception_does_not_kill_the_engine() -> None:
    broker = FakeBroker(fail_with=ZeroDivisionError("boom"))
    bus = ListBus()
    engine = RiskEngine(service(broker), bus, interval=0.01)  # type: ignore[arg-type]
    payload = await engine.cycle()
    assert payload.state == "unknown" and "ZeroDivisionError" in payload.reasons[0]


# -- the gate ---------------------------------------------------------------------------------------------------


async def test_check_uses_the_fresh_state_and_re_evaluates_when_stale() -> None:
    broker = FakeBroker()
    risk = service(broker, eval_sec=0.05)
    assert await risk.check(buy("AAPL", 10), price=D(100)) == Approved(reducing=False, notional=D("1000.00"))
    assert await risk.check(buy("AAPL", 10), price=D(100)) == Approved(reducing=False, notional=D("1000.00"))
    assert broker.calls["balances"] == 1  # the second check reused the fresh state
    broker.balances_value = Balances(D(100_000), D(150_000), D(50_000), realized_pnl_today=D(-700))
    await asyncio.sleep(0.06)
    decision = await risk.check(buy("AAPL", 10), price=D(100))
    assert broker.calls["balances"] == 2
    assert isinstance(decision, Denied) and decision.code == "halted"
    assert "daily loss $700.00 reached the $500.00 limit" in decision.reason


async def test_check_still_lets_a_halted_trader_close_a_position() -> None:
    broker = FakeBroker(positions_value=[Position("AAPL", D(10), D(1900))], quote_prices={"AAPL": D(150)},
                        balances_value=Balances(D(100_000), D(150_000), D(50_000), realized_pnl_today=D(-200)))
    risk = service(broker)
    assert (await risk.current())[0].status is TradingStatus.HALTED
    close = OrderRequest("AAPL", OrderSide.SELL, D(10), OrderType.MARKET)
    assert await risk.check(close) == Approved(reducing=True)
    assert isinstance(await risk.check(buy("AAPL", 1)), Denied)


async def test_check_values_at_the_quote_and_applies_the_configured_collar() -> None:
    risk = RiskService(broker=FakeBroker(), settings_service=FakeSettings(),  # type: ignore[arg-type]
                       collar_pct=D(5), clock=lambda: NOW)
    decision = await risk.check(buy("AAPL", 10, "94.99"), price=D(100))
    assert isinstance(decision, Denied) and decision.code == "price_collar" and "5.00% collar" in decision.reason
    assert await risk.check(buy("AAPL", 10, "95"), price=D(100)) == Approved(reducing=False, notional=D("1000.00"))
    decision = await risk.check(buy("AAPL", 10, "95"))  # no quote: a limit is not valued at its own price
    assert isinstance(decision, Denied) and decision.code == "no_quote"


async def test_check_denies_without_a_broker_or_when_the_account_cannot_be_read() -> None:
    decision = await service(None).check(buy("AAPL", 1))
    assert isinstance(decision, Denied) and decision.code == "broker_disabled"
    decision = await service(FakeBroker(fail_with=ExternalTransient("timeout"))).check(buy("AAPL", 1))
    assert isinstance(decision, Denied) and decision.code == "risk_unknown" and "timeout" in decision.reason
    assert service(None).snapshot().state == "unknown"


async def test_balances_reuse_the_last_evaluation_when_fresh() -> None:
    broker = FakeBroker()
    risk = service(broker)
    await risk.evaluate()
    balances, _ = await risk.balances()
    assert balances.equity == D(100_000) and broker.calls["balances"] == 1
    await risk.balances(max_age=0)
    assert broker.calls["balances"] == 2
