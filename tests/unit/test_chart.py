"""Chart studies and levels on hand-made candles (December: New York is UTC-5, the session opens 14:30 UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from core.domain.chart import (
    Candle,
    Level,
    OpeningRange,
    Range,
    daily_prior_day,
    intraday_studies,
    last_days,
    order_levels,
    plan_levels,
    position_level,
)
from core.domain.orders import BrokerOrder, OrderSide, OrderType, Position


def at(day: int, hour: int, minute: int) -> int:
    return int(datetime(2026, 12, day, hour, minute, tzinfo=UTC).timestamp())


def bar(t: int, h: float, lo: float, c: float, v: float) -> Candle:
    return Candle(t, c, h, lo, c, v)


PRIOR = [bar(at(3, 14, 30), 10, 9, 9.5, 10), bar(at(3, 14, 31), 12, 8.5, 11, 10), bar(at(3, 15, 0), 11, 10, 10.5, 5),
         bar(at(3, 21, 30), 20, 1, 5, 99)]  # 16:30 New York: after hours, not part of the prior day
TODAY = [bar(at(4, 13, 0), 50, 49, 49.5, 7),  # 08:00 New York: pre-market, no VWAP point
         bar(at(4, 14, 30), 102, 99, 101, 100),  # typical 302/3
         bar(at(4, 14, 31), 104, 100, 103, 300),  # typical 307/3
         *(bar(at(4, 14, 30 + m), 103.5, 102.5, 103, 0) for m in range(2, 15)),
         bar(at(4, 14, 45), 110, 95, 100, 0)]  # 09:45: after the opening range


def test_vwap_prior_day_and_opening_range_by_hand() -> None:
    studies = intraday_studies(PRIOR + TODAY, 1)
    # VWAP: (100 * 302/3 + 300 * 307/3) / 400 = 101.91666...
    today_points = [p for p in studies.vwap if p.t >= at(4, 0, 0)]
    assert [p.value for p in today_points[:2]] == [100.6667, 101.9167]
    assert today_points[-1] == type(today_points[-1])(at(4, 14, 45), 101.9167)  # no volume since: unchanged
    assert len(today_points) == 16 and today_points[0].t == at(4, 14, 30)  # the pre-market candle has none
    # the VWAP resets per session: the prior day's first point is its own typical price
    assert studies.vwap[0].value == round((10 + 9 + 9.5) / 3, 4)
    assert studies.prior_day == Range(12, 8.5)  # regular hours only: the 16:30 candle's 20/1 is not it
    assert studies.opening_range == OpeningRange(104, 99, 15)  # 09:30-09:44; the 09:45 candle is outside


def test_opening_range_only_once_over_and_only_from_candles_that_divide_it() -> None:
    assert intraday_studies(PRIOR + TODAY[:10], 1).opening_range is None  # 09:37: the range is not over yet
    thirty = [bar(at(4, 14, 30), 102, 99, 101, 100), bar(at(4, 15, 0), 104, 98, 103, 100)]
    assert intraday_studies(PRIOR + thirty, 30).opening_range is None  # a 30-minute candle does not split at 15
    five = [bar(at(4, 14, 30 + m), 100 + m, 90 - m, 95, 1) for m in (0, 5, 10, 15)]
    assert intraday_studies(five, 5).opening_range == OpeningRange(110, 80, 15)


def test_pre_market_of_a_new_day_takes_the_last_session_as_prior_day() -> None:
    studies = intraday_studies(PRIOR + TODAY[:1], 1)
    assert studies.prior_day == Range(12, 8.5) and studies.opening_range is None
    assert intraday_studies([], 1).prior_day is None and intraday_studies(TODAY[:1], 1).vwap == []


def test_daily_prior_day_and_last_days() -> None:
    days = [bar(at(d, 5, 0), 10 + d, 5 + d, 8, 1) for d in (1, 2, 3)]
    assert daily_prior_day(days) == Range(12, 7) and daily_prior_day(days[:1]) is None
    assert last_days(PRIOR + TODAY, 1) == TODAY
    assert last_days(PRIOR + TODAY, 5) == PRIOR + TODAY and last_days([], 1) == []


def test_plan_levels_take_entry_stop_and_targets_and_skip_what_is_not_a_price() -> None:
    assert plan_levels({"entry": "100.5", "stop": 99, "targets": ["102", "bad", 104.25]}) == [
        Level("plan_entry", 100.5, "Plan entry 100.50"), Level("plan_stop", 99.0, "Plan stop 99.00"),
        Level("plan_target", 102.0, "Target 1 102.00"), Level("plan_target", 104.25, "Target 3 104.25")]
    assert plan_levels({"entry": "100", "target": "110", "stop": "-1"}) == [
        Level("plan_entry", 100.0, "Plan entry 100.00"), Level("plan_target", 110.0, "Target 1 110.00")]
    assert plan_levels({"entry": True, "stop": None}) == []


def test_position_stop_and_todays_fills() -> None:
    assert position_level(Position("AAPL", Decimal("15.000000"), Decimal("3000"))) == Level(
        "position_avg", 200.0, "Long 15 avg 200.00")
    assert position_level(Position("AAPL", Decimal(-10), Decimal(-1500))) == Level(
        "position_avg", 150.0, "Short 10 avg 150.00")
    assert position_level(Position("AAPL", Decimal(0), Decimal(0))) is None
    today = date(2026, 12, 4)
    morning, yesterday = datetime(2026, 12, 4, 15, 0, tzinfo=UTC), datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
    stop = BrokerOrder("2", "AAPL", OrderSide.SELL, Decimal(15), OrderType.STOP, "open", stop=Decimal("195"))
    entry = BrokerOrder("1", "AAPL", OrderSide.BUY, Decimal(15), OrderType.LIMIT, "filled", price=Decimal(201),
                        avg_fill_price=Decimal("200.5"), exec_quantity=Decimal(15), updated_at=morning)
    old = BrokerOrder("3", "AAPL", OrderSide.SELL, Decimal(5), OrderType.MARKET, "filled",
                      avg_fill_price=Decimal(190), exec_quantity=Decimal(5), updated_at=yesterday)
    other = BrokerOrder("4", "MSFT", OrderSide.SELL, Decimal(5), OrderType.STOP, "open", stop=Decimal(300))
    bracket = BrokerOrder("5", "AAPL", OrderSide.BUY, Decimal(1), OrderType.MARKET, "open", legs=(
        BrokerOrder("6", "AAPL", OrderSide.SELL, Decimal(1), OrderType.STOP, "open", stop=Decimal("190.25")),))
    assert order_levels([stop, entry, old, other, bracket], "AAPL", today) == [
        Level("position_stop", 195.0, "Stop 195.00"), Level("fill", 200.5, "Bought 15 @ 200.50"),
        Level("position_stop", 190.25, "Stop 190.25")]
