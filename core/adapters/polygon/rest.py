"""Polygon (Massive) REST adapter: httpx + Bearer auth, vendor errors mapped to core.errors at this seam.

The key travels only in the ``Authorization`` header (never in a URL or a log line). Bodies are decoded with
msgspec, floats as ``Decimal`` and ints as ints, so nanosecond timestamps stay exact. Transient failures (429,
5xx, timeouts) are retried here and only here, boundedly, honouring ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import msgspec
import structlog
from pydantic import SecretStr
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from core.domain.market import (
    Bar,
    MarketHoliday,
    MarketSession,
    MarketStatus,
    OptionContract,
    OptionGreeks,
    Quote,
    Trade,
    utc_from_epoch,
)
from core.domain.picks_universe import SnapshotRow
from core.errors import CoreError, ExternalPermanent, ExternalTransient, IntegrationDisabled, Invalid, NotFound

log = structlog.get_logger("polygon.rest")

TIMESPANS = frozenset({"second", "minute", "hour", "day", "week", "month", "quarter", "year"})
_OK = frozenset({"OK", "DELAYED"})
_HOW_TO_ENABLE = "set POLYGON_API_KEY to a valid Polygon (Massive) API key and restart"
_body_decoder = msgspec.json.Decoder(float_hook=Decimal)


def _dec(value: Any) -> Decimal | None:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        return int(value)
    return None


def _nonzero(value: Any) -> Decimal | None:
    number = _dec(value)
    return number if number else None


def _ts_ns(value: Any) -> datetime | None:
    number = _int(value)
    return utc_from_epoch(number, "ns") if number else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _reason(response: httpx.Response) -> tuple[str, dict[str, Any]]:
    """The vendor's own words: JSON `error` or `message` (the key varies), else the plain-text body."""
    try:
        body = _dict(msgspec.json.decode(response.content))
    except msgspec.DecodeError:
        body = {}
    text = body.get("error") or body.get("message") or response.text.strip()[:200] or response.reason_phrase
    return str(text), {k: body[k] for k in ("status", "request_id") if k in body}


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _error(response: httpx.Response) -> CoreError:
    reason, extra = _reason(response)
    status = response.status_code
    details = {"http_status": status, "path": response.request.url.path, **extra}
    if status == 401:
        return IntegrationDisabled("market_data", f"Polygon rejected the API key: {reason}", _HOW_TO_ENABLE)
    if status == 403:
        return ExternalPermanent(f"Polygon: {reason}", details=details)
    if status == 404:
        return NotFound(reason, details=details)
    if status == 429 or status >= 500:
        return ExternalTransient(f"Polygon {status}: {reason}", retry_after=_retry_after(response),
                                 details=details)
    return ExternalPermanent(f"Polygon {status}: {reason}", details=details)


