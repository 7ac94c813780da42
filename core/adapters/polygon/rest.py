"""Polygon (Massive) REST adapter: httpx + Bearer auth, vendor errors mapped to core.errors at this seam.

The key travels only in the ``Authorization`` header (never in a URL or a log line). Bodies are decoded with
msgspec, floats as ``Decimal`` and ints as ints, so nanosecond timestamps stay exact. Transient failures (429,
5xx, timeouts) are retried here and only here, boundedly, honouring ``Retry-After``. An answer in a shape Polygon
does not document is ``MalformedAnswer``, never an empty list, a closed market or a missing price.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlsplit
from zoneinfo import ZoneInfo

import httpx
import msgspec
import structlog
from pydantic import SecretStr
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from core.adapters.error_map import SERVER_ERROR, ErrorTable, Fault, core_error
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
from core.domain.market_views import Headline
from core.domain.news import EarningsDate, EarningsTime, NewsItem, Sentiment, SymbolSentiment
from core.domain.picks_universe import SnapshotRow
from core.domain.setups.session import MinuteBar
from core.errors import (
    CoreError,
    ExternalPermanent,
    ExternalTransient,
    IntegrationDisabled,
    Invalid,
    MalformedAnswer,
    NotEntitled,
    NotFound,
)

log = structlog.get_logger("polygon.rest")

TIMESPANS = frozenset({"second", "minute", "hour", "day", "week", "month", "quarter", "year"})
_OK = frozenset({"OK", "DELAYED"})
_HOW_TO_ENABLE = "set POLYGON_API_KEY to a valid Polygon (Massive) API key and restart"
_body_decoder = msgspec.json.Decoder(float_hook=Decimal)


class _MinuteRow(msgspec.Struct):
    """An aggregate as the picks history reads it; a missing or non-numeric field refuses the page."""

    t: int
    o: float
    h: float
    l: float  # noqa: E741 - Polygon's name for the low
    c: float
    v: float


class _MinutePage(msgspec.Struct):
    """A v2 aggregates page. Polygon leaves `results` out only when `resultsCount` is 0."""

    status: Literal["OK", "DELAYED"]
    results_count: int = msgspec.field(name="resultsCount", default=0)
    results: list[_MinuteRow] | None = None
    next_url: str | None = None


_MINUTE_PAGE = msgspec.json.Decoder(_MinutePage)


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


def _malformed(request: str, answer: Any, expected: str) -> MalformedAnswer:
    return MalformedAnswer("Polygon", request, answer, expected)


def _enveloped(body: Any, path: str) -> dict[str, Any]:
    """A v2/v3 answer: an object carrying Polygon's `status` (OK or DELAYED; errors were raised by `_get`)."""
    if not isinstance(body, dict) or body.get("status") not in _OK:
        raise _malformed(f"GET {path}", body, 'an object with "status": "OK"')
    return body


def _objects(body: dict[str, Any], path: str, key: str) -> list[dict[str, Any]]:
    """`body[key]` as a list of objects. Polygon leaves `results` out only when it says it found nothing
    (`resultsCount` or `count` 0); any other absence is a malformed answer, not an empty one."""
    value = body.get(key)
    if value is None and key == "results" and body.get("resultsCount", body.get("count")) == 0:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _malformed(f"GET {path}", body, f'"{key}" as a list of objects')
    return value


def _object(body: dict[str, Any], path: str, key: str, *fields: str) -> dict[str, Any]:
    """`body[key]` as an object holding (non-null) `fields`."""
    value = body.get(key)
    if not isinstance(value, dict) or any(value.get(name) is None for name in fields):
        raise _malformed(f"GET {path}", body, f'"{key}" as an object with {", ".join(fields) or "fields"}')
    return value


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


ERRORS: ErrorTable = (
    (401, lambda f: IntegrationDisabled("market_data", f"Polygon rejected the API key: {f.reason}", _HOW_TO_ENABLE)),
    (403, lambda f: NotEntitled(f"Polygon: {f.reason}", details=f.details)),
    (404, lambda f: NotFound(f.reason, details=f.details)),
    ((429, SERVER_ERROR), lambda f: ExternalTransient(f"Polygon {f.status}: {f.reason}", retry_after=f.retry_after,
                                                      details=f.details)),
    (int, lambda f: ExternalPermanent(f"Polygon {f.status}: {f.reason}", details=f.details)),
    ("NOT_FOUND", lambda f: NotFound(f.reason, details=f.details)),
    (str, lambda f: ExternalPermanent(f"Polygon: {f.reason}", details=f.details)),
)
"""Polygon's HTTP error statuses, then the `status` word of a 200 answer that is neither OK nor DELAYED."""


