"""TradierBroker: the Broker port over Tradier's REST API (httpx), with vendor errors mapped to core.errors.

Reads are retried (tenacity, bounded) on transient faults only: 429 (waiting as the server says), 5xx,
timeouts and connection errors. Place, modify and cancel are never retried: once the request may have
reached Tradier, a timeout, a dropped connection, a 5xx or an unreadable answer raises
``OrderOutcomeUnknown``, to be resolved with ``find_order_by_tag`` / ``order`` and never by sending again.
Every call takes a token from its rate-limit category first (standard, market, trade).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx
import msgspec
import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from core.adapters.error_map import SERVER_ERROR, ErrorTable, Fault, core_error
from core.adapters.tradier import calendars, wire
from core.adapters.tradier.forms import Form, modify_form, order_form, validate_tag
from core.adapters.tradier.ratelimit import RateLimiter
from core.domain.market import MarketStatus, OptionContract, Quote
from core.domain.news import EarningsDate
from core.domain.orders import (
    Balances,
    BrokerOrder,
    BrokerProfile,
    OrderAck,
    OrderDuration,
    OrderPreview,
    OrderRequest,
    OrderType,
    Position,
)
from core.errors import (
    ExternalPermanent,
    ExternalTransient,
    IntegrationDisabled,
    NotEntitled,
    NotFound,
    OrderOutcomeUnknown,
)
from core.settings import Settings

log = structlog.get_logger(__name__)

Category = Literal["standard", "market", "trade"]
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_HOW_TO_FIX_401 = ("check TRADIER_ACCESS_TOKEN and TRADIER_ACCOUNT_ID, and that TRADIER_BASE_URL / TRADIER_ENV "
                   "match the token (sandbox and production tokens are different)")

ERRORS: ErrorTable = (
    (401, lambda f: IntegrationDisabled("broker", f"Tradier refused the credentials (401) on {f.where}",
                                        _HOW_TO_FIX_401)),
    (429, lambda f: ExternalTransient(f"{f.where}: rate limited (429)", retry_after=f.retry_after)),
    (SERVER_ERROR, lambda f: ExternalTransient(f"{f.where}: server error {f.status}")),
    (404, lambda f: NotFound(f"{f.where} refused ({f.status}): {f.reason}", details=f.details)),
    (403, lambda f: NotEntitled(f"{f.where} refused ({f.status}): {f.reason}", details=f.details)),
    (int, lambda f: ExternalPermanent(f"{f.where} refused ({f.status}): {f.reason}", details=f.details)),
)
"""Tradier's HTTP error statuses; an `errors` property in a 200 answer is a refusal too (see `_body`)."""


def _retry_after(headers: httpx.Headers, now: float) -> float | None:
    """Seconds until the server lets us in again: Retry-After (s or HTTP date), else X-Ratelimit-Expiry."""
    raw = headers.get("Retry-After")
    if raw:
        try:
            return max(float(raw), 0.0)
        except ValueError:
            try:
                return max(parsedate_to_datetime(raw).timestamp() - now, 0.0)
            except (TypeError, ValueError):
                pass
    expiry = headers.get("X-Ratelimit-Expiry")
    if expiry and expiry.strip().isdigit():
        stamp = int(expiry) / 1000 if int(expiry) > 10**11 else int(expiry)
        return max(stamp - now, 0.0)
    return None


def _messages(response: httpx.Response) -> list[str]:
    try:
        found = wire.error_messages(wire.decode(response.content))
    except msgspec.DecodeError:
        found = []
    return found or [response.text[:200].strip() or response.reason_phrase]