class PolygonMarketData:
    """The `MarketData` port over Polygon REST. Use as an async context manager or call `aclose()`."""

    def __init__(self, base_url: str, api_key: SecretStr, *, transport: httpx.AsyncBaseTransport | None = None,
                 timeout: float = 10.0, attempts: int = 3, max_retry_after: float = 10.0,
                 backoff_max: float = 2.0) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), transport=transport, timeout=timeout,
            headers={"Authorization": f"Bearer {api_key.get_secret_value()}", "Accept-Encoding": "gzip",
                     "User-Agent": "trading-assistant"})
        self._attempts = attempts
        self._max_retry_after = max_retry_after
        self._backoff = wait_exponential_jitter(multiplier=0.1, max=backoff_max, jitter=0.1)

    async def __aenter__(self) -> PolygonMarketData:
        return self

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- transport ---------------------------------------------------------------------------------------------

    def _retryable(self, exc: BaseException) -> bool:
        return isinstance(exc, ExternalTransient) and (exc.retry_after or 0) <= self._max_retry_after

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ExternalTransient) and exc.retry_after is not None:
            return exc.retry_after
        return float(self._backoff(state))

    @staticmethod
    def _log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning("polygon_retry", attempt=state.attempt_number, error=str(exc))

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        retrying = AsyncRetrying(stop=stop_after_attempt(self._attempts), wait=self._wait, reraise=True,
                                 retry=retry_if_exception(self._retryable), before_sleep=self._log_retry)
        async for attempt in retrying:
            with attempt:
                return await self._get_once(path, params)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _get_once(self, path: str, params: dict[str, Any] | None) -> Any:
        try:
            response = await self._client.get(path, params=params)
        except httpx.TimeoutException as exc:
            raise ExternalTransient(f"Polygon timed out on {path}") from exc
        except httpx.TransportError as exc:
            raise ExternalTransient(f"Polygon unreachable: {type(exc).__name__}") from exc
        log.debug("polygon_get", path=response.request.url.path, status=response.status_code)
        if response.status_code != 200:
            raise _error(response)
        try:
            body = _body_decoder.decode(response.content)
        except msgspec.DecodeError as exc:
            raise ExternalPermanent(f"Polygon sent a body that is not JSON on {path}") from exc
        status = body.get("status") if isinstance(body, dict) else None
        if status is None or status in _OK:
            return body
        reason = str(body.get("error") or body.get("message") or status)
        if status == "NOT_FOUND":
            raise NotFound(reason, details={"path": path, "status": status})
        raise ExternalPermanent(f"Polygon: {reason}", details={"path": path, "status": status})

    async def _pages(self, path: str, params: dict[str, Any], max_items: int) -> AsyncIterator[list[Any]]:
        """Results page by page, following `next_url` on our own base URL (the key rides in the header)."""
        seen = 0
        next_path: str | None = path
        query: dict[str, Any] | None = params
        while next_path is not None and seen < max_items:
            body = await self._get(next_path, query)
            results = body.get("results") or []
            seen += len(results)
            yield results
            next_path, query = _follow(body.get("next_url"))

    # -- the port ----------------------------------------------------------------------------------------------

    async def bars(self, symbol: str, *, multiplier: int, timespan: str, start: date | int, end: date | int,
                   limit: int = 5000, sort: Literal["asc", "desc"] = "asc", adjusted: bool = True) -> list[Bar]:
        """Aggregates of any `multiplier` x `timespan` over [start, end] (dates or epoch ms), all pages."""
        if timespan not in TIMESPANS or multiplier < 1 or limit < 1:
            raise Invalid(f"bars need timespan in {sorted(TIMESPANS)}, multiplier >= 1 and limit >= 1",
                          details={"timespan": timespan, "multiplier": multiplier, "limit": limit})
        path = f"/v2/aggs/ticker/{_path(symbol)}/range/{multiplier}/{timespan}/{_edge(start)}/{_edge(end)}"
        params = {"adjusted": str(adjusted).lower(), "sort": sort, "limit": min(limit, 50000)}
        bars: list[Bar] = []
        async for page in self._pages(path, params, limit):
            bars.extend(b for b in (_bar(item, symbol, timespan) for item in page) if b is not None)
        return bars[:limit]

    async def previous_close(self, symbol: str) -> Bar | None:
        body = await self._get(f"/v2/aggs/ticker/{_path(symbol)}/prev", {"adjusted": "true"})
        results = body.get("results") or []
        return _bar(results[0], symbol, "day") if results else None

    async def quote(self, symbol: str) -> Quote:
        """Single-ticker snapshot: last trade, NBBO, previous close."""
        body = await self._get(f"/v2/snapshot/locale/us/markets/stocks/tickers/{_path(symbol)}")
        ticker = _dict(body.get("ticker"))
        if not ticker:
            raise NotFound(f"Polygon has no snapshot for {symbol}", details={"symbol": symbol})
        return _snapshot_quote(ticker)

    async def snapshots(self, symbols: list[str]) -> list[Quote]:
        """Multi-ticker snapshot; symbols Polygon does not know are simply absent."""
        if not symbols:
            return []
        body = await self._get("/v2/snapshot/locale/us/markets/stocks/tickers",
                               {"tickers": ",".join(symbols), "include_otc": "false"})
        return [_snapshot_quote(_dict(t)) for t in body.get("tickers") or []]

    async def movers(self, direction: Literal["gainers", "losers"]) -> list[Quote]:
        if direction not in ("gainers", "losers"):
            raise Invalid("direction must be gainers or losers", details={"direction": direction})
        body = await self._get(f"/v2/snapshot/locale/us/markets/stocks/{direction}")
        return [_snapshot_quote(_dict(t)) for t in body.get("tickers") or []]

    async def mover_rows(self, source: Literal["gainers", "losers", "all"]) -> list[SnapshotRow]:
        """Snapshot rows with volumes for the picks universe: gainers, losers, or the full market
        (`/v2/snapshot/locale/us/markets/stocks/tickers` without `tickers`). A plan without snapshots answers
        403, raised as ExternalPermanent."""
        path = "/v2/snapshot/locale/us/markets/stocks/" + ("tickers" if source == "all" else source)
        body = await self._get(path, {"include_otc": "false"} if source == "all" else None)
        return [_snapshot_row(_dict(t)) for t in body.get("tickers") or []]

    async def last_trade(self, symbol: str) -> Trade:
        body = await self._get(f"/v2/last/trade/{_path(symbol)}")
        result = _dict(body.get("results"))
        price, ts = _dec(result.get("p")), _ts_ns(result.get("t"))
        if price is None or ts is None:
            raise NotFound(f"Polygon has no last trade for {symbol}", details={"symbol": symbol})
        return Trade(symbol=symbol, price=price, size=_int(result.get("s")) or 0, ts=ts)

    async def last_quote(self, symbol: str) -> Quote:
        """Last NBBO: lower-case `p/s` is the bid, upper-case `P/S` the ask; `t` is nanoseconds."""
        body = await self._get(f"/v2/last/nbbo/{_path(symbol)}")
        r = _dict(body.get("results"))
        return Quote(symbol=symbol, last=None, bid=_dec(r.get("p")), ask=_dec(r.get("P")),
                     bid_size=_int(r.get("s")), ask_size=_int(r.get("S")), prev_close=None,
                     ts=_ts_ns(r.get("t")), source="polygon:nbbo")

    async def news(self, symbol: str | None, *, limit: int = 10) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": max(1, min(limit, 1000)), "order": "desc", "sort": "published_utc"}
        if symbol:
            params["ticker"] = symbol
        body = await self._get("/v2/reference/news", params)
        return [_news_item(_dict(item)) for item in (body.get("results") or [])[:limit]]

    async def market_status(self) -> MarketStatus:
        body = _dict(await self._get("/v1/marketstatus/now"))
        try:
            session = MarketSession(str(body.get("market")))
        except ValueError:
            session = MarketSession.CLOSED
        server = body.get("serverTime")
        return MarketStatus(session=session, server_time=_iso(server), source="polygon",
                            early_hours=bool(body.get("earlyHours")), after_hours=bool(body.get("afterHours")),
                            exchanges={k: str(v) for k, v in _dict(body.get("exchanges")).items()})

    async def upcoming_holidays(self) -> list[MarketHoliday]:
        body = await self._get("/v1/marketstatus/upcoming")
        items = body if isinstance(body, list) else []
        return [MarketHoliday(exchange=str(h.get("exchange", "")), name=str(h.get("name", "")),
                              date=date.fromisoformat(str(h.get("date"))), status=str(h.get("status", "")),
                              open=_iso(h.get("open")), close=_iso(h.get("close")))
                for h in map(_dict, items) if h.get("date")]

    async def options_chain(self, underlying: str, *, expiration: date | None = None,
                            contract_type: Literal["call", "put"] | None = None,
                            max_contracts: int = 1000) -> list[OptionContract]:
        """Options chain snapshot, all pages up to `max_contracts`; greeks/IV are None when Polygon has none."""
        params: dict[str, Any] = {"limit": 250}
        if expiration is not None:
            params["expiration_date"] = expiration.isoformat()
        if contract_type is not None:
            params["contract_type"] = contract_type
        contracts: list[OptionContract] = []
        async for page in self._pages(f"/v3/snapshot/options/{_path(underlying)}", params, max_contracts):
            contracts.extend(c for c in (_contract(_dict(item), underlying) for item in page) if c is not None)
        return contracts[:max_contracts]


