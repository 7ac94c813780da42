"""A local Tradier REST server (aiohttp on 127.0.0.1, free port) with state and scripted faults.

It keeps the orders it accepted (by id, with their tags), serves the recorded fixture shapes (one object vs a
list vs the string "null"), answers XML when `Accept: application/json` is missing, checks the Bearer token,
sends X-Ratelimit-* headers, and plays faults queued with `fail()`:

- ``errors_200`` HTTP 200 with `{"errors": {"error": message}}`; ``status`` any status (400/401/429/500...)
  with a Tradier error body (429 adds X-Ratelimit-Available 0 / Expiry and optional Retry-After);
- ``malformed`` truncated JSON; ``slow`` sleep `delay` then answer; ``drop`` close the connection unanswered;
- ``drop_after_accept`` / ``hang_after_accept`` (order POSTs): record the order, then drop the connection
  or hang for `delay` seconds without answering.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.doubles import FIXTURES_DIR

TOKEN = "test-token-tradier"
ACCOUNT = "VA00000001"
_TAG = re.compile(r"^[A-Za-z0-9-]{1,255}$")
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


_OCC = re.compile(r"^[A-Z]{1,6}\d{6}[CP]\d{8}$")
_OPTION_SIDES = ("buy_to_open", "buy_to_close", "sell_to_open", "sell_to_close")
_FORM = web.RequestKey("form", dict)
_FAULT = web.RequestKey("fault", object)


def fixture_text(name: str) -> str:
    """A recorded response verbatim (serve this to keep numbers like 9847.3500000000004 exact)."""
    return (FIXTURES_DIR / "tradier" / name).read_text()


def fixture(name: str) -> Any:
    return json.loads(fixture_text(name))


def collection(items: list[Any], outer: str, inner: str) -> dict[str, Any]:
    """Tradier's shape: no items -> "null", one -> an object, several -> a list."""
    if not items:
        return {outer: "null"}
    return {outer: {inner: items[0] if len(items) == 1 else items}}


BALANCES: dict[str, dict[str, Any]] = {
    "margin": {"account_type": "margin", "total_equity": 17798.36, "total_cash": 1437.01, "open_pl": 115.5,
               "close_pl": -12.25, "market_value": 16361.35, "pending_orders_count": 0,
               "margin": {"fed_call": 0, "maintenance_call": 0, "option_buying_power": 6363.86,
                          "stock_buying_power": 12727.72, "stock_short_value": 0, "sweep": 0}},
    "cash": {"account_type": "cash", "total_equity": 5000.25, "total_cash": 5000.25, "open_pl": 0, "close_pl": 0,
             "cash": {"cash_available": 4500.25, "sweep": 0, "unsettled_funds": 500.0}},
    "pdt": {"account_type": "pdt", "total_equity": 30000.0, "total_cash": 10000.0, "open_pl": 1.5, "close_pl": 0,
            "pdt": {"fed_call": 0, "maintenance_call": 0, "option_buying_power": 10000.0,
                    "stock_buying_power": 20000.0, "day_trade_buying_power": 80000.0, "stock_short_value": 0}},
}


def _option_problems(form: dict[str, str]) -> list[str]:
    """What Tradier requires of option and multileg orders: an OCC `option_symbol` and an option side (per leg,
    indexed `option_symbol[i]`, `side[i]`, `quantity[i]`, 2-4 legs), the underlying `symbol`, and for multileg a
    type of market, debit, credit or even."""
    problems = []
    kind = form.get("class")
    if kind == "option":
        if not _OCC.match(form.get("option_symbol", "")):
            problems.append("Option symbol is required and must be an OCC symbol")
        if form.get("side") not in _OPTION_SIDES:
            problems.append("Side is invalid for an option order")
        if not form.get("symbol") or form.get("option_symbol", "").find(form["symbol"]) != 0:
            problems.append("Symbol must be the option's underlying")
    if kind == "multileg":
        legs = 0
        while f"option_symbol[{legs}]" in form:
            if (not _OCC.match(form[f"option_symbol[{legs}]"]) or form.get(f"side[{legs}]") not in _OPTION_SIDES
                    or not form.get(f"quantity[{legs}]", "").isdigit()):
                problems.append(f"Leg {legs} needs option_symbol, an option side and a whole quantity")
            legs += 1
        if not 2 <= legs <= 4:
            problems.append("A multileg order has 2 to 4 legs")
        if not form.get("symbol"):
            problems.append("Symbol is required")
        if form.get("type") not in ("market", "debit", "credit", "even"):
            problems.append("Type is invalid for a multileg order")
    return problems


