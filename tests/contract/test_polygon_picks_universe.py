"""The picks universe from Polygon snapshots (the double serves the recorded gainers/losers snapshot): rows with
volumes, the trader's filters, and a plan without snapshots (403 NOT_AUTHORIZED) raised, not defaulted."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.adapters.polygon.rest import PolygonMarketData
from core.domain.picks_universe import SnapshotRow, UniverseFilter, passes, select
from core.errors import ExternalPermanent
from tests.doubles.polygon import PolygonDouble, fixture

D = Decimal
LOOSE = UniverseFilter(D(1), D(1_000_000), D("0.05"), 10, True)


async def test_gainers_rows_carry_price_change_and_volumes(md: PolygonMarketData) -> None:
    [row] = await md.mover_rows("gainers")
    assert row == SnapshotRow("PDS", D("14.2284"), D("1849.096"), D(133963), D(1568097), D("0.7721"))
    assert passes(row, LOOSE)  # $1.21M prior-day dollar volume, 8.5% of yesterday's volume so far
    assert not passes(row, UniverseFilter(D(1), D(20_000_000), D(0), 10, True))  # the default $20M floor
    assert not passes(row, UniverseFilter(D(15), D(0), D(0), 10, True))  # under $15
    assert not passes(row, UniverseFilter(D(1), D(0), D("0.5"), 10, True))  # relative volume 0.085 < 0.5


async def test_a_plan_without_snapshots_is_an_error_not_an_empty_list(md: PolygonMarketData,
                                                                      pg: PolygonDouble) -> None:
    pg.fail("/v2/snapshot/locale/us/markets/stocks/tickers", 403, fixture("error_403_not_authorized_v3_trades.json"))
    with pytest.raises(ExternalPermanent, match="not entitled"):
        await md.mover_rows("all")


def test_select_keeps_the_watchlist_first_then_the_biggest_movers_up_to_max() -> None:
    rows = [SnapshotRow(s, D(20), D(pct), D(2_000_000), D(1_000_000), D(20)) for s, pct in
            (("AAA", "3"), ("BBB", "-9"), ("CCC", "5"), ("SPY", "12"))]
    universe = select(["SPY", "QQQ"], rows, UniverseFilter(D(5), D(1_000_000), D(1), 4, True))
    assert universe.symbols == ("SPY", "QQQ", "BBB", "CCC") and universe.source == "watchlist+movers"
    off = select(["SPY"], rows, UniverseFilter(D(5), D(0), D(0), 4, False))
    assert off.symbols == ("SPY",) and off.reason and "switched off" in off.reason
    none = select(["SPY"], None, LOOSE, "no snapshots")
    assert (none.symbols, none.source, none.reason) == (("SPY",), "watchlist", "no snapshots")
