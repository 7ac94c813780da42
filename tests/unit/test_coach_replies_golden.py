"""Golden JSON: a coach reply as the typed `CoachReply` serializes to the bytes its `to_dict` sent (REST, through
`api.schemas.json_response`), its assistant message stores the same `payload` column, and a conversation read back
(`CoachConversationView`: a user message without the reply's keys, an assistant message with them) answers the
bytes the dict view did. The pinned bytes were produced by the dict views; nothing changed. The drafts' button
payloads and the quote tool's result (the model's wire format) keep their shapes too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import orjson

from api.schemas import json_response
from core.domain.coach import (
    AlertDraft,
    ChecklistStage,
    ChecklistStep,
    DraftedIntent,
    Source,
    Suggestion,
    SuggestionAction,
    SuggestionKind,
    execution_checklist,
)
from core.domain.coach_replies import (
    CoachConversationView,
    CoachMessageView,
    CoachReply,
    ToolUse,
    conversation_json,
    json_ready,
    stored_turn,
)
from core.domain.confidence import Adjustment, Confidence, Factor
from core.domain.market import Quote
from core.domain.orders import OrderClass, OrderDuration, OrderRequest, OrderSide, OrderType
from core.services.coach_tools import QuoteFact

AS_OF = datetime(2024, 6, 21, 14, 30, 5, 250000, tzinfo=UTC)
QUOTE = Source("quote", "polygon:snapshot", AS_OF)
DRAFT = Source("draft_order", "orders:propose", datetime(2024, 6, 21, 14, 31, tzinfo=timezone(timedelta(hours=-4))))
FACTORS = (Factor("plan_quality", 0.8, 0.35, "R:R 2.0"), Factor("data_freshness", 1.0, 0.25, "quote 5s old"))
CONF = Confidence(0.7, 0.62, FACTORS, Adjustment(0.1, 0.08, "momentum",
                                                  "LLM adjusted confidence by +0.08: momentum"))
ORDER = Suggestion("Review and confirm (or cancel) the drafted intent: buy 10 SPY limit at 512.30. Nothing was placed.",
                   SuggestionKind.ORDER, CONF, "breakout; plan quality: R:R 2.0", (DRAFT, QUOTE),
                   SuggestionAction("order_intent", "intent1", {"symbol": "SPY", "side": "buy", "quantity": "10",
                                                                "type": "limit", "price": "512.30", "token": "tok"}))
ALERT = Suggestion("Alert when SPY is above 515", SuggestionKind.ALERT, Confidence(0.5, 0.5, ()), "", (),
                   SuggestionAction("alert_draft", None, {"symbol": "SPY", "condition": "price_above", "level": "515",
                                                          "channels": ["ws"]}))
INFO = Suggestion("SPY last 512.3 (bid 512.29 / ask 512.31) — é", SuggestionKind.INFO, Confidence(0.0, 0.0, ()), "",
                  (QUOTE,))
CHECKLIST = execution_checklist({ChecklistStage.PLAN: ChecklistStep(ChecklistStage.PLAN, "Plan valid", "done")})

REPLY = (
    '{"conversation_id":"conv1","content":"Plan looks fine.","suggestions":[{"text":"Review and confirm (or c'
    'ancel) the drafted intent: buy 10 SPY limit at 512.30. Nothing was placed.","kind":"order","confidence":'
    '{"score":0.7,"base":0.62,"factors":[{"name":"plan_quality","value":0.8,"weight":0.35,"explanation":"R:R '
    '2.0"},{"name":"data_freshness","value":1.0,"weight":0.25,"explanation":"quote 5s old"}],"adjustment":{"r'
    'equested":0.1,"applied":0.08,"reason":"momentum","label":"LLM adjusted confidence by +0.08: momentum"}},'
    '"rationale":"breakout; plan quality: R:R 2.0","sources":[{"tool":"draft_order","endpoint":"orders:propos'
    'e","as_of":"2024-06-21T14:31:00-04:00"},{"tool":"quote","endpoint":"polygon:snapshot","as_of":"2024-06-2'
    '1T14:30:05.250000+00:00"}],"action":{"kind":"order_intent","ref":"intent1","payload":{"symbol":"SPY","si'
    'de":"buy","quantity":"10","type":"limit","price":"512.30","token":"tok"}}},{"text":"Alert when SPY is ab'
    'ove 515","kind":"alert","confidence":{"score":0.5,"base":0.5,"factors":[],"adjustment":null},"rationale"'
    ':"","sources":[],"action":{"kind":"alert_draft","ref":null,"payload":{"symbol":"SPY","condition":"price_'
    'above","level":"515","channels":["ws"]}}}],"sources":[{"tool":"quote","endpoint":"polygon:snapshot","as_'
    'of":"2024-06-21T14:30:05.250000+00:00"},{"tool":"draft_order","endpoint":"orders:propose","as_of":"2024-'
    '06-21T14:31:00-04:00"}],"unverified_numbers":["513.5"],"checklist":[{"stage":"plan","text":"Plan valid",'
    '"status":"done"},{"stage":"size","text":"Size the position from the risk per share","status":"todo"},{"s'
    'tage":"risk_check","text":"Pass the risk check against today\'s limits","status":"todo"},{"stage":"alert_'
    'or_order","text":"Set an alert at the entry or draft the order, then confirm it yourself","status":"todo'
    '"},{"stage":"management","text":"Manage the trade: stop in place, scale out at targets, journal the resu'
    'lt","status":"todo"}],"tools":[{"name":"quote","ok":true},{"name":"draft_order","ok":false}],"notes":["n'
    'o tools used"]}')

BARE = (
    '{"conversation_id":"conv2","content":"SPY is at 512.3.","suggestions":[{"text":"SPY last 512.3 (bid 512.'
    '29 / ask 512.31) — é","kind":"info","confidence":{"score":0.0,"base":0.0,"factors":[],"adjustment":null}'
    ',"rationale":"","sources":[{"tool":"quote","endpoint":"polygon:snapshot","as_of":"2024-06-21T14:30:05.25'
    '0000+00:00"}],"action":null}],"sources":[{"tool":"quote","endpoint":"polygon:snapshot","as_of":"2024-06-'
    '21T14:30:05.250000+00:00"}],"unverified_numbers":[],"checklist":null,"tools":[],"notes":[]}')

PAYLOAD = (
    '{"suggestions":[{"text":"Review and confirm (or cancel) the drafted intent: buy 10 SPY limit at 512.30. '
    'Nothing was placed.","kind":"order","confidence":{"score":0.7,"base":0.62,"factors":[{"name":"plan_quali'
    'ty","value":0.8,"weight":0.35,"explanation":"R:R 2.0"},{"name":"data_freshness","value":1.0,"weight":0.2'
    '5,"explanation":"quote 5s old"}],"adjustment":{"requested":0.1,"applied":0.08,"reason":"momentum","label'
    '":"LLM adjusted confidence by +0.08: momentum"}},"rationale":"breakout; plan quality: R:R 2.0","sources"'
    ':[{"tool":"draft_order","endpoint":"orders:propose","as_of":"2024-06-21T14:31:00-04:00"},{"tool":"quote"'
    ',"endpoint":"polygon:snapshot","as_of":"2024-06-21T14:30:05.250000+00:00"}],"action":{"kind":"order_inte'
    'nt","ref":"intent1","payload":{"symbol":"SPY","side":"buy","quantity":"10","type":"limit","price":"512.3'
    '0","token":"tok"}}},{"text":"Alert when SPY is above 515","kind":"alert","confidence":{"score":0.5,"base'
    '":0.5,"factors":[],"adjustment":null},"rationale":"","sources":[],"action":{"kind":"alert_draft","ref":n'
    'ull,"payload":{"symbol":"SPY","condition":"price_above","level":"515","channels":["ws"]}}}],"sources":[{'
    '"tool":"quote","endpoint":"polygon:snapshot","as_of":"2024-06-21T14:30:05.250000+00:00"},{"tool":"draft_'
    'order","endpoint":"orders:propose","as_of":"2024-06-21T14:31:00-04:00"}],"unverified_numbers":["513.5"],'
    '"checklist":[{"stage":"plan","text":"Plan valid","status":"done"},{"stage":"size","text":"Size the posit'
    'ion from the risk per share","status":"todo"},{"stage":"risk_check","text":"Pass the risk check against '
    'today\'s limits","status":"todo"},{"stage":"alert_or_order","text":"Set an alert at the entry or draft th'
    'e order, then confirm it yourself","status":"todo"},{"stage":"management","text":"Manage the trade: stop'
    ' in place, scale out at targets, journal the result","status":"todo"}],"tools":[{"name":"quote","ok":tru'
    'e},{"name":"draft_order","ok":false}],"notes":["no tools used"]}')

FULL = CoachReply("conv1", "Plan looks fine.", (ORDER, ALERT), (QUOTE, DRAFT), ("513.5",), CHECKLIST,
                  (ToolUse("quote", True), ToolUse("draft_order", False)), ("no tools used",))
T0 = datetime(2024, 6, 21, 14, 31, 2, 5, tzinfo=UTC)


def test_a_reply_keeps_its_bytes() -> None:
    assert json_response(FULL).body.decode() == REPLY
    assert json_response(CoachReply("conv2", "SPY is at 512.3.", (INFO,), (QUOTE,), (), None)).body.decode() == BARE


def test_the_stored_turn_is_the_payload_the_dict_stored() -> None:
    assert stored_turn(FULL) == orjson.loads(PAYLOAD)


def test_a_conversation_reads_back_with_the_bytes_of_the_dict_view() -> None:
    user = CoachMessageView.of("user", "Plan SPY?", T0, None)
    assistant = CoachMessageView.of("assistant", FULL.content, T0 + timedelta(microseconds=1), orjson.loads(PAYLOAD))
    assert assistant.suggestions == FULL.suggestions and assistant.checklist == FULL.checklist
    assert assistant.sources == FULL.sources  # the offsets survive the JSON column
    body = conversation_json(CoachConversationView(conversation_id="conv1", external_ref=None, title="Plan SPY?",
                                                   messages=[user, assistant]))
    expected = {"conversation_id": "conv1", "external_ref": None, "title": "Plan SPY?", "messages": [
        {"role": "user", "content": "Plan SPY?", "created_at": "2024-06-21T14:31:02.000005+00:00"},
        {"role": "assistant", "content": FULL.content, "created_at": "2024-06-21T14:31:02.000006+00:00",
         **orjson.loads(PAYLOAD)}]}
    assert body == orjson.dumps(expected)


def test_drafts_carry_the_payloads_their_buttons_always_carried() -> None:
    request = OrderRequest(symbol="SPY", side=OrderSide.BUY, quantity=Decimal(10), type=OrderType.LIMIT,
                           duration=OrderDuration.DAY, order_class=OrderClass.EQUITY, price=Decimal("512.30"))
    order = DraftedIntent("intent1", "breakout", "tok", order=request)
    assert order.payload() == {**request.to_dict(), "token": "tok"}
    assert order.what() == "buy 10 SPY limit at 512.30"
    cancel = DraftedIntent("intent2", "flat now", None, cancel_order_id="123")
    assert (cancel.what(), cancel.payload()) == ("cancel order 123", {"token": None})
    alert = AlertDraft("SPY", "price_above", "515", "tick", "once")
    assert alert.payload() == {"symbol": "SPY", "condition": "price_above", "level": "515", "timeframe": "tick",
                               "repeat": "once", "channels": ["ws"]}
    assert AlertDraft("SPY", "price_below", "500", "day", "every", threshold_pct="0.5", note="n").payload() == {
        "symbol": "SPY", "condition": "price_below", "level": "500", "timeframe": "day", "repeat": "every",
        "channels": ["ws"], "threshold_pct": "0.5", "note": "n"}


def test_the_quote_tool_result_keeps_the_shape_the_model_read() -> None:
    quote = Quote("SPY", Decimal("512.3"), Decimal("512.29"), None, 1, 2, Decimal("500"), AS_OF, "polygon:snapshot")
    assert orjson.dumps(json_ready(QuoteFact.of(quote, AS_OF + timedelta(seconds=5)))) == (
        b'{"symbol":"SPY","last":"512.30","bid":"512.29","ask":null,"prev_close":"500.00","change_pct":"2.46",'
        b'"as_of":"2024-06-21T14:30:05.250000+00:00","age_s":5.0,"source":"polygon:snapshot"}')
