"""Chains from both recorded sources (Tradier's docs example, Polygon's spec example) normalize to one shape."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import msgspec
import pytest
from pydantic import SecretStr

from core.adapters.polygon.rest import PolygonMarketData
from core.adapters.tradier import TradierBroker
from core.domain.options import build_chain
from core.domain.options_types import DEFAULT_RATE, OptionRow
from tests.doubles.polygon import API_KEY, PolygonDouble
from tests.doubles.tradier import ACCOUNT, TOKEN, TradierDouble, fixture_text

QUOTED = datetime(2019, 5, 6, 20, tzinfo=UTC)  # the docs example's bid/ask dates
FIELDS = {"option_symbol", "type", "strike", "expiration", "dte", "bid", "ask", "mid", "last", "volume",
          "open_interest", "iv", "delta", "gamma", "theta", "vega", "spread_pct", "greeks_source", "greeks_note"}


@pytest.fixture
async def broker(tradier: TradierDouble) -> AsyncIterator[TradierBroker]:
    async with TradierBroker(base_url=tradier.base_url, access_token=TOKEN, account_id=ACCOUNT) as client:
        yield client


@pytest.fixture
async def pg() -> AsyncIterator[PolygonDouble]:
    async with PolygonDouble() as double:
        yield double


async def test_tradier_docs_chain_normalizes_and_zero_mid_iv_means_computed(tradier: TradierDouble,
                                                                           broker: TradierBroker) -> None:
    tradier.serve("/markets/options/chains", fixture_text("docs_options_chain_vxx.json"))
    contracts = await broker.option_chain("VXX", date(2019, 5, 17))
    chain = build_chain("VXX", contracts, underlying_price=26.9, source="tradier", as_of=QUOTED,
                        rate=DEFAULT_RATE, expiration=date(2019, 5, 17))
    assert [(r.option_symbol, r.type, r.strike) for r in chain.contracts] == [
        ("VXX190517C00016000", "call", 16.0), ("VXX190517P00016000", "put", 16.0),
        ("VXX190517P00017000", "put", 17.0)]
    call, put16, _ = chain.contracts
    assert call.dte == 11 and call.mid == 10.925 and call.spread_pct == pytest.approx(1.37, abs=0.01)
    # ORATS sent mid_iv 0.0: no usable IV, so nothing of the vendor's set is trusted and the greeks are computed
    assert put16.greeks_source == "computed" and put16.iv == pytest.approx(1.13, abs=0.01)
    assert -0.01 < put16.delta < 0  # type: ignore[operator]  # a far out-of-the-money put, not the docs' 1.0
    assert all(set(msgspec.structs.asdict(row)) == FIELDS for row in chain.contracts)


async def test_polygon_snapshot_pages_normalize_to_the_same_shape(pg: PolygonDouble) -> None:
    async with PolygonMarketData(pg.rest_url, SecretStr(API_KEY), timeout=2) as md:
        contracts = await md.options_chain("AAPL")
    quoted = datetime(2020, 11, 12, 15, tzinfo=UTC)
    chain = build_chain("AAPL", contracts, underlying_price=147.0, source="polygon", as_of=quoted,
                        rate=DEFAULT_RATE)
    assert len(chain.contracts) == 2 and len(pg.hits("/v3/snapshot/options")) == 2
    call, put = chain.contracts
    assert call.option_symbol == "AAPL211022C000150000"  # the spec's ticker, its "O:" prefix dropped
    assert call.greeks_source == "vendor" and call.delta == 1.0 and call.iv == 5.0
    assert call.bid == 120.28 and call.ask == 120.3 and call.open_interest == 1543 and call.volume == 868
    # the second page has no greeks and no IV: solved from the mid and marked
    assert put.type == "put" and put.greeks_source in ("computed", "none")
    if put.greeks_source == "none":
        assert put.greeks_note and put.greeks_note.startswith("greeks not computed")
    assert set(msgspec.structs.asdict(call)) == set(msgspec.structs.asdict(put)) == FIELDS
    assert isinstance(call, OptionRow)


async def test_without_an_underlying_price_missing_greeks_say_why(pg: PolygonDouble) -> None:
    async with PolygonMarketData(pg.rest_url, SecretStr(API_KEY), timeout=2) as md:
        contracts = await md.options_chain("AAPL")
    chain = build_chain("AAPL", contracts, underlying_price=None, source="polygon", as_of=QUOTED,
                        rate=DEFAULT_RATE)
    put = chain.contracts[1]
    assert put.greeks_source == "none" and put.delta is None
    assert put.greeks_note == "no underlying price to compute greeks from"