def _error(response: httpx.Response) -> CoreError:
    reason, extra = _reason(response)
    status = response.status_code
    return core_error(ERRORS, Fault("Polygon", status, reason=reason, retry_after=_retry_after(response),
                                    details={"http_status": status, "path": response.request.url.path, **extra}))


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

    async def _get(self, path: str, params: dict[str, Any] | None = None,
                   typed: msgspec.json.Decoder[Any] | None = None) -> Any:
        """The decoded answer: through `typed` when given (an answer it refuses is classified by the generic path:
        a Polygon error status raises that error, anything else is malformed), else as plain JSON."""
        retrying = AsyncRetrying(stop=stop_after_attempt(self._attempts), wait=self._wait, reraise=True,
                                 retry=retry_if_exception(self._retryable), before_sleep=self._log_retry)
        async for attempt in retrying:
            with attempt:
                return await self._get_once(path, params, typed)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _get_once(self, path: str, params: dict[str, Any] | None,
                        typed: msgspec.json.Decoder[Any] | None) -> Any:
        try:
            response = await self._client.get(path, params=params)
        except httpx.TimeoutException as exc:
            raise ExternalTransient(f"Polygon timed out on {path}") from exc
        except httpx.TransportError as exc:
            raise ExternalTransient(f"Polygon unreachable: {type(exc).__name__}") from exc
        log.debug("polygon_get", path=response.request.url.path, status=response.status_code)
        if response.status_code != 200:
            raise _error(response)
        if typed is not None:
            try:
                return typed.decode(response.content)
            except msgspec.DecodeError as refused:  # not JSON, or not the type: the generic path says which
                expected = f"the documented shape ({refused})"
        try:
            body = _body_decoder.decode(response.content)
        except msgspec.DecodeError as exc:
            raise ExternalPermanent(f"Polygon sent a body that is not JSON on {path}") from exc
        status = body.get("status") if isinstance(body, dict) else None
        if status is not None and status not in _OK:
            reason = str(body.get("error") or body.get("message") or status)
            raise core_error(ERRORS, Fault("Polygon", str(status), reason=reason,
                                           details={"path": path, "status": status}))
        if typed is not None:
            raise _malformed(f"GET {path}", body, expected)
        return body

    async def _pages(self, path: str, params: dict[str, Any], max_items: int) -> AsyncIterator[list[Any]]:
        """Results page by page, following `next_url` on our own base URL (the key rides in the header)."""
        seen = 0
        next_path: str | None = path
        query: dict[str, Any] | None = params
        while next_path is not None and seen < max_items:
            body = _enveloped(await self._get(next_path, query), next_path)
            results = _objects(body, next_path, "results")
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
            bars.extend(_bar(item, symbol, timespan) for item in page)
        return bars[:limit]

    async def minute_bars(self, symbol: str, start: date, end: date) -> list[MinuteBar]:
        """[start, end] in one-minute bars as plain floats, oldest first, all pages: the picks history, thousands of
        bars per symbol, decoded straight into typed rows on the event loop in a few milliseconds (the generic
        path's per-number Decimals and per-bar objects take ten times as long)."""
        next_path: str | None = f"/v2/aggs/ticker/{_path(symbol)}/range/1/minute/{_edge(start)}/{_edge(end)}"
        query: dict[str, Any] | None = {"adjusted": "true", "sort": "asc", "limit": 50_000}
        bars: list[MinuteBar] = []
        while next_path is not None:
            page: _MinutePage = await self._get(next_path, query, typed=_MINUTE_PAGE)
            if page.results is None and page.results_count:
                raise _malformed(f"GET {next_path}", msgspec.to_builtins(page), '"results" as a list of bars')
            bars += [MinuteBar(row.t, row.o, row.h, row.l, row.c, row.v) for row in page.results or ()]
            next_path, query = _follow(page.next_url)
        return bars

    async def previous_close(self, symbol: str) -> Bar | None:
        path = f"/v2/aggs/ticker/{_path(symbol)}/prev"
        results = _objects(_enveloped(await self._get(path, {"adjusted": "true"}), path), path, "results")
        return _bar(results[0], symbol, "day") if results else None

    async def quote(self, symbol: str) -> Quote:
        """Single-ticker snapshot: last trade, NBBO, previous close."""
        path = f"/v2/snapshot/locale/us/markets/stocks/tickers/{_path(symbol)}"
        return _snapshot_quote(_object(_enveloped(await self._get(path), path), path, "ticker", "ticker"), path)

    async def snapshots(self, symbols: list[str]) -> list[Quote]:
        """Multi-ticker snapshot; symbols Polygon does not know are simply absent."""
        if not symbols:
            return []
        path = "/v2/snapshot/locale/us/markets/stocks/tickers"
        body = _enveloped(await self._get(path, {"tickers": ",".join(symbols), "include_otc": "false"}), path)
        return [_snapshot_quote(ticker, path) for ticker in _objects(body, path, "tickers")]

    async def movers(self, direction: Literal["gainers", "losers"]) -> list[Quote]:
        if direction not in ("gainers", "losers"):
            raise Invalid("direction must be gainers or losers", details={"direction": direction})
        path = f"/v2/snapshot/locale/us/markets/stocks/{direction}"
        body = _enveloped(await self._get(path), path)
        return [_snapshot_quote(ticker, path) for ticker in _objects(body, path, "tickers")]

    async def mover_rows(self, source: Literal["gainers", "losers", "all"]) -> list[SnapshotRow]:
        """Snapshot rows with volumes for the picks universe: gainers, losers, or the full market
        (`/v2/snapshot/locale/us/markets/stocks/tickers` without `tickers`). A plan without snapshots answers
        403, raised as ExternalPermanent."""
        path = "/v2/snapshot/locale/us/markets/stocks/" + ("tickers" if source == "all" else source)
        body = _enveloped(await self._get(path, {"include_otc": "false"} if source == "all" else None), path)
        return [_snapshot_row(ticker, path) for ticker in _objects(body, path, "tickers")]

    async def last_trade(self, symbol: str) -> Trade:
        path = f"/v2/last/trade/{_path(symbol)}"
        body = _enveloped(await self._get(path), path)
        result = _object(body, path, "results", "p", "t")
        price, ts = _dec(result.get("p")), _ts_ns(result.get("t"))
        if price is None or ts is None:
            raise _malformed(f"GET {path}", body, "a numeric price p and nanosecond time t")
        return Trade(symbol=symbol, price=price, size=_int(result.get("s")) or 0, ts=ts)

    async def last_quote(self, symbol: str) -> Quote:
        """Last NBBO: lower-case `p/s` is the bid, upper-case `P/S` the ask; `t` is nanoseconds."""
        path = f"/v2/last/nbbo/{_path(symbol)}"
        body = _enveloped(await self._get(path), path)
        r = _object(body, path, "results", "p", "P", "t")
        if _dec(r.get("p")) is None or _dec(r.get("P")) is None or _ts_ns(r.get("t")) is None:
            raise _malformed(f"GET {path}", body, "numeric bid p, ask P and nanosecond time t")
        return Quote(symbol=symbol, last=None, bid=_dec(r.get("p")), ask=_dec(r.get("P")),
                     bid_size=_int(r.get("s")), ask_size=_int(r.get("S")), prev_close=None,
                     ts=_ts_ns(r.get("t")), source="polygon:nbbo")

    async def news(self, symbol: str | None, *, limit: int = 10) -> list[Headline]:
        params: dict[str, Any] = {"limit": max(1, min(limit, 1000)), "order": "desc", "sort": "published_utc"}
        if symbol:
            params["ticker"] = symbol
        path = "/v2/reference/news"
        body = _enveloped(await self._get(path, params), path)
        try:
            return [_headline(item) for item in _objects(body, path, "results")[:limit]]
        except msgspec.ValidationError as exc:
            raise _malformed(f"GET {path}", body, f"articles with text fields ({exc})") from exc

    async def news_items(self, symbol: str | None, *, since: datetime | None = None,
                         max_items: int = 100) -> list[NewsItem]:
        """News newest first with Polygon's per-ticker `insights`, following `next_url` up to `max_items`."""
        params: dict[str, Any] = {"limit": max(1, min(max_items, 1000)), "order": "desc", "sort": "published_utc"}
        if symbol:
            params["ticker"] = symbol
        if since is not None:
            params["published_utc.gte"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        items: list[NewsItem] = []
        async for page in self._pages("/v2/reference/news", params, max_items):
            items.extend(n for n in (_news(_dict(raw)) for raw in page) if n is not None)
        return items[:max_items]

    async def earnings(self, symbols: list[str], start: date, end: date, *, max_items: int = 1000,
                       ) -> list[EarningsDate]:
        """Benzinga earnings through Polygon (a partner dataset: NotEntitled when the plan lacks it)."""
        params: dict[str, Any] = {"ticker.any_of": ",".join(symbols), "date.gte": start.isoformat(),
                                  "date.lte": end.isoformat(), "sort": "date.asc", "limit": min(max_items, 1000)}
        dates: list[EarningsDate] = []
        async for page in self._pages("/benzinga/v1/earnings", params, max_items):
            dates.extend(e for e in (_earnings(_dict(raw)) for raw in page) if e is not None)
        return dates

    async def market_status(self) -> MarketStatus:
        path = "/v1/marketstatus/now"
        body = await self._get(path)
        sessions = [session.value for session in MarketSession]
        if not isinstance(body, dict) or body.get("market") not in sessions or not isinstance(
                body.get("exchanges", {}), dict):
            raise _malformed(f"GET {path}", body, f'an object with "market" one of {", ".join(sessions)}')
        session = MarketSession(body["market"])
        server = body.get("serverTime")
        return MarketStatus(session=session, server_time=_iso(server), source="polygon",
                            early_hours=bool(body.get("earlyHours")), after_hours=bool(body.get("afterHours")),
                            exchanges={k: str(v) for k, v in _dict(body.get("exchanges")).items()})

    async def upcoming_holidays(self) -> list[MarketHoliday]:
        path = "/v1/marketstatus/upcoming"
        body = await self._get(path)
        if not isinstance(body, list) or not all(isinstance(h, dict) and _day(h.get("date")) for h in body):
            raise _malformed(f"GET {path}", body, "a list of holidays, each with an ISO date")
        return [MarketHoliday(exchange=str(h.get("exchange", "")), name=str(h.get("name", "")),
                              date=_day(h["date"]) or date.min, status=str(h.get("status", "")),
                              open=_iso(h.get("open")), close=_iso(h.get("close")))
                for h in body]

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
            contracts.extend(_contract(item, underlying) for item in page)
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


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _bar(item: Any, symbol: str, timespan: str) -> Bar:
    row = _dict(item)
    o, h, lo, c, t = (_dec(row.get(k)) for k in ("o", "h", "l", "c", "t"))
    if o is None or h is None or lo is None or c is None or t is None:
        raise _malformed(f"{timespan} aggregates of {symbol}", item, "a bar with numeric o, h, l, c and t")
    return Bar(symbol=str(row.get("T", symbol)), open=o, high=h, low=lo, close=c,
               volume=int(_dec(row.get("v")) or 0), start=utc_from_epoch(int(t), "ms"), timespan=timespan,
               vwap=_dec(row.get("vw")))


def _snapshot_quote(ticker: dict[str, Any], path: str) -> Quote:
    """A v2 snapshot as a Quote. Early in the morning `day`/`min` may be zero; never invent a price."""
    if not isinstance(ticker.get("ticker"), str) or not ticker["ticker"]:
        raise _malformed(f"GET {path}", ticker, 'a ticker snapshot with its "ticker" symbol')
    trade, nbbo = _dict(ticker.get("lastTrade")), _dict(ticker.get("lastQuote"))
    last = (_nonzero(trade.get("p")) or _nonzero(_dict(ticker.get("min")).get("c"))
            or _nonzero(_dict(ticker.get("day")).get("c")))
    return Quote(symbol=str(ticker.get("ticker", "")), last=last, bid=_nonzero(nbbo.get("p")),
                 ask=_nonzero(nbbo.get("P")), bid_size=_int(nbbo.get("s")), ask_size=_int(nbbo.get("S")),
                 prev_close=_nonzero(_dict(ticker.get("prevDay")).get("c")),
                 ts=_ts_ns(ticker.get("updated")) or _ts_ns(trade.get("t")), source="polygon:snapshot")


def _snapshot_row(ticker: dict[str, Any], path: str) -> SnapshotRow:
    quote_ = _snapshot_quote(ticker, path)
    day, prev = _dict(ticker.get("day")), _dict(ticker.get("prevDay"))
    return SnapshotRow(symbol=quote_.symbol, last=quote_.last, change_pct=_dec(ticker.get("todaysChangePerc")),
                       day_volume=_dec(day.get("v")), prev_volume=_dec(prev.get("v")), prev_vwap=_dec(prev.get("vw")))


def _headline(item: dict[str, Any]) -> Headline:
    """An article as sent; a key Polygon left out stays out. Other keys (amp_url, the publisher's logos) are not
    shown anywhere."""
    return msgspec.convert({**item, "publisher": _dict(item.get("publisher")).get("name")}, Headline)


def _news(item: dict[str, Any]) -> NewsItem | None:
    """A Polygon article as a NewsItem; one without a title, link or time is not an article we can cite."""
    title, url, published = item.get("title"), item.get("article_url"), _iso(item.get("published_utc"))
    if not isinstance(title, str) or not title.strip() or not isinstance(url, str) or not url or published is None:
        return None
    sentiment = []
    for insight in map(_dict, item.get("insights") or []):
        try:
            value = Sentiment(str(insight.get("sentiment")))
        except ValueError:
            continue
        reasoning = insight.get("sentiment_reasoning")
        sentiment.append(SymbolSentiment(str(insight.get("ticker", "")), value,
                                         reasoning if isinstance(reasoning, str) else None))
    description = item.get("description")
    return NewsItem(source="polygon", title=title.strip(), url=url, published_at=published,
                    symbols=tuple(str(t) for t in item.get("tickers") or [] if isinstance(t, str)),
                    sentiment=tuple(sentiment), summary=description if isinstance(description, str) else None,
                    publisher=_dict(item.get("publisher")).get("name"))


_ET = ZoneInfo("America/New_York")


def _earnings(row: dict[str, Any]) -> EarningsDate | None:
    """Benzinga's `time` is HH:MM:SS UTC; before 09:30 New York is bmo, from 16:00 amc, else (or 00:00:00,
    Benzinga's "no time") unknown."""
    ticker, day = row.get("ticker"), row.get("date")
    if not isinstance(ticker, str) or not isinstance(day, str):
        return None
    try:
        when = date.fromisoformat(day)
    except ValueError:
        return None
    slot = EarningsTime.UNKNOWN
    raw = row.get("time")
    if isinstance(raw, str) and raw not in ("", "00:00:00"):
        try:
            local = datetime.combine(when, time.fromisoformat(raw), UTC).astimezone(_ET).time()
        except ValueError:
            local = None
        if local is not None and local < time(9, 30):
            slot = EarningsTime.BEFORE_OPEN
        elif local is not None and local >= time(16, 0):
            slot = EarningsTime.AFTER_CLOSE
    return EarningsDate(symbol=ticker, date=when, time=slot, source="polygon:benzinga",
                        confirmed=row.get("date_status") == "confirmed")


def _contract(item: dict[str, Any], underlying: str) -> OptionContract:
    details, day = _dict(item.get("details")), _dict(item.get("day"))
    nbbo, trade, greeks = _dict(item.get("last_quote")), _dict(item.get("last_trade")), item.get("greeks")
    strike, expiry = _dec(details.get("strike_price")), _day(details.get("expiration_date"))
    if not details.get("ticker") or strike is None or expiry is None:
        raise _malformed(f"option chain of {underlying}", item,
                         "a contract with details.ticker, strike_price and expiration_date")
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
        expiration=expiry, strike=strike, option_type=str(details.get("contract_type", "")),
        quote=quote_, open_interest=_int(item.get("open_interest")), volume=_int(day.get("volume")),
        greeks=OptionGreeks(delta=g("delta"), gamma=g("gamma"), theta=g("theta"), vega=g("vega"), mid_iv=iv,
                            updated_at=ts) if has_greeks else None)