_BRACKET_LEGS = {"oto": 2, "otoco": 3}
_LEG_FIELDS = frozenset({"symbol", "side", "quantity", "type", "price", "stop", "option_symbol", "duration"})
_FLAT_FIELDS = ("symbol", "side", "quantity", "type", "price", "stop", "option_symbol")
_FIRST_TYPES = ("limit", "stop", "stop_limit")
_LATER_TYPES = {"oto": ("market", "limit", "stop", "stop_limit"), "otoco": ("limit", "stop", "stop_limit")}
_EXIT_SIDE = {"buy": "sell", "sell_short": "buy_to_cover", "buy_to_open": "sell_to_close",
              "sell_to_open": "buy_to_close"}


def _indexed_legs(form: dict[str, str]) -> list[dict[str, str]]:
    """`name[i]` fields grouped per leg, in index order (a gap ends the legs)."""
    legs: list[dict[str, str]] = []
    while any(key.endswith(f"[{len(legs)}]") for key in form):
        suffix = f"[{len(legs)}]"
        legs.append({key[: -len(suffix)]: value for key, value in form.items() if key.endswith(suffix)})
    return legs


def _leg_problems(index: int, leg: dict[str, str], allowed_types: tuple[str, ...]) -> list[str]:
    problems = [f"Leg {index} has unknown field {name}[{index}]" for name in sorted(set(leg) - _LEG_FIELDS)]
    problems += [f"{name}[{index}] is required" for name in ("symbol", "side", "quantity", "type") if not leg.get(name)]
    kind = leg.get("type", "")
    if kind and kind not in allowed_types:
        problems.append(f"type[{index}] must be one of {', '.join(allowed_types)}")
    if not leg.get("quantity", "").isdigit() or leg.get("quantity") == "0":
        problems.append(f"quantity[{index}] must be a whole number above zero")
    for name, types in (("price", ("limit", "stop_limit")), ("stop", ("stop", "stop_limit"))):
        if (kind in types) != (name in leg):
            problems.append(f"{name}[{index}] is {'not allowed' if name in leg else 'required'} for a {kind} leg")
    if "option_symbol" in leg and (not _OCC.match(leg["option_symbol"]) or leg.get("side") not in _OPTION_SIDES):
        problems.append(f"Leg {index} needs an OCC option_symbol and an option side")
    return problems


def _bracket_problems(form: dict[str, str]) -> list[str]:
    """What Tradier requires of `oto` (2 legs: the first triggers the second) and `otoco` (3 legs: the first
    triggers an OCO of the other two): every leg field indexed, none flat; the first leg limit, stop or
    stop_limit; a price exactly for limit legs and a stop exactly for stop legs; one shared duration (or one per
    leg, equal on the OCO); the exits on the closing side of the entry; the OCO legs of one symbol and of
    different types."""
    kind = form.get("class", "")
    if kind not in _BRACKET_LEGS:
        return []
    problems = [f"{name} must be indexed ({name}[0], {name}[1], ...) in an {kind} order"
                for name in _FLAT_FIELDS if name in form]
    legs = _indexed_legs(form)
    if len(legs) != _BRACKET_LEGS[kind]:
        return [*problems, f"An {kind} order has {_BRACKET_LEGS[kind]} legs, got {len(legs)}"]
    for index, leg in enumerate(legs):
        problems += _leg_problems(index, leg, _FIRST_TYPES if index == 0 else _LATER_TYPES[kind])
    durations = [leg.get("duration") for leg in legs]
    if ("duration" in form) == any(durations) or (not form.get("duration") and not all(durations)):
        problems.append("Send duration once, or duration[n] for every leg")
    exit_side = _EXIT_SIDE.get(legs[0].get("side", ""))
    if any(leg.get("side") != exit_side for leg in legs[1:]):
        problems.append(f"The triggered legs must close the entry (side {exit_side or 'unknown'})")
    if kind == "otoco":
        first, second = legs[1], legs[2]
        if first.get("type") == second.get("type"):
            problems.append("Second and third orders must have a different type")
        if (first.get("symbol"), first.get("option_symbol")) != (second.get("symbol"), second.get("option_symbol")):
            problems.append("Second and third orders must have the same symbol")
        if first.get("duration") != second.get("duration"):
            problems.append("Second and third orders must have the same duration")
    return problems