def _path(symbol: str) -> str:
    return quote(symbol, safe=":.")


def _edge(value: date | int) -> str:
    return value.isoformat() if isinstance(value, date) else str(int(value))


def _follow(next_url: Any) -> tuple[str | None, dict[str, Any] | None]:
    """Path and query of `next_url`, re-targeted at our base URL; a stray `apiKey` is dropped."""
    if not isinstance(next_url, str) or not next_url:
        return None, None
    parts = urlsplit(next_url)
    return parts.path, {k: v for k, v in parse_qsl(parts.query) if k != "apiKey"}


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _bar(item: Any, symbol: str, timespan: str) -> Bar | None:
    row = _dict(item)
    o, h, lo, c, t = (_dec(row.get(k)) for k in ("o", "h", "l", "c", "t"))
    if o is None or h is None or lo is None or c is None or t is None:
        return None
    return Bar(symbol=str(row.get("T", symbol)), open=o, high=h, low=lo, close=c,
               volume=int(_dec(row.get("v")) or 0), start=utc_from_epoch(int(t), "ms"), timespan=timespan,
               vwap=_dec(row.get("vw")))


def _snapshot_quote(ticker: dict[str, Any]) -> Quote:
    """A v2 snapshot as a Quote. Early in the morning `day`/`min` may be zero; never invent a price."""
    trade, nbbo = _dict(ticker.get("lastTrade")), _dict(ticker.get("lastQuote"))
    last = (_nonzero(trade.get("p")) or _nonzero(_dict(ticker.get("min")).get("c"))
            or _nonzero(_dict(ticker.get("day")).get("c")))
    return Quote(symbol=str(ticker.get("ticker", "")), last=last, bid=_nonzero(nbbo.get("p")),
                 ask=_nonzero(nbbo.get("P")), bid_size=_int(nbbo.get("s")), ask_size=_int(nbbo.get("S")),
                 prev_close=_nonzero(_dict(ticker.get("prevDay")).get("c")),
                 ts=_ts_ns(ticker.get("updated")) or _ts_ns(trade.get("t")), source="polygon:snapshot")