class TradierBroker:
    """Tradier brokerage for one account. Use as ``async with TradierBroker.from_settings(s) as broker``."""

    def __init__(self, *, base_url: str, access_token: str, account_id: str, timeout: float = 10.0,
                 limits: Mapping[Category, int] | None = None, read_attempts: int = 4,
                 max_retry_wait: float = 30.0, transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        self.account_id = account_id
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/", transport=transport,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        )
        budget = {"standard": 120, "market": 120, "trade": 60, **(limits or {})}
        self.limiters: dict[Category, RateLimiter] = {
            name: RateLimiter(limit) if sleep is None else RateLimiter(limit, sleep=sleep)
            for name, limit in budget.items()
        }
        self._read_attempts = read_attempts
        self._max_retry_wait = max_retry_wait
        self._sleep = sleep

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> TradierBroker:
        """Build from settings, or raise IntegrationDisabled saying which setting is missing."""
        status = settings.integrations()["broker"]
        tradier = settings.tradier
        if not status.enabled or tradier.access_token is None or tradier.account_id is None:
            raise IntegrationDisabled("broker", status.reason, status.how_to_enable)
        if tradier.trading_mode == "LIVE" and not settings.allow_live_trading:
            raise IntegrationDisabled("broker", f"{tradier.live_reason()}, and ALLOW_LIVE_TRADING is not set",
                                      "set ALLOW_LIVE_TRADING=true to trade real money, or point TRADIER_BASE_URL "
                                      "at the sandbox")
        return cls(base_url=tradier.effective_base_url, access_token=tradier.access_token.get_secret_value(),
                   account_id=tradier.account_id, **options)

    def __repr__(self) -> str:
        return f"TradierBroker(base_url={str(self._client.base_url)!r}, account_id={self.account_id!r})"

    async def __aenter__(self) -> TradierBroker:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- transport -------------------------------------------------------------------------------------

    async def _send(self, method: str, path: str, category: Category, *, params: Mapping[str, str] | None = None,
                    form: Form | None = None) -> httpx.Response:
        await self.limiters[category].acquire()
        started = time.perf_counter()
        try:
            response = await self._client.request(method, path, params=params, data=dict(form) if form else None)
        except httpx.TransportError as exc:
            log.warning("tradier.transport_error", method=method, path=path, error=type(exc).__name__)
            raise
        available = response.headers.get("X-Ratelimit-Available", "")
        self.limiters[category].observe(
            available=int(available) if available.strip().isdigit() else None,
            reset_in=_retry_after(response.headers, time.time()) if available or response.status_code == 429
            else None,
        )
        emit = log.debug if method == "GET" else log.info
        emit("tradier.request", method=method, path=path, status=response.status_code,
             ms=round((time.perf_counter() - started) * 1000, 1), available=available or None)
        return response

    @staticmethod
    def _raise_for_status(response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        messages = _messages(response)
        raise core_error(ERRORS, Fault("Tradier", status, where=f"Tradier {response.request.method} "
                                       f"{response.request.url.path}", reason="; ".join(messages),
                                       retry_after=_retry_after(response.headers, time.time()),
                                       details={"status": status, "errors": messages}))

    @staticmethod
    def _body(response: httpx.Response) -> Any:
        """Decoded JSON; an `errors` property (even with HTTP 200) is the broker saying no."""
        try:
            body = wire.decode(response.content)
        except msgspec.DecodeError as exc:
            if response.content.lstrip()[:1] in (b"{", b"["):
                raise ExternalTransient("Tradier sent truncated JSON") from exc
            kind = response.headers.get("content-type", "?")
            raise ExternalPermanent(f"Tradier sent {kind}, not JSON; check TRADIER_BASE_URL") from exc
        messages = wire.error_messages(body)
        if messages:
            raise ExternalPermanent(f"Tradier rejected the request: {'; '.join(messages)}",
                                    details={"status": response.status_code, "errors": messages})
        return body

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, ExternalTransient) and error.retry_after is not None:
            return min(error.retry_after, self._max_retry_wait)
        return min(0.2 * 2.0 ** (state.attempt_number - 1), self._max_retry_wait)

    async def _read_once(self, path: str, category: Category, params: Mapping[str, str] | None) -> Any:
        try:
            response = await self._send("GET", path, category, params=params)
        except httpx.TransportError as exc:
            raise ExternalTransient(f"Tradier GET {path}: {type(exc).__name__}") from exc
        self._raise_for_status(response)
        return self._body(response)

    async def _read(self, path: str, category: Category = "standard",
                    params: Mapping[str, str] | None = None) -> Any:
        options: dict[str, Any] = {} if self._sleep is None else {"sleep": self._sleep}
        retrying = AsyncRetrying(stop=stop_after_attempt(self._read_attempts), wait=self._wait, reraise=True,
                                 retry=retry_if_exception_type(ExternalTransient), **options)
        return await retrying(self._read_once, path, category, params)

    async def _write(self, method: str, path: str, form: Form, *, places: bool, tag: str | None = None,
                     order_id: str | None = None) -> Any:
        """One trading request, never retried; `places` = it can change orders at the broker."""
        what = f"Tradier {method} {path}"
        try:
            response = await self._send(method, path, "trade", form=form)
        except _NOT_SENT as exc:
            raise ExternalTransient(f"{what}: not sent ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            if not places:
                raise ExternalTransient(f"{what}: {type(exc).__name__}") from exc
            raise OrderOutcomeUnknown(f"{what}: no answer ({type(exc).__name__}); look the order up, do not resend",
                                      tag=tag, order_id=order_id) from exc
        if places and response.status_code >= 500:
            raise OrderOutcomeUnknown(f"{what}: server error {response.status_code}; look the order up",
                                      tag=tag, order_id=order_id)
        self._raise_for_status(response)
        try:
            return self._body(response)
        except ExternalTransient as exc:
            if not places:
                raise
            raise OrderOutcomeUnknown(f"{what}: unreadable answer; look the order up", tag=tag,
                                      order_id=order_id) from exc

    def _orders_path(self, order_id: str | None = None) -> str:
        base = f"accounts/{self.account_id}/orders"
        return base if order_id is None else f"{base}/{order_id}"

    @staticmethod
    def _parsed(parse: Callable[[Any], Any], body: Any) -> Any:
        try:
            return parse(body)
        except wire.WireError as exc:
            raise ExternalPermanent(f"unexpected Tradier response: {exc}") from exc

    # -- reads -----------------------------------------------------------------------------------------

    async def profile(self) -> BrokerProfile:
        profile: BrokerProfile = self._parsed(wire.parse_profile, await self._read("user/profile"))
        return profile

    async def balances(self) -> Balances:
        balances: Balances = self._parsed(wire.parse_balances,
                                          await self._read(f"accounts/{self.account_id}/balances"))
        return balances

    async def positions(self) -> list[Position]:
        positions: list[Position] = self._parsed(wire.parse_positions,
                                                 await self._read(f"accounts/{self.account_id}/positions"))
        return positions

    async def orders(self) -> list[BrokerOrder]:
        """Today's orders (Tradier's list covers the session day), with their tags."""
        orders: list[BrokerOrder] = self._parsed(
            wire.parse_orders, await self._read(self._orders_path(), params={"includeTags": "true"}))
        return orders

    async def order(self, order_id: str) -> BrokerOrder:
        order: BrokerOrder = self._parsed(
            wire.parse_order, await self._read(self._orders_path(order_id), params={"includeTags": "true"}))
        return order

    async def find_order_by_tag(self, tag: str) -> BrokerOrder | None:
        """The order placed with `tag` (an intent id), or None: how an unknown outcome is resolved."""
        validate_tag(tag)
        matches = [order for order in await self.orders() if order.tag == tag]
        if len(matches) > 1:
            log.error("tradier.duplicate_tag", tag=tag, order_ids=[order.id for order in matches])
        return matches[0] if matches else None

    async def quotes(self, symbols: Sequence[str]) -> list[Quote]:
        if not symbols:
            return []
        quotes: list[Quote] = self._parsed(wire.parse_quotes, await self._read(
            "markets/quotes", "market", {"symbols": ",".join(symbols), "greeks": "false"}))
        return quotes

    async def quote_price(self, symbol: str) -> Decimal | None:
        quotes = await self.quotes([symbol])
        return quotes[0].last if quotes else None

    async def option_expirations(self, symbol: str) -> list[date]:
        dates: list[date] = self._parsed(wire.parse_expirations, await self._read(
            "markets/options/expirations", "market",
            {"symbol": symbol, "includeAllRoots": "true", "strikes": "false"}))
        return dates

    async def option_chain(self, symbol: str, expiration: date, *, greeks: bool = True) -> list[OptionContract]:
        chain: list[OptionContract] = self._parsed(wire.parse_chain, await self._read(
            "markets/options/chains", "market",
            {"symbol": symbol, "expiration": expiration.isoformat(), "greeks": str(greeks).lower()}))
        return chain

    async def earnings(self, symbols: list[str], start: date, end: date) -> list[EarningsDate]:
        """Earnings releases in [start, end] from the beta corporate calendars (a path outside `/v1`)."""
        url = str(self._client.base_url.join("../beta/markets/fundamentals/calendars"))
        releases: list[EarningsDate] = self._parsed(calendars.parse_calendars, await self._read(
            url, "market", {"symbols": ",".join(symbols)}))
        return [release for release in releases if start <= release.date <= end]

    async def clock(self) -> MarketStatus:
        status: MarketStatus = self._parsed(wire.parse_clock, await self._read("markets/clock", "market"))
        return status

    # -- trading (never retried) -----------------------------------------------------------------------

    async def preview(self, order: OrderRequest) -> OrderPreview:
        """Tradier's validation and costing of `order`; nothing is placed (rejections raise ExternalPermanent)."""
        body = await self._write("POST", self._orders_path(), order_form(order, preview=True), places=False)
        preview: OrderPreview = self._parsed(wire.parse_preview, body)
        return preview

    async def place(self, order: OrderRequest, *, tag: str) -> OrderAck:
        """Send `order` once with `tag` (the intent id). Raises OrderOutcomeUnknown if its fate is unknown."""
        form = order_form(order, tag=tag)
        body = await self._write("POST", self._orders_path(), form, places=True, tag=tag)
        return self._ack(body, tag=tag)

    async def modify(self, order_id: str, *, type: OrderType | None = None, duration: OrderDuration | None = None,
                     price: Decimal | None = None, stop: Decimal | None = None) -> OrderAck:
        form = modify_form(type=type, duration=duration, price=price, stop=stop)
        body = await self._write("PUT", self._orders_path(order_id), form, places=True, order_id=order_id)
        return self._ack(body, order_id=order_id)

    async def cancel(self, order_id: str) -> OrderAck:
        body = await self._write("DELETE", self._orders_path(order_id), [], places=True, order_id=order_id)
        return self._ack(body, order_id=order_id)

    @staticmethod
    def _ack(body: Any, *, tag: str | None = None, order_id: str | None = None) -> OrderAck:
        try:
            ack_id = wire.parse_ack(body)
        except wire.WireError as exc:
            raise OrderOutcomeUnknown(f"Tradier answered without an order id: {exc}", tag=tag,
                                      order_id=order_id) from exc
        item = body["order"]
        return OrderAck(id=ack_id, status=str(item.get("status", "ok")).lower(), tag=tag,
                        partner_id=wire.text(item.get("partner_id")))
