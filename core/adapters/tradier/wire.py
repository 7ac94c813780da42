"""Tradier JSON -> domain values, with every quirk of the wire normalised in one place.

Quirks of Tradier's JSON: a key holding one item is an object and several a list (`as_list`);
empty collections are the string ``"null"`` (or a bare null); numbers are decoded straight to ``Decimal``
(never through float); errors are ``errors.error`` as a string or a list, sometimes inside a 200 answer,
and in legacy answers a string at ``order.errors``. Parsers raise ``WireError`` on a shape they cannot read, naming
what was expected and what came back: a body Tradier would not send is never read as an empty account.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

import msgspec
import structlog

from core.domain.market import MarketSession, MarketStatus, OptionContract, OptionGreeks, Quote
from core.domain.orders import (
    Balances,
    BrokerAccount,
    BrokerOrder,
    BrokerProfile,
    OrderDuration,
    OrderPreview,
    OrderSide,
    OrderType,
    Position,
)
from core.errors import preview

log = structlog.get_logger(__name__)

SOURCE = "tradier"
_decoder = msgspec.json.Decoder(float_hook=Decimal)
_E = TypeVar("_E", bound=StrEnum)
_SESSIONS = {"open": MarketSession.OPEN, "premarket": MarketSession.EXTENDED_HOURS,
             "postmarket": MarketSession.EXTENDED_HOURS, "closed": MarketSession.CLOSED}


class WireError(ValueError):
    """The body is JSON but not in a shape Tradier documents."""

    def __init__(self, expected: str, answer: Any) -> None:
        super().__init__(f"expected {expected}, got {preview(answer)}")


def decode(body: bytes) -> Any:
    """JSON bytes -> Python values with every JSON number that has a fraction as ``Decimal``."""
    return _decoder.decode(body)


def is_null(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value in ("null", ""))


def as_list(value: Any) -> list[Any]:
    """One object -> [object], a list -> the list without nulls, "null"/None -> []."""
    if is_null(value):
        return []
    if isinstance(value, list):
        return [item for item in value if not is_null(item)]
    return [value]


def dec(value: Any) -> Decimal | None:
    if is_null(value) or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def integer(value: Any) -> int | None:
    number = dec(value)
    return None if number is None else int(number)


def text(value: Any) -> str | None:
    return None if is_null(value) else str(value)


def when(value: Any) -> datetime | None:
    """ISO-8601 (`Z`, offsets, or naive = UTC), `YYYY-MM-DD HH:MM:SS`, or an epoch in s or ms -> aware UTC."""
    if is_null(value):
        return None
    if isinstance(value, int | Decimal):
        seconds = float(value) / 1000 if value > 10**11 else float(value)
        return datetime.fromtimestamp(seconds, tz=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _enum(kind: type[_E], value: Any) -> _E | None:
    raw = text(value)
    if raw is None:
        return None
    try:
        return kind(raw.lower())
    except ValueError:
        return None


def _section(body: Any, key: str) -> Any:
    if not isinstance(body, Mapping) or key not in body:
        raise WireError(f"a '{key}' object", body)
    return body[key]


def _object(body: Any, key: str) -> Mapping[str, Any]:
    section = _section(body, key)
    if not isinstance(section, Mapping):
        raise WireError(f"'{key}' as an object", body)
    return section


def _items(body: Any, outer: str, inner: str, *, besides: str | None = None) -> list[Mapping[str, Any]]:
    """The objects at `outer.inner`. An empty collection is `"null"`; an `outer` object without `inner` is
    refused unless it holds `besides` instead (quotes that matched no symbol hold only `unmatched_symbols`)."""
    section = _section(body, outer)
    if is_null(section):
        return []
    if not isinstance(section, Mapping) or (inner not in section and (besides is None or besides not in section)):
        raise WireError(f"'{outer}' as \"null\" or an object holding '{inner}'", body)
    items = as_list(section.get(inner))
    if not all(isinstance(item, Mapping) for item in items):
        raise WireError(f"'{outer}.{inner}' as an object or a list of objects", body)
    return items


def _required(item: Mapping[str, Any], what: str, *names: str) -> None:
    """Fields without which an item would be invented (a position without a quantity, an order without an id)."""
    missing = [name for name in names if is_null(item.get(name))]
    if missing:
        raise WireError(f"{what} with {', '.join(names)} (missing {', '.join(missing)})", item)


def _number(item: Mapping[str, Any], what: str, name: str) -> Decimal:
    value = dec(item.get(name))
    if value is None:
        raise WireError(f"{what} with a numeric '{name}'", item)
    return value


def _day(value: Any, what: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise WireError(f"{what} as an ISO date", value) from None


def error_messages(body: Any) -> list[str]:
    """Every broker error message in a body: `errors.error` (str or list) or legacy `order.errors`."""
    if not isinstance(body, Mapping):
        return []
    found: list[Any] = []
    for holder in (body, body.get("order")):
        if isinstance(holder, Mapping) and not is_null(holder.get("errors")):
            errors = holder["errors"]
            found.extend(as_list(errors.get("error")) if isinstance(errors, Mapping) else as_list(errors))
    return [str(message) for message in found]


def parse_profile(body: Any) -> BrokerProfile:
    profile = _object(body, "profile")
    raw = as_list(profile.get("account"))
    for item in raw:
        if not isinstance(item, Mapping):
            raise WireError("'profile.account' as an object or a list of objects", body)
        _required(item, "an account", "account_number")
    accounts = tuple(
        BrokerAccount(account_number=str(item.get("account_number")), type=text(item.get("type")) or "unknown",
                      status=text(item.get("status")), classification=text(item.get("classification")),
                      option_level=integer(item.get("option_level")), day_trader=item.get("day_trader") is True)
        for item in raw
    )
    return BrokerProfile(id=str(profile.get("id")), name=text(profile.get("name")) or "", accounts=accounts)


def parse_balances(body: Any) -> Balances:
    """Cash, margin and PDT accounts keep buying power in different sub-objects; pick the right one."""
    balances = _object(body, "balances")
    equity, cash = _number(balances, "balances", "total_equity"), _number(balances, "balances", "total_cash")
    realized, unrealized = _number(balances, "balances", "close_pl"), _number(balances, "balances", "open_pl")
    kind = (text(balances.get("account_type")) or "margin").lower()
    sub: Mapping[str, Any] = balances[kind] if isinstance(balances.get(kind), Mapping) else {}
    buying_power = dec(sub.get("cash_available" if kind == "cash" else "stock_buying_power"))
    return Balances(
        equity=equity, buying_power=cash if buying_power is None else buying_power, cash=cash,
        realized_pnl_today=realized, unrealized_pnl=unrealized, account_type=kind,
    )


def parse_positions(body: Any) -> list[Position]:
    items = _items(body, "positions", "position")
    for item in items:
        _required(item, "a position", "symbol", "quantity", "cost_basis")
    return [
        Position(symbol=str(item["symbol"]).upper(), quantity=_number(item, "a position", "quantity"),
                 cost_basis=_number(item, "a position", "cost_basis"), opened_at=when(item.get("date_acquired")))
        for item in items
    ]


def order_from(item: Mapping[str, Any], parent_type: OrderType | None = None) -> BrokerOrder | None:
    """One Tradier order (or leg) -> BrokerOrder; None (logged) when its side or type is not one we model.

    A leg without a type takes its parent's; a parent without side or type takes its first leg's.
    """
    _required(item, "an order", "id")
    kind = _enum(OrderType, item.get("type")) or parent_type
    legs = tuple(leg for leg in (order_from(raw, kind) for raw in as_list(item.get("leg"))
                                 if isinstance(raw, Mapping)) if leg is not None)
    side = _enum(OrderSide, item.get("side")) or (legs[0].side if legs else None)
    kind = kind or (legs[0].type if legs else None)
    if side is None or kind is None:
        log.warning("tradier.order_unmodelled", order_id=item.get("id"), side=item.get("side"),
                    type=item.get("type"))
        return None
    quantity = dec(item.get("quantity"))
    return BrokerOrder(
        id=str(item.get("id")), symbol=(text(item.get("symbol")) or "").upper(), side=side,
        quantity=Decimal(0) if quantity is None else quantity, type=kind,
        status=(text(item.get("status")) or "unknown").lower(), duration=_enum(OrderDuration, item.get("duration")),
        price=dec(item.get("price")), stop=dec(item.get("stop_price")), avg_fill_price=dec(item.get("avg_fill_price")),
        exec_quantity=dec(item.get("exec_quantity")) or Decimal(0), tag=text(item.get("tag")),
        option_symbol=text(item.get("option_symbol")), created_at=when(item.get("create_date")),
        reason=text(item.get("reason_description")), order_class=text(item.get("class")),
        remaining_quantity=dec(item.get("remaining_quantity")), updated_at=when(item.get("transaction_date")),
        legs=legs,
    )


def parse_orders(body: Any) -> list[BrokerOrder]:
    return [order for order in (order_from(item) for item in _items(body, "orders", "order")) if order is not None]


def parse_order(body: Any) -> BrokerOrder:
    item = _section(body, "order")
    order = order_from(item) if isinstance(item, Mapping) else None
    if order is None:
        raise WireError("'order' as an order with a side and type Tradier documents", body)
    return order


def parse_ack(body: Any) -> str:
    """The id of a placed, modified or cancelled order (`{"order": {"id": .., "status": "ok"}}`)."""
    item = _section(body, "order")
    if not isinstance(item, Mapping) or is_null(item.get("id")):
        raise WireError("an order acknowledgement with an id", body)
    return str(item["id"])


def parse_preview(body: Any) -> OrderPreview:
    item = _object(body, "order")
    return OrderPreview(
        ok=item.get("result") is not False and not error_messages(body),
        cost=dec(item.get("cost")), commission=dec(item.get("commission")), fees=dec(item.get("fees")),
        order_cost=dec(item.get("order_cost")), margin_change=dec(item.get("margin_change")),
        day_trades=integer(item.get("day_trades")),
        warnings=tuple(str(w) for w in as_list(item.get("warnings") or item.get("warning"))),
        raw={key: str(value) for key, value in item.items() if not isinstance(value, Mapping | list)},
    )


def quote_from(item: Mapping[str, Any]) -> Quote:
    _required(item, "a quote", "symbol")
    return Quote(
        symbol=str(item.get("symbol")).upper(), last=dec(item.get("last")), bid=dec(item.get("bid")),
        ask=dec(item.get("ask")), bid_size=integer(item.get("bidsize")), ask_size=integer(item.get("asksize")),
        prev_close=dec(item.get("prevclose")), ts=when(item.get("trade_date")), source=SOURCE,
    )


def parse_quotes(body: Any) -> list[Quote]:
    return [quote_from(item) for item in _items(body, "quotes", "quote", besides="unmatched_symbols")]


def parse_expirations(body: Any) -> list[date]:
    """`expirations.date` is a list, one string, or "null"; some variants nest `{"date": ..}` objects."""
    dates: list[date] = []
    for raw in _items_or_scalars(body, "expirations", "date"):
        value = raw.get("date") if isinstance(raw, Mapping) else raw
        if not is_null(value):
            dates.append(_day(value, "an expiration"))
    return sorted(dates)


def _items_or_scalars(body: Any, outer: str, inner: str) -> list[Any]:
    section = _section(body, outer)
    if is_null(section):
        return []
    if not isinstance(section, Mapping) or inner not in section:
        raise WireError(f"'{outer}' as \"null\" or an object holding '{inner}'", body)
    return as_list(section.get(inner))


def _greeks(raw: Any) -> OptionGreeks | None:
    if not isinstance(raw, Mapping):
        return None
    return OptionGreeks(delta=dec(raw.get("delta")), gamma=dec(raw.get("gamma")), theta=dec(raw.get("theta")),
                        vega=dec(raw.get("vega")), mid_iv=dec(raw.get("mid_iv")),
                        updated_at=when(raw.get("updated_at")))


def parse_chain(body: Any) -> list[OptionContract]:
    contracts: list[OptionContract] = []
    for item in _items(body, "options", "option"):
        _required(item, "an option", "symbol", "strike", "expiration_date")
        strike, expiration = _number(item, "an option", "strike"), _day(item["expiration_date"], "expiration_date")
        contracts.append(OptionContract(
            symbol=str(item.get("symbol")).upper(),
            underlying=(text(item.get("underlying")) or text(item.get("root_symbol")) or "").upper(),
            expiration=expiration, strike=strike,
            option_type=(text(item.get("option_type")) or "").lower(), quote=quote_from(item),
            open_interest=integer(item.get("open_interest")), volume=integer(item.get("volume")),
            greeks=_greeks(item.get("greeks")),
        ))
    return contracts


def parse_clock(body: Any) -> MarketStatus:
    clock = _object(body, "clock")
    session = _SESSIONS.get((text(clock.get("state")) or "").lower())
    if session is None:
        raise WireError(f"'clock.state' one of {', '.join(_SESSIONS)}", body)
    return MarketStatus(session=session, server_time=when(clock.get("timestamp")), source=SOURCE)