def _snapshot_row(ticker: dict[str, Any]) -> SnapshotRow:
    quote_ = _snapshot_quote(ticker)
    day, prev = _dict(ticker.get("day")), _dict(ticker.get("prevDay"))
    return SnapshotRow(symbol=quote_.symbol, last=quote_.last, change_pct=_dec(ticker.get("todaysChangePerc")),
                       day_volume=_dec(day.get("v")), prev_volume=_dec(prev.get("v")), prev_vwap=_dec(prev.get("vw")))


def _news_item(item: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "title", "author", "published_utc", "article_url", "tickers", "description", "keywords",
            "insights", "image_url")
    return {**{k: item[k] for k in keep if k in item}, "publisher": _dict(item.get("publisher")).get("name")}


def _contract(item: dict[str, Any], underlying: str) -> OptionContract | None:
    details, day = _dict(item.get("details")), _dict(item.get("day"))
    nbbo, trade, greeks = _dict(item.get("last_quote")), _dict(item.get("last_trade")), item.get("greeks")
    strike, expiry = _dec(details.get("strike_price")), details.get("expiration_date")
    if not details.get("ticker") or strike is None or not isinstance(expiry, str):
        return None
    ts = _ts_ns(nbbo.get("last_updated")) or _ts_ns(day.get("last_updated"))
    quote_ = Quote(symbol=str(details["ticker"]), last=_dec(trade.get("price")) or _dec(day.get("close")),
                   bid=_dec(nbbo.get("bid")), ask=_dec(nbbo.get("ask")), bid_size=_int(nbbo.get("bid_size")),
                   ask_size=_int(nbbo.get("ask_size")), prev_close=_dec(day.get("previous_close")), ts=ts,
                   source="polygon:options")
    iv = _dec(item.get("implied_volatility"))
    g: Callable[[str], Decimal | None] = lambda key: _dec(_dict(greeks).get(key))  # noqa: E731
    has_greeks = isinstance(greeks, dict) or iv is not None
    return OptionContract(
        symbol=quote_.symbol, underlying=str(_dict(item.get("underlying_asset")).get("ticker", underlying)),
        expiration=date.fromisoformat(expiry), strike=strike, option_type=str(details.get("contract_type", "")),
        quote=quote_, open_interest=_int(item.get("open_interest")), volume=_int(day.get("volume")),
        greeks=OptionGreeks(delta=g("delta"), gamma=g("gamma"), theta=g("theta"), vega=g("vega"), mid_iv=iv,
                            updated_at=ts) if has_greeks else None)
