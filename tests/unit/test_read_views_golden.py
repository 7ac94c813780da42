"""Golden JSON: the typed journal entries and risk states serialize to the bytes the dicts they replaced sent.

GOLDEN holds those earlier bytes, pinned: REST (`json_response`, orjson, or msgspec for the risk route) and the
`/ws` `risk` event (`encode_event`). Where the typed value differs, the difference is declared here and nowhere
else (`CHANGES`): an `unknown` risk state (no broker, a failed read) has its keys in a computed state's order,
`usage` is an empty list like every other state's (it was an empty object), `cooldown_until` (null) and `warnings`
(empty) are added, and the heartbeat's unknown state gains the `status` key the risk engine's always had. What an
unknown state cannot know (equity, day P&L, evaluation time) stays out, as before.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import msgspec
import orjson
import pytest

from api.routers.risk import RiskResponse
from api.schemas import json_response
from core.domain.events import RiskEvent, encode_event
from core.domain.journal import JournalEntryView, JournalPage
from core.domain.risk import LimitUsage, RiskLimits, RiskState, TradingStatus
from core.domain.risk_view import RiskStateView
from core.services.journal import encode_cursor

T0 = datetime(2024, 6, 3, 14, 30, 11, 123000, tzinfo=UTC)
T1 = datetime(2024, 6, 3, 14, 31, tzinfo=UTC)
JOURNAL_ROWS = {  # in the repository's column order, as the database returns them
    "journal/plan": ("01J0ABCDEF", "plan", "Buy the pullback to 190 — \"tight\" stop", "AAPL", ["pullback", "swing"],
                     {"entry": "190.00", "stop": "185.5", "targets": ["200", "210"]}, "20-day holds", None,
                     "discord:42", T0, T1),
    "journal/note": ("01J0ABCDEG", "note", "=SUM(A1) is text", None, None, None, None, "228175", None, T0, T0),
}
HALTED = RiskState(
    TradingStatus.HALTED, ("daily loss limit reached: -$614.69 of -$500.00",),
    (LimitUsage("daily_loss", D("614.69"), D("500.00"), "$614.69 of $500.00 daily loss"),
     LimitUsage("trades", D("2"), D("10"), "2/10 trades")), RiskLimits(), D("49385.31"), D("-614.69"), T0,
    cooldown_until=T1, warnings=("no live price for DELL140118C00015000: not in the day P&L",))
ACTIVE = RiskState(TradingStatus.ACTIVE, (), (), RiskLimits(), D("50000.00"), D("0"), T0)

UNKNOWN_NOW = {"status": "unknown", "usage": [], "cooldown_until": None, "warnings": [], "state": "unknown"}
CHANGES: dict[str, dict[str, Any]] = {"risk/unknown": UNKNOWN_NOW, "risk/heartbeat": UNKNOWN_NOW}
ORDER = ("status", "reasons", "usage", "equity", "day_pnl", "evaluated_at", "cooldown_until", "warnings", "state",
         "how_to_enable")


def journal_views() -> dict[str, Any]:
    entries = {name: JournalEntryView.of(row) for name, row in JOURNAL_ROWS.items()}
    page = (entries["journal/plan"], entries["journal/note"])
    return {**entries, "journal/page": JournalPage(page, encode_cursor(page[-1]))}


def risk_views() -> dict[str, RiskStateView]:
    return {
        "risk/halted": RiskStateView.of(HALTED),
        "risk/active": RiskStateView.of(ACTIVE),
        "risk/unknown": RiskStateView.unknown("broker read failed: Tradier GET balances: server error 500",
                                              "the risk engine retries every RISK_EVAL_SEC"),
        "risk/heartbeat": RiskStateView.unknown("broker not configured: TRADIER_ACCESS_TOKEN is not set",
                                                "set TRADIER_ACCESS_TOKEN and restart"),
    }


def expected_state(name: str) -> dict[str, Any]:
    """The earlier state with the declared differences applied, its keys in the type's order."""
    before = orjson.loads(GOLDEN[f"{name}/event"])["state"]
    state = {**before, **CHANGES.get(name, {})}
    return {key: state[key] for key in ORDER if key in state}


@pytest.mark.parametrize("name", [*sorted(JOURNAL_ROWS), "journal/page"])
def test_a_journal_entry_sends_the_earlier_bytes(name: str) -> None:
    assert bytes(json_response(journal_views()[name]).body) == GOLDEN[name]


@pytest.mark.parametrize("name", ["risk/halted", "risk/active"])
def test_a_computed_risk_state_keeps_its_event_and_rest_bytes(name: str) -> None:
    view = risk_views()[name]
    assert encode_event(RiskEvent(state=view)) == GOLDEN[f"{name}/event"]
    assert msgspec.json.encode(RiskResponse(view)) == GOLDEN[f"{name}/rest"]


@pytest.mark.parametrize("name", ["risk/unknown", "risk/heartbeat"])
def test_an_unknown_risk_state_differs_only_as_declared(name: str) -> None:
    view = risk_views()[name]
    event = orjson.loads(encode_event(RiskEvent(state=view)))
    assert list(event["state"].items()) == list(expected_state(name).items())  # same keys, in this order
    assert "equity" not in event["state"] and "evaluated_at" not in event["state"]
    assert orjson.loads(msgspec.json.encode(RiskResponse(view))) == {"state": event["state"]}