@dataclass
class Fault:
    kind: str
    method: str | None
    path: str
    times: int
    status: int = 500
    message: str = "scripted failure"
    delay: float = 0.0
    retry_after: str | None = None
    expiry_ms: int = 200


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class TradierDouble:
    """`async with TradierDouble() as tradier:` then point TradierBroker at `tradier.base_url`."""

    token: str = TOKEN
    account_id: str = ACCOUNT
    account_type: str = "margin"
    allowed: int = 120
    positions: list[dict[str, Any]] = field(default_factory=lambda: fixture("docs_positions_multi.json")
                                            ["positions"]["position"])
    quotes: dict[str, dict[str, Any]] = field(default_factory=dict)
    expirations: list[str] = field(default_factory=lambda: fixture("rb_options_expirations.json")
                                   ["expirations"]["date"])
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    bodies: dict[str, Any] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    base_url: str = ""
    _next_id: int = 1000
    _runner: web.AppRunner | None = None
    _used: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for item in (*fixture("rb_quotes_multi_list.json")["quotes"]["quote"],
                     fixture("rb_option_quote_single.json")["quotes"]["quote"]):
            self.quotes.setdefault(item["symbol"], item)

    # -- scripting ----------------------------------------------------------------------------------------

    def fail(self, kind: str, *, method: str | None = None, path: str = "", times: int = 1, **options: Any) -> None:
        """Queue a fault for the next `times` requests whose path contains `path` (and method, if given)."""
        self.faults.append(Fault(kind, method, path, times, **options))

    def serve(self, path_suffix: str, body: Any) -> None:
        """Answer GETs whose path ends with `path_suffix` with `body` verbatim (a fixture, a quirky shape)."""
        self.bodies[path_suffix] = body

    def by_tag(self, tag: str) -> list[dict[str, Any]]:
        return [order for order in self.orders.values() if order.get("tag") == tag]

    def requests_to(self, method: str, path_part: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def __aenter__(self) -> TradierDouble:
        app = web.Application(middlewares=[self._middleware])
        prefix = f"/v1/accounts/{self.account_id}"
        app.router.add_get("/v1/user/profile", self._profile)
        app.router.add_get(f"{prefix}/balances", self._balances)
        app.router.add_get(f"{prefix}/positions", self._positions)
        app.router.add_get(f"{prefix}/orders", self._list_orders)
        app.router.add_get(f"{prefix}/orders/{{order_id}}", self._get_order)
        app.router.add_post(f"{prefix}/orders", self._place)
        app.router.add_put(f"{prefix}/orders/{{order_id}}", self._modify)
        app.router.add_delete(f"{prefix}/orders/{{order_id}}", self._cancel)
        app.router.add_get("/v1/markets/quotes", self._quotes)
        app.router.add_get("/v1/markets/options/expirations", self._expirations)
        app.router.add_get("/v1/markets/options/chains", self._chain)
        app.router.add_get("/v1/markets/clock", self._clock)
        app.router.add_get("/beta/markets/fundamentals/calendars", self._calendars)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- plumbing -----------------------------------------------------------------------------------------

    def _category(self, request: web.Request) -> str:
        if request.path.startswith("/v1/markets"):
            return "market"
        return "trade" if request.method in ("POST", "PUT", "DELETE") else "standard"

    def _limit_headers(self, category: str, *, exhausted: bool = False, expiry_ms: int = 60_000) -> dict[str, str]:
        now = time.time()
        window = [t for t in self._used.get(category, []) if t > now - 60] + [now]
        self._used[category] = window
        available = 0 if exhausted else max(self.allowed - len(window), 0)
        return {"X-Ratelimit-Allowed": str(self.allowed), "X-Ratelimit-Used": str(self.allowed - available),
                "X-Ratelimit-Available": str(available), "X-Ratelimit-Expiry": str(int(now * 1000) + expiry_ms)}

    def _take_fault(self, request: web.Request) -> Fault | None:
        for fault in self.faults:
            if fault.path in request.path and fault.method in (None, request.method):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        form = {k: str(v) for k, v in (await request.post()).items()} if request.method in ("POST", "PUT") else {}
        self.requests.append(RecordedRequest(request.method, request.path, dict(request.query), form,
                                             dict(request.headers)))
        request[_FORM] = form
        category = self._category(request)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(status=401, text="Invalid Access Token")
        fault = self._take_fault(request)
        request[_FAULT] = fault
        if fault is not None:
            answer = await self._play(fault, request, category)
            if answer is not None:
                return answer
        if request.headers.get("Accept") != "application/json":
            return web.Response(text="<response>xml by default</response>", content_type="application/xml")
        response = await handler(request)
        response.headers.update(self._limit_headers(category))
        return response

    async def _play(self, fault: Fault, request: web.Request, category: str) -> web.StreamResponse | None:
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            return None
        if fault.kind == "drop":
            assert request.transport is not None
            request.transport.close()
            raise web.HTTPInternalServerError
        if fault.kind == "errors_200":
            return web.json_response({"errors": {"error": fault.message}})
        if fault.kind == "malformed":
            return web.Response(text='{"orders": {"order": [{"id": 1,', content_type="application/json")
        if fault.kind == "status":
            headers = self._limit_headers(category, exhausted=fault.status == 429, expiry_ms=fault.expiry_ms)
            if fault.retry_after is not None:
                headers["Retry-After"] = fault.retry_after
            return web.json_response({"errors": {"error": [fault.message]}}, status=fault.status, headers=headers)
        return None  # *_after_accept: played by the order handler once the order is recorded

    def _verbatim(self, request: web.Request) -> web.Response | None:
        for suffix, body in self.bodies.items():
            if request.path.endswith(suffix):
                text = body if isinstance(body, str) else json.dumps(body)
                return web.Response(text=text, content_type="application/json")
        return None

    async def _answer(self, request: web.Request, build: Callable[[], Any]) -> web.Response:
        return self._verbatim(request) or web.json_response(build())

    # -- accounts -----------------------------------------------------------------------------------------

    async def _profile(self, request: web.Request) -> web.Response:
        account = {"account_number": self.account_id, "classification": "individual", "day_trader": False,
                   "option_level": 2, "status": "active", "type": self.account_type}
        return await self._answer(request, lambda: {"profile": {"id": "id-1", "name": "Test Trader",
                                                                "account": account}})

    async def _balances(self, request: web.Request) -> web.Response:
        return await self._answer(request, lambda: {"balances": {
            "account_number": self.account_id, **BALANCES[self.account_type]}})

    async def _positions(self, request: web.Request) -> web.Response:
        return await self._answer(request, lambda: collection(self.positions, "positions", "position"))

    def _public(self, order: dict[str, Any], with_tags: bool) -> dict[str, Any]:
        return order if with_tags else {k: v for k, v in order.items() if k != "tag"}

    async def _list_orders(self, request: web.Request) -> web.Response:
        with_tags = request.query.get("includeTags") == "true"
        return await self._answer(request, lambda: collection(
            [self._public(o, with_tags) for o in self.orders.values()], "orders", "order"))

    async def _get_order(self, request: web.Request) -> web.Response:
        order = self.orders.get(request.match_info["order_id"])
        if order is None:
            return web.json_response({"errors": {"error": "Order not found"}}, status=404)
        return await self._answer(request, lambda: {"order": self._public(order, request.query.get("includeTags")
                                                                          == "true")})

    # -- trading ------------------------------------------------------------------------------------------

    @staticmethod
    def _problems(form: dict[str, str]) -> list[str]:
        problems = []
        if form.get("class") not in ("equity", "option", "multileg", "combo", "oto", "oco", "otoco"):
            problems.append("Invalid order class")
        if form.get("type") in ("limit", "stop_limit", "debit", "credit") and "price" not in form:
            problems.append("Price is required for this order type")
        if form.get("type") in ("stop", "stop_limit") and "stop" not in form:
            problems.append("Stop price is required for this order type")
        if "tag" in form and not _TAG.match(form["tag"]):
            problems.append("Tag is invalid")
        return problems + _option_problems(form) + _bracket_problems(form)

    @staticmethod
    def _legs(form: dict[str, str]) -> list[dict[str, Any]]:
        legs = []
        index = 0
        while f"side[{index}]" in form:
            leg = {key[: -len(f"[{index}]")]: value for key, value in form.items() if key.endswith(f"[{index}]")}
            legs.append({"id": 0, "status": "open", **leg, "quantity": float(leg.get("quantity", 0))})
            index += 1
        return legs

    async def _place(self, request: web.Request) -> web.StreamResponse:
        form: dict[str, str] = request[_FORM]
        problems = self._problems(form)
        if problems:
            return web.json_response({"errors": {"error": problems if len(problems) > 1 else problems[0]}},
                                     status=400)
        if form.get("preview") == "true":
            preview = fixture("docs_order_preview_equity.json")
            preview["order"].update({k: form[k] for k in ("symbol", "side", "type", "duration") if k in form})
            return web.json_response(preview)
        self._next_id += 1
        order_id = str(self._next_id)
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        legs = self._legs(form)
        first = legs[0] if legs else {}
        quantity = float(form.get("quantity") or first.get("quantity") or 0)
        order: dict[str, Any] = {
            "id": self._next_id, "type": form.get("type") or first.get("type"),
            "symbol": form.get("symbol") or first.get("symbol"), "side": form.get("side") or first.get("side"),
            "quantity": quantity, "status": "open", "duration": form.get("duration", "day"), "avg_fill_price": 0.0,
            "exec_quantity": 0.0, "remaining_quantity": quantity, "create_date": now, "transaction_date": now,
            "class": form["class"],
        }
        for source, target in (("price", "price"), ("stop", "stop_price"), ("option_symbol", "option_symbol"),
                               ("tag", "tag")):
            if source in form:
                order[target] = form[source]
        if legs:
            order["leg"] = legs
            order["num_legs"] = len(legs)
        self.orders[order_id] = order
        fault = request[_FAULT]
        assert fault is None or isinstance(fault, Fault)
        if fault is not None and fault.kind == "drop_after_accept":
            assert request.transport is not None
            request.transport.close()
            raise web.HTTPInternalServerError
        if fault is not None and fault.kind == "hang_after_accept":
            await asyncio.sleep(fault.delay)
        return web.json_response({"order": {"id": self._next_id, "status": "ok",
                                            "partner_id": "c4a1b2d3-partner"}})

    async def _modify(self, request: web.Request) -> web.Response:
        order = self.orders.get(request.match_info["order_id"])
        if order is None:
            return web.json_response({"errors": {"error": "Order not found"}}, status=400)
        form: dict[str, str] = request[_FORM]
        order.update({("stop_price" if k == "stop" else k): v for k, v in form.items()})
        return web.json_response({"order": {"id": order["id"], "status": "ok"}})

    async def _cancel(self, request: web.Request) -> web.Response:
        order = self.orders.get(request.match_info["order_id"])
        if order is None:
            return web.json_response({"errors": {"error": "Order not found"}}, status=400)
        order["status"] = "canceled"
        return web.json_response({"order": {"id": order["id"], "status": "ok"}})

    # -- markets ------------------------------------------------------------------------------------------

    async def _quotes(self, request: web.Request) -> web.Response:
        symbols = [s for s in request.query.get("symbols", "").split(",") if s]
        found = [self.quotes[s] for s in symbols if s in self.quotes]
        body = collection(found, "quotes", "quote")
        missing = [s for s in symbols if s not in self.quotes]
        if missing and isinstance(body["quotes"], dict):
            body["quotes"]["unmatched_symbols"] = {"symbol": missing[0] if len(missing) == 1 else missing}
        return await self._answer(request, lambda: body)

    async def _expirations(self, request: web.Request) -> web.Response:
        return await self._answer(request, lambda: collection(self.expirations, "expirations", "date"))

    async def _chain(self, request: web.Request) -> web.Response:
        symbol, expiration = request.query["symbol"], request.query["expiration"]
        stamp = expiration[2:4] + expiration[5:7] + expiration[8:10]

        def contract(kind: str, greeks: Any) -> dict[str, Any]:
            return {"symbol": f"{symbol}{stamp}{kind[0].upper()}00150000", "underlying": symbol, "strike": 150.0,
                    "option_type": kind, "expiration_date": expiration, "bid": 2.1, "ask": 2.2, "last": 2.15,
                    "bidsize": 10, "asksize": 12, "open_interest": 1200, "volume": 345, "prevclose": 2.0,
                    "greeks": greeks}

        greeks = {"delta": 0.52, "gamma": 0.04, "theta": -0.05, "vega": 0.12, "rho": 0.01, "phi": -0.01,
                  "bid_iv": 0.23, "mid_iv": 0.235, "ask_iv": 0.24, "smv_vol": 0.233,
                  "updated_at": "2024-06-03 14:00:00"}
        chain = [contract("call", greeks), contract("put", None)]
        for listed in chain:  # a listed contract is quoted too, as Tradier quotes any option it lists
            self.quotes.setdefault(listed["symbol"], {**fixture("rb_option_quote_single.json")["quotes"]["quote"],
                                                      **{k: listed[k] for k in ("symbol", "bid", "ask", "last",
                                                                                "strike", "open_interest", "volume")}})
        return await self._answer(request, lambda: {"options": {"option": chain}})

    async def _calendars(self, request: web.Request) -> web.Response:
        """The recorded example for each requested symbol (its `request` echoing the symbol); ETFs have none."""
        def build() -> Any:
            example = fixture("docs_fundamentals_calendars.json")[0]
            symbols = [s for s in request.query.get("symbols", "").split(",") if s]
            return [{**example, "request": s} if s not in ("SPY", "QQQ") else {"request": s, "type": "Symbol",
                                                                                 "results": []} for s in symbols]
        return await self._answer(request, build)

    async def _clock(self, request: web.Request) -> web.Response:
        return await self._answer(request, lambda: fixture("rb_markets_clock.json"))
