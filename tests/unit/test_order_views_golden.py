"""Golden JSON: the typed order views (positions, previews, broker orders, the account, risk decisions, intents
and blotter rows) serialize to the bytes the dict views they replaced sent, for Tradier's recorded responses.

GOLDEN holds those earlier bytes, pinned. Both encoders a client meets are checked: the REST one
(`api.schemas.json_response`, orjson) and the `/ws` one (`encode_event`, msgspec). Where the typed value says more
than the dict did, the difference is declared here and nowhere else (`CHANGES`): a broker order's `class` is
`order_class` (a field cannot be named `class`), a risk decision always names all five of its fields, and a blotter
row for a broker order carries the intent-only `action`/`expires_at` as null.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from api.schemas import json_response
from core.adapters.tradier.wire import decode, order_from, parse_balances, parse_positions, parse_preview
from core.db.models import OrderIntentRow
from core.domain.events import OrdersEvent, PositionsEvent, encode_event
from core.domain.order_views import (
    Account,
    AccountOrder,
    BrokerOrderView,
    LinkedPlan,
    RiskDecision,
    position_items,
)
from core.domain.orders import BrokerOrder
from core.domain.risk import Approved, Denied
from core.services.order_views import blotter, intent_view

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tradier"
T0 = datetime(2024, 6, 3, 14, 30, 11, 123000, tzinfo=UTC)
T1 = datetime(2024, 6, 3, 14, 31, tzinfo=UTC)

# Orders in the shape Tradier's "Get an individual order" documents (no recording of one is kept).
ORDERS: dict[str, dict[str, Any]] = {
    "equity_limit_working": {
        "id": 228175, "type": "limit", "symbol": "AAPL", "side": "buy", "quantity": 50.0, "status": "open",
        "duration": "pre", "price": 22.0, "avg_fill_price": 0.0, "exec_quantity": 0.0, "last_fill_price": 0.0,
        "last_fill_quantity": 0.0, "remaining_quantity": 50.0, "create_date": "2018-06-01T12:02:29.682Z",
        "transaction_date": "2018-06-01T12:30:02.385Z", "class": "equity", "tag": "01HZX7Q2M3"},
    "option_stop_rejected": {
        "id": 228176, "type": "stop", "symbol": "SPY", "option_symbol": "SPY180720C00274000", "side": "sell_to_close",
        "quantity": 2.0, "status": "rejected", "duration": "gtc", "stop_price": 1.05, "avg_fill_price": 0.0,
        "exec_quantity": 0.0, "remaining_quantity": 0.0, "create_date": "2018-06-06T20:16:17.342Z",
        "transaction_date": "2018-06-06T20:16:17.357Z", "class": "option",
        "reason_description": "Insufficient position"},
    "multileg_filled": {
        "id": 229063, "type": "debit", "symbol": "SPY", "side": "buy", "quantity": 1.0, "status": "filled",
        "duration": "day", "price": 1.25, "avg_fill_price": 1.2, "exec_quantity": 1.0,
        "create_date": "2018-06-12T21:13:36.076Z", "transaction_date": "2018-06-12T21:18:41.604Z",
        "class": "multileg", "num_legs": 2, "leg": [
            {"id": 229064, "type": "debit", "symbol": "SPY", "side": "buy_to_open", "quantity": 1.0,
             "status": "filled", "duration": "day", "avg_fill_price": 3.1, "exec_quantity": 1.0,
             "option_symbol": "SPY180720C00274000", "create_date": "2018-06-12T21:13:36.076Z",
             "transaction_date": "2018-06-12T21:18:41.587Z", "class": "option"},
            {"id": 229065, "type": "debit", "symbol": "SPY", "side": "sell_to_open", "quantity": 1.0,
             "status": "filled", "duration": "day", "avg_fill_price": 1.9, "exec_quantity": 1.0,
             "option_symbol": "SPY180720C00275000", "create_date": "2018-06-12T21:13:36.076Z",
             "transaction_date": "2018-06-12T21:18:41.597Z", "class": "option"}]},
}

RENAMED = {"class": "order_class"}  # in broker orders only
CHANGES: dict[str, dict[str, Any]] = {
    "risk/approved": {"code": None},
    "risk/reducing": {"code": None},
    "risk/denied": {"reducing": None, "notional": None},
    "intent/place": {"risk": {"code": None}},
    "blotter/order": {"action": None, "expires_at": None},
}


def fixture(name: str) -> Any:
    return decode((FIXTURES / name).read_bytes())


def order(name: str) -> BrokerOrder:
    parsed = order_from(ORDERS[name])
    assert parsed is not None
    return parsed


def rest(value: Any) -> bytes:
    return bytes(json_response(value).body)


def views() -> dict[str, Any]:
    """Every view under test, from the recorded responses and the documented order shapes."""
    positions = parse_positions(fixture("docs_positions_multi.json"))
    prices = {"AAPL": D("192.44"), "AMZN": D("1820.5"), "GE": D("9.1")}
    plans = {"AAPL": LinkedPlan(D("190.00"), D("185.5"))}  # AMZN's journal plan has no usable entry: not linked
    preview = parse_preview(fixture("docs_order_preview_equity.json")).view()
    working = order("equity_limit_working")
    row = OrderIntentRow(
        id="01HZX7Q2M3", action="place", actor="discord:42", status="SUBMITTED",
        order={"symbol": "AAPL", "side": "buy", "quantity": "50", "type": "limit", "duration": "pre",
               "class": "equity", "price": "22.00"}, order_hash="ab" * 32, target_order_id=None,
        preview=orjson.loads(GOLDEN["preview/equity"]), risk=orjson.loads(GOLDEN["risk/approved"]),
        reference_price=D("21.98"), rationale="pullback to the 20-day", source="discord", broker_order_id="228175",
        error=None, created_at=T0, expires_at=T1, updated_at=T1)
    order_row = SimpleNamespace(
        id="228175", intent_id="01HZX7Q2M3", symbol="AAPL", side="buy", quantity=D("50.00000000"), type="limit",
        status="open", manual=False, tag="01HZX7Q2M3", payload=orjson.loads(GOLDEN["order/equity_limit_working"]),
        created_at=T0, updated_at=T1)
    pending = SimpleNamespace(
        id="01HZX7Q2M4", action="replace", status="PENDING", target_order_id="228176", broker_order_id=None,
        order={"changes": {"stop": "1.10"}, "result": {"symbol": "SPY", "side": "sell_to_close", "quantity": "2",
                                                       "type": "stop", "stop": "1.10", "duration": "gtc",
                                                       "option_symbol": "SPY180720C00274000"}},
        error=None, created_at=T0, updated_at=T0, expires_at=T1)
    return {
        "positions/docs": position_items(positions, prices, plans),
        "positions/rb": position_items(parse_positions(fixture("rb_account_positions_multi_list.json")), {}, {}),
        "preview/equity": preview,
        **{f"order/{name}": BrokerOrderView.of(order(name)) for name in ORDERS},
        "account_orders": [AccountOrder.listed(order(name), {"01HZX7Q2M3"}) for name in ORDERS],
        "account": Account("PAPER", *_balances()),
        "risk/approved": RiskDecision.of(Approved(False, D("1100.00"))),
        "risk/reducing": RiskDecision.of(Approved(True)),
        "risk/denied": RiskDecision.of(Denied("halted", "daily loss limit reached: -$2,000.00 of -$2,000.00")),
        "intent/place": intent_view(row, "PAPER"),
        "blotter/order": blotter([order_row], [])[0],
        "blotter/intent": blotter([], [pending])[0],
        "working": working,
    }


def _balances() -> tuple[D, D, D, D, D, str]:
    body = {"balances": {"total_equity": 17798.36, "total_cash": 6100.51, "close_pl": -120.5, "open_pl": 22.0,
                         "account_type": "margin", "margin": {"stock_buying_power": 35597.42}}}
    b = parse_balances(body)
    return b.equity, b.buying_power, b.cash, b.realized_pnl_today, b.unrealized_pnl, b.account_type


def expected(name: str) -> Any:
    """The earlier body with the declared differences applied."""
    def rename(value: Any) -> Any:
        if isinstance(value, dict):
            return {RENAMED.get(k, k): rename(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rename(v) for v in value]
        return value

    body = orjson.loads(GOLDEN[name])
    if name.startswith(("order/", "account_orders")):  # broker orders (and their legs); not stored order documents
        body = rename(body)
    for key, added in CHANGES.get(name, {}).items():
        body[key] = {**body[key], **added} if isinstance(added, dict) else added
    return body


@pytest.mark.parametrize("name", sorted(k for k in [
    "positions/docs", "positions/rb", "preview/equity", *(f"order/{n}" for n in ORDERS), "account_orders",
    "account", "risk/approved", "risk/reducing", "risk/denied", "intent/place", "blotter/order", "blotter/intent"]))
def test_the_typed_view_sends_the_earlier_json(name: str) -> None:
    view = views()[name]
    body = orjson.loads(rest(view))
    assert body == expected(name)
    if name not in CHANGES and not name.startswith(("order/", "account_orders")):
        assert rest(view) == GOLDEN[name]  # byte for byte: same keys, same order, same number text


def test_events_encode_the_same_items_as_rest() -> None:
    items = views()
    positions, row = items["positions/docs"], items["blotter/order"]
    event = orjson.loads(encode_event(PositionsEvent(items=positions)))
    assert event == {"type": "positions", "items": orjson.loads(rest(positions))}
    assert orjson.loads(encode_event(OrdersEvent(items=[row])))["items"] == [expected("blotter/order")]


def test_values_keep_their_exact_text() -> None:
    items = views()
    aapl = items["positions/docs"][0]
    assert aapl.plan is not None and aapl.r_multiple == D("0.54")  # (192.44 - 190) / (190 - 185.5)
    assert orjson.loads(rest(aapl))["cost_basis"] == "207.01"  # as recorded, never re-rounded
    assert items["preview/equity"].estimated_cost == D("31.225100000000")


GOLDEN: dict[str, bytes] = {
    'account': (
        b'{"mode":"PAPER","equity":"17798.36","buying_power":"35597.42","cash":"6100.51","realized_pnl_today":'
        b'"-120.5","unrealized_pnl":"22.0","account_type":"margin"}'
    ),
    'account_orders': (
        b'[{"id":"228175","symbol":"AAPL","side":"buy","quantity":"50.0","type":"limit","status":"open","durat'
        b'ion":"pre","price":"22.0","stop":null,"avg_fill_price":"0.0","exec_quantity":"0","remaining_quantity'
        b'":"50.0","tag":"01HZX7Q2M3","option_symbol":null,"class":"equity","reason":null,"created_at":"2018-0'
        b'6-01T12:02:29.682000+00:00","updated_at":"2018-06-01T12:30:02.385000+00:00","legs":[],"intent_id":"0'
        b'1HZX7Q2M3","manual":false,"working":true},{"id":"228176","symbol":"SPY","side":"sell_to_close","quan'
        b'tity":"2.0","type":"stop","status":"rejected","duration":"gtc","price":null,"stop":"1.05","avg_fill_'
        b'price":"0.0","exec_quantity":"0","remaining_quantity":"0.0","tag":null,"option_symbol":"SPY180720C00'
        b'274000","class":"option","reason":"Insufficient position","created_at":"2018-06-06T20:16:17.342000+0'
        b'0:00","updated_at":"2018-06-06T20:16:17.357000+00:00","legs":[],"intent_id":null,"manual":true,"work'
        b'ing":false},{"id":"229063","symbol":"SPY","side":"buy","quantity":"1.0","type":"debit","status":"fil'
        b'led","duration":"day","price":"1.25","stop":null,"avg_fill_price":"1.2","exec_quantity":"1.0","remai'
        b'ning_quantity":null,"tag":null,"option_symbol":null,"class":"multileg","reason":null,"created_at":"2'
        b'018-06-12T21:13:36.076000+00:00","updated_at":"2018-06-12T21:18:41.604000+00:00","legs":[{"id":"2290'
        b'64","symbol":"SPY","side":"buy_to_open","quantity":"1.0","type":"debit","status":"filled","duration"'
        b':"day","price":null,"stop":null,"avg_fill_price":"3.1","exec_quantity":"1.0","remaining_quantity":nu'
        b'll,"tag":null,"option_symbol":"SPY180720C00274000","class":"option","reason":null,"created_at":"2018'
        b'-06-12T21:13:36.076000+00:00","updated_at":"2018-06-12T21:18:41.587000+00:00","legs":[]},{"id":"2290'
        b'65","symbol":"SPY","side":"sell_to_open","quantity":"1.0","type":"debit","status":"filled","duration'
        b'":"day","price":null,"stop":null,"avg_fill_price":"1.9","exec_quantity":"1.0","remaining_quantity":n'
        b'ull,"tag":null,"option_symbol":"SPY180720C00275000","class":"option","reason":null,"created_at":"201'
        b'8-06-12T21:13:36.076000+00:00","updated_at":"2018-06-12T21:18:41.597000+00:00","legs":[]}],"intent_i'
        b'd":null,"manual":true,"working":false}]'
    ),
    'blotter/intent': (
        b'{"id":"228176","intent_id":"01HZX7Q2M4","action":"replace","symbol":"SPY","side":"sell_to_close","qu'
        b'antity":"2","type":"stop","status":"pending","intent_status":"PENDING","manual":false,"working":fals'
        b'e,"price":null,"stop":"1.10","duration":"gtc","option_symbol":"SPY180720C00274000","filled_quantity"'
        b':null,"avg_fill_price":null,"reason":null,"tag":null,"created_at":"2024-06-03T14:30:11.123000+00:00"'
        b',"updated_at":"2024-06-03T14:30:11.123000+00:00","expires_at":"2024-06-03T14:31:00+00:00"}'
    ),
    'blotter/order': (
        b'{"id":"228175","intent_id":"01HZX7Q2M3","symbol":"AAPL","side":"buy","quantity":"50.00000000","type"'
        b':"limit","status":"open","intent_status":null,"manual":false,"working":true,"price":"22.0","stop":nu'
        b'll,"duration":"pre","option_symbol":null,"filled_quantity":"0","avg_fill_price":"0.0","reason":null,'
        b'"tag":"01HZX7Q2M3","created_at":"2018-06-01T12:02:29.682000+00:00","updated_at":"2024-06-03T14:31:00'
        b'+00:00"}'
    ),
    'intent/place': (
        b'{"id":"01HZX7Q2M3","action":"place","actor":"discord:42","status":"SUBMITTED","order":{"symbol":"AAP'
        b'L","side":"buy","quantity":"50","type":"limit","duration":"pre","class":"equity","price":"22.00"},"o'
        b'rder_hash":"abababababababababababababababababababababababababababababababab","target_order_id":null'
        b',"preview":{"ok":true,"cost":"34.715100000000","commission":"3.49000000","fees":"0","order_cost":"31'
        b'.225100000000","margin_change":"0","buying_power_effect":null,"day_trades":3,"warnings":[]},"risk":{'
        b'"decision":"approved","reducing":false,"notional":"1100.00","reason":"within every limit"},"referenc'
        b'e_price":"21.98","rationale":"pullback to the 20-day","source":"discord","broker_order_id":"228175",'
        b'"error":null,"created_at":"2024-06-03T14:30:11.123000+00:00","expires_at":"2024-06-03T14:31:00+00:00'
        b'","updated_at":"2024-06-03T14:31:00+00:00","mode":"PAPER"}'
    ),
    'order/equity_limit_working': (
        b'{"id":"228175","symbol":"AAPL","side":"buy","quantity":"50.0","type":"limit","status":"open","durati'
        b'on":"pre","price":"22.0","stop":null,"avg_fill_price":"0.0","exec_quantity":"0","remaining_quantity"'
        b':"50.0","tag":"01HZX7Q2M3","option_symbol":null,"class":"equity","reason":null,"created_at":"2018-06'
        b'-01T12:02:29.682000+00:00","updated_at":"2018-06-01T12:30:02.385000+00:00","legs":[]}'
    ),
    'order/multileg_filled': (
        b'{"id":"229063","symbol":"SPY","side":"buy","quantity":"1.0","type":"debit","status":"filled","durati'
        b'on":"day","price":"1.25","stop":null,"avg_fill_price":"1.2","exec_quantity":"1.0","remaining_quantit'
        b'y":null,"tag":null,"option_symbol":null,"class":"multileg","reason":null,"created_at":"2018-06-12T21'
        b':13:36.076000+00:00","updated_at":"2018-06-12T21:18:41.604000+00:00","legs":[{"id":"229064","symbol"'
        b':"SPY","side":"buy_to_open","quantity":"1.0","type":"debit","status":"filled","duration":"day","pric'
        b'e":null,"stop":null,"avg_fill_price":"3.1","exec_quantity":"1.0","remaining_quantity":null,"tag":nul'
        b'l,"option_symbol":"SPY180720C00274000","class":"option","reason":null,"created_at":"2018-06-12T21:13'
        b':36.076000+00:00","updated_at":"2018-06-12T21:18:41.587000+00:00","legs":[]},{"id":"229065","symbol"'
        b':"SPY","side":"sell_to_open","quantity":"1.0","type":"debit","status":"filled","duration":"day","pri'
        b'ce":null,"stop":null,"avg_fill_price":"1.9","exec_quantity":"1.0","remaining_quantity":null,"tag":nu'
        b'll,"option_symbol":"SPY180720C00275000","class":"option","reason":null,"created_at":"2018-06-12T21:1'
        b'3:36.076000+00:00","updated_at":"2018-06-12T21:18:41.597000+00:00","legs":[]}]}'
    ),
    'order/option_stop_rejected': (
        b'{"id":"228176","symbol":"SPY","side":"sell_to_close","quantity":"2.0","type":"stop","status":"reject'
        b'ed","duration":"gtc","price":null,"stop":"1.05","avg_fill_price":"0.0","exec_quantity":"0","remainin'
        b'g_quantity":"0.0","tag":null,"option_symbol":"SPY180720C00274000","class":"option","reason":"Insuffi'
        b'cient position","created_at":"2018-06-06T20:16:17.342000+00:00","updated_at":"2018-06-06T20:16:17.35'
        b'7000+00:00","legs":[]}'
    ),
    'positions/docs': (
        b'[{"symbol":"AAPL","quantity":"1.00000000","cost_basis":"207.01","average_price":"207.01","last":"192'
        b'.44","market_value":"192.44","unrealized_pnl":"-14.57","unrealized_pct":"-7.04","kind":"equity","sid'
        b'e":"long","opened_at":"2018-08-08T14:41:11.405000+00:00","plan":{"entry":"190.00","stop":"185.5"},"r'
        b'_multiple":"0.54"},{"symbol":"AMZN","quantity":"1.00000000","cost_basis":"1870.70","average_price":"'
        b'1870.70","last":"1820.5","market_value":"1820.50","unrealized_pnl":"-50.20","unrealized_pct":"-2.68"'
        b',"kind":"equity","side":"long","opened_at":"2018-08-08T14:42:00.774000+00:00","plan":null,"r_multipl'
        b'e":null},{"symbol":"CAH","quantity":"1.00000000","cost_basis":"50.41","average_price":"50.41","last"'
        b':null,"market_value":null,"unrealized_pnl":null,"unrealized_pct":null,"kind":"equity","side":"long",'
        b'"opened_at":"2019-01-31T17:05:44.674000+00:00","plan":null,"r_multiple":null},{"symbol":"FB","quanti'
        b'ty":"1.00000000","cost_basis":"173.04","average_price":"173.04","last":null,"market_value":null,"unr'
        b'ealized_pnl":null,"unrealized_pct":null,"kind":"equity","side":"long","opened_at":"2019-03-11T16:51:'
        b'51.987000+00:00","plan":null,"r_multiple":null},{"symbol":"GE","quantity":"1.00000000","cost_basis":'
        b'"9.87","average_price":"9.87","last":"9.1","market_value":"9.10","unrealized_pnl":"-0.77","unrealize'
        b'd_pct":"-7.80","kind":"equity","side":"long","opened_at":"2019-03-11T16:50:33.156000+00:00","plan":n'
        b'ull,"r_multiple":null},{"symbol":"IBM","quantity":"13.00000000","cost_basis":"1772.54","average_pric'
        b'e":"136.35","last":null,"market_value":null,"unrealized_pnl":null,"unrealized_pct":null,"kind":"equi'
        b'ty","side":"long","opened_at":"2018-06-05T13:45:12.385000+00:00","plan":null,"r_multiple":null},{"sy'
        b'mbol":"MSFT","quantity":"3.00000000","cost_basis":"338.64","average_price":"112.88","last":null,"mar'
        b'ket_value":null,"unrealized_pnl":null,"unrealized_pct":null,"kind":"equity","side":"long","opened_at'
        b'":"2019-03-11T16:50:55.774000+00:00","plan":null,"r_multiple":null}]'
    ),
    'positions/rb': (
        b'[{"symbol":"AAPL","quantity":"21.0","cost_basis":"9847.3500000000004","average_price":"468.92","last'
        b'":null,"market_value":null,"unrealized_pnl":null,"unrealized_pct":null,"kind":"equity","side":"long"'
        b',"opened_at":"2013-08-12T20:09:01.437000+00:00","plan":null,"r_multiple":null},{"symbol":"DELL140118'
        b'C00015000","quantity":"-1.0","cost_basis":"-2.0","average_price":"0.02","last":null,"market_value":n'
        b'ull,"unrealized_pnl":null,"unrealized_pct":null,"kind":"option","side":"short","opened_at":"2013-08-'
        b'13T18:37:49.927000+00:00","plan":null,"r_multiple":null}]'
    ),
    'preview/equity': (
        b'{"ok":true,"cost":"34.715100000000","commission":"3.49000000","fees":"0","order_cost":"31.2251000000'
        b'00","margin_change":"0","buying_power_effect":null,"day_trades":3,"warnings":[]}'
    ),
    'risk/approved': (
        b'{"decision":"approved","reducing":false,"notional":"1100.00","reason":"within every limit"}'
    ),
    'risk/denied': (
        b'{"decision":"denied","code":"halted","reason":"daily loss limit reached: -$2,000.00 of -$2,000.00"}'
    ),
    'risk/reducing': (
        b'{"decision":"approved","reducing":true,"notional":null,"reason":"reduces an open position"}'
    ),
}