def test_a_risk_event_decodes_back_to_the_same_view() -> None:
    """The Redis bus carries events between processes: what one encodes, the other reads as the same value."""
    for view in risk_views().values():
        decoded = msgspec.json.decode(encode_event(RiskEvent(state=view)), type=RiskEvent)
        assert decoded.state == view
    assert risk_views()["risk/halted"].usage[0].used == D("614.69")  # decoded Decimals keep their text


GOLDEN: dict[str, bytes] = {
    'journal/note': (
        b'{"id":"01J0ABCDEG","kind":"note","body":"=SUM(A1) is text","symbol":null,"tags":[],"plan":'
        b'null,"rationale":null,"order_id":"228175","actor":null,"created_at":"2024-06-03T14:30:11.1'
        b'23000+00:00","updated_at":"2024-06-03T14:30:11.123000+00:00"}'
    ),
    'journal/page': (
        b'{"items":[{"id":"01J0ABCDEF","kind":"plan","body":"Buy the pullback to 190 \xe2\x80\x94 \\"tight\\" s'
        b'top","symbol":"AAPL","tags":["pullback","swing"],"plan":{"entry":"190.00","stop":"185.5","'
        b'targets":["200","210"]},"rationale":"20-day holds","order_id":null,"actor":"discord:42","c'
        b'reated_at":"2024-06-03T14:30:11.123000+00:00","updated_at":"2024-06-03T14:31:00+00:00"},{"'
        b'id":"01J0ABCDEG","kind":"note","body":"=SUM(A1) is text","symbol":null,"tags":[],"plan":nu'
        b'll,"rationale":null,"order_id":"228175","actor":null,"created_at":"2024-06-03T14:30:11.123'
        b'000+00:00","updated_at":"2024-06-03T14:30:11.123000+00:00"}],"next_cursor":"MjAyNC0wNi0wM1'
        b'QxNDozMDoxMS4xMjMwMDArMDA6MDB8MDFKMEFCQ0RFRw"}'
    ),
    'journal/plan': (
        b'{"id":"01J0ABCDEF","kind":"plan","body":"Buy the pullback to 190 \xe2\x80\x94 \\"tight\\" stop","symb'
        b'ol":"AAPL","tags":["pullback","swing"],"plan":{"entry":"190.00","stop":"185.5","targets":['
        b'"200","210"]},"rationale":"20-day holds","order_id":null,"actor":"discord:42","created_at"'
        b':"2024-06-03T14:30:11.123000+00:00","updated_at":"2024-06-03T14:31:00+00:00"}'
    ),
    'risk/active/event': (
        b'{"type":"risk","state":{"status":"ACTIVE","reasons":[],"usage":[],"equity":"50000.00","day'
        b'_pnl":"0","evaluated_at":"2024-06-03T14:30:11.123000+00:00","cooldown_until":null,"warning'
        b's":[],"state":"ACTIVE"}}'
    ),
    'risk/active/rest': (
        b'{"state":{"status":"ACTIVE","reasons":[],"usage":[],"equity":"50000.00","day_pnl":"0","eva'
        b'luated_at":"2024-06-03T14:30:11.123000+00:00","cooldown_until":null,"warnings":[],"state":'
        b'"ACTIVE"}}'
    ),
    'risk/halted/event': (
        b'{"type":"risk","state":{"status":"HALTED","reasons":["daily loss limit reached: -$614.69 o'
        b'f -$500.00"],"usage":[{"name":"daily_loss","used":"614.69","limit":"500.00","text":"$614.6'
        b'9 of $500.00 daily loss"},{"name":"trades","used":"2","limit":"10","text":"2/10 trades"}],'
        b'"equity":"49385.31","day_pnl":"-614.69","evaluated_at":"2024-06-03T14:30:11.123000+00:00",'
        b'"cooldown_until":"2024-06-03T14:31:00+00:00","warnings":["no live price for DELL140118C000'
        b'15000: not in the day P&L"],"state":"HALTED"}}'
    ),
    'risk/halted/rest': (
        b'{"state":{"status":"HALTED","reasons":["daily loss limit reached: -$614.69 of -$500.00"],"'
        b'usage":[{"name":"daily_loss","used":"614.69","limit":"500.00","text":"$614.69 of $500.00 d'
        b'aily loss"},{"name":"trades","used":"2","limit":"10","text":"2/10 trades"}],"equity":"4938'
        b'5.31","day_pnl":"-614.69","evaluated_at":"2024-06-03T14:30:11.123000+00:00","cooldown_unti'
        b'l":"2024-06-03T14:31:00+00:00","warnings":["no live price for DELL140118C00015000: not in '
        b'the day P&L"],"state":"HALTED"}}'
    ),
    'risk/heartbeat/event': (
        b'{"type":"risk","state":{"state":"unknown","reasons":["broker not configured: TRADIER_ACCES'
        b'S_TOKEN is not set"],"how_to_enable":"set TRADIER_ACCESS_TOKEN and restart","usage":{}}}'
    ),
    'risk/unknown/event': (
        b'{"type":"risk","state":{"state":"unknown","status":"unknown","reasons":["broker read faile'
        b'd: Tradier GET balances: server error 500"],"how_to_enable":"the risk engine retries every'
        b' RISK_EVAL_SEC","usage":{}}}'
    ),
    'risk/unknown/rest': (
        b'{"state":{"state":"unknown","status":"unknown","reasons":["broker read failed: Tradier GET'
        b' balances: server error 500"],"how_to_enable":"the risk engine retries every RISK_EVAL_SEC'
        b'","usage":{}}}'
    ),
}
