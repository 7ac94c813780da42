"""Golden JSON: the typed market values (headlines, watched prices, the market-data status) send the bytes the
dicts they replaced sent: `GET /market/news` and `GET /stream/prices` (msgspec now, FastAPI's encoder before) and
the market-data `status` event. GOLDEN holds the earlier bytes, pinned; there is no declared difference.

Headlines come from Polygon's recorded news answer through the adapter; an article key Polygon leaves out stays
out, and an explicit null stays null.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from api.schemas import NewsResponse, PricesResponse
from core.adapters.polygon.rest import _body_decoder, _headline
from core.bus import InProcessBus
from core.domain.events import StatusEvent, encode_event
from core.domain.market_views import MarketDataStatus, WatchedPrice
from core.engines.stream import StreamEngine
from core.services.market import MarketService

NEWS = Path(__file__).resolve().parents[1] / "fixtures" / "polygon" / "docs_news_with_insights_next_url.json"
SPARSE = {"id": "n2", "title": "Only a title", "author": None, "publisher": {"name": "Wire"}}
ROWS = [WatchedPrice("AAPL", "192.44", "192.43", "192.45", "-1.06", "-0.55", "2024-06-03T14:30:11.123Z", 0.25, False),
        WatchedPrice("SPY", None, None, None, None, None, None, None, True)]


def statuses() -> dict[str, MarketDataStatus]:
    bus = InProcessBus()
    engine = StreamEngine(bus)
    return {"disabled": MarketService(bus, engine, data=None).status(),
            "rest_only": MarketService(bus, engine, data=object()).status()}  # type: ignore[arg-type]


def test_headlines_send_the_earlier_bytes() -> None:
    article = _body_decoder.decode(NEWS.read_bytes())["results"][0]
    body = NewsResponse("UBS", [_headline(article), _headline(SPARSE)])
    assert msgspec.json.encode(body) == GOLDEN["news"]


@pytest.mark.parametrize("name", ["disabled", "rest_only"])
def test_the_market_data_status_sends_the_earlier_bytes(name: str) -> None:
    status = statuses()[name]
    event = StatusEvent(integrations={"market_data": msgspec.to_builtins(status)})
    assert encode_event(event) == GOLDEN[f"status/{name}/event"]
    assert msgspec.json.encode(PricesResponse(ROWS, status)) == GOLDEN[f"prices/{name}"]


def test_a_headline_with_a_wrongly_typed_field_is_refused_not_passed_on() -> None:
    with pytest.raises(msgspec.ValidationError, match="tickers"):
        _headline({"title": "x", "tickers": "AAPL"})


GOLDEN: dict[str, bytes] = {
    'news': (
        b'{"symbol":"UBS","items":[{"id":"8ec638777ca03b553ae516761c2a22ba2fdd2f37befae3ab6fdab74e9e'
        b'5193eb","title":"Markets are underestimating Fed cuts: UBS By Investing.com - Investing.co'
        b'm UK","author":"Sam Boughedda","published_utc":"2024-06-24T18:33:53Z","article_url":"https'
        b'://uk.investing.com/news/stock-market-news/markets-are-underestimating-fed-cuts-ubs-355996'
        b'8","tickers":["UBS"],"description":"UBS analysts warn that markets are underestimating the'
        b' extent of future interest rate cuts by the Federal Reserve, as the weakening economy is l'
        b'ikely to justify more cuts than currently anticipated.","keywords":["Federal Reserve","int'
        b'erest rates","economic data"],"insights":[{"sentiment":"positive","sentiment_reasoning":"U'
        b'BS analysts are providing a bullish outlook on the extent of future Federal Reserve rate c'
        b'uts, suggesting that markets are underestimating the number of cuts that will occur.","tic'
        b'ker":"UBS"}],"image_url":"https://i-invdn-com.investing.com/news/LYNXNPEC4I0AL_L.jpg","pub'
        b'lisher":"Investing.com"},{"id":"n2","title":"Only a title","author":null,"publisher":"Wire'
        b'"}]}'
    ),
    'prices/disabled': (
        b'{"items":[{"symbol":"AAPL","last":"192.44","bid":"192.43","ask":"192.45","change":"-1.06",'
        b'"change_pct":"-0.55","as_of":"2024-06-03T14:30:11.123Z","age_s":0.25,"stale":false},{"symb'
        b'ol":"SPY","last":null,"bid":null,"ask":null,"change":null,"change_pct":null,"as_of":null,"'
        b'age_s":null,"stale":true}],"market_data":{"enabled":false,"state":"disabled","reason":"POL'
        b'YGON_API_KEY is not set","how_to_enable":"set POLYGON_API_KEY to your Polygon (Massive) AP'
        b'I key and restart"}}'
    ),
    'prices/rest_only': (
        b'{"items":[{"symbol":"AAPL","last":"192.44","bid":"192.43","ask":"192.45","change":"-1.06",'
        b'"change_pct":"-0.55","as_of":"2024-06-03T14:30:11.123Z","age_s":0.25,"stale":false},{"symb'
        b'ol":"SPY","last":null,"bid":null,"ask":null,"change":null,"change_pct":null,"as_of":null,"'
        b'age_s":null,"stale":true}],"market_data":{"enabled":true,"state":"rest_only","reason":"","'
        b'market":null,"feed":{"state":"rest_only","reason":""},"symbols":0,"published":0,"duplicate'
        b'_bars":0,"feed_lag_ms":null,"engine_lag_ms":null,"stale":[]}}'
    ),
    'status/disabled/event': (
        b'{"type":"status","integrations":{"market_data":{"enabled":false,"state":"disabled","reason'
        b'":"POLYGON_API_KEY is not set","how_to_enable":"set POLYGON_API_KEY to your Polygon (Massi'
        b've) API key and restart"}}}'
    ),
    'status/rest_only/event': (
        b'{"type":"status","integrations":{"market_data":{"enabled":true,"state":"rest_only","reason'
        b'":"","market":null,"feed":{"state":"rest_only","reason":""},"symbols":0,"published":0,"dup'
        b'licate_bars":0,"feed_lag_ms":null,"engine_lag_ms":null,"stale":[]}}}'
    ),
}
