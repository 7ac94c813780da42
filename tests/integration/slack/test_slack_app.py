"""The Slack app through the FastAPI app: real slack-bolt code, signed requests posted to /slack/events, a local
Slack Web API double (chat.postMessage, response_url), the Tradier and Polygon doubles behind the core."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from slack_sdk.models.blocks import Block

from api.app import create_app
from bots.slack import blocks as bk
from bots.slack.app import build_slack_app
from bots.slack.commands import parse_journal_text, parse_order_text
from core.db.models import AlertRow, OrderIntentRow
from core.domain.actions import SNOOZE, SNOOZE_SEC
from core.domain.deliveries import Delivery
from core.domain.events import AlertEvent, AlertMeta
from core.domain.journal import JournalQuery
from core.domain.order_views import AccountOrder, position_items
from core.domain.orders import BrokerOrder, OrderSide, OrderType, Position
from core.errors import ExternalTransient, Invalid
from core.settings import Settings
from tests.doubles.polygon import PolygonDouble
from tests.doubles.slack_api import BOT_TOKEN, TEAM_ID, SlackDouble
from tests.doubles.tradier import TradierDouble
from tests.integration.actions_helpers import stored_fire
from tests.integration.orders_helpers import place_posts
from tests.integration.slack.rig import (
    CHANNEL,
    OTHER,
    TRADER,
    button,
    click,
    command,
    count,
    post,
    runtime_of,
    sign,
)
from tests.integration.test_news_alerts import RECORDED, news_payload
from tests.wire import chips_json

# -- transport security ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["bad", "missing", "stale"])
async def test_unsigned_requests_get_401_and_no_core_call(app: FastAPI, http: httpx.AsyncClient, slack: SlackDouble,
                                                          case: str) -> None:
    body = command(slack, "alert add SPY above 999", "r1")
    headers = {"bad": sign(body, secret="wrong-secret"),
               "missing": {"Content-Type": "application/x-www-form-urlencoded"},
               "stale": sign(body, ts=int(time.time()) - 301)}[case]
    response = await http.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    await asyncio.sleep(0.2)
    assert slack.calls == []
    assert await count(runtime_of(app), AlertRow) == 0


async def test_disabled_slack_answers_503_with_how_to_enable(make_settings: Callable[..., Settings]) -> None:
    application = create_app(make_settings(), roles=frozenset({"api"}))
    transport = httpx.ASGITransport(app=application)
    async with (application.router.lifespan_context(application),
                httpx.AsyncClient(transport=transport, base_url="http://testserver") as client):
        response = await client.post("/slack/events", content="x")
    assert response.status_code == 503
    assert "SLACK_BOT_TOKEN" in response.json()["error"]["details"]["how_to_enable"]


# -- commands -------------------------------------------------------------------------------------------------------


async def test_quote_acks_fast_and_responds_with_a_card(app: FastAPI, http: httpx.AsyncClient,
                                                        slack: SlackDouble) -> None:
    started = time.monotonic()
    response = await post(http, command(slack, "quote spy", "q1"))
    assert response.status_code == 200
    assert time.monotonic() - started < 3
    [call] = await slack.wait_for("response_url:q1")
    expected = await runtime_of(app).market.quote("SPY")
    assert call.body["response_type"] == "in_channel"
    assert call.body["blocks"][0]["type"] == "header"
    assert call.body["blocks"][0]["text"]["text"] == bk.quote_title(expected)
    assert call.body["text"] == bk.quote_title(expected)
    assert any("Data:" in e["text"] for e in call.body["blocks"][-1]["elements"])


async def test_alert_and_watch_commands(app: FastAPI, http: httpx.AsyncClient, slack: SlackDouble) -> None:
    assert (await post(http, command(slack, "alert add SPY above 9999", "a1"))).status_code == 200
    [created] = await slack.wait_for("response_url:a1")
    assert "Alert created" in json.dumps(created.body)
    alerts = await runtime_of(app).alerts.list()
    assert [(a.symbol, a.channels) for a in alerts] == [("SPY", ("slack",))]
    await post(http, command(slack, "alert list", "a2"))
    [listed] = await slack.wait_for("response_url:a2")
    assert alerts[0].id in json.dumps(listed.body)
    await post(http, command(slack, "watch add nvda", "w1"))
    [watch] = await slack.wait_for("response_url:w1")
    assert "NVDA" in json.dumps(watch.body)
    assert "NVDA" in (await runtime_of(app).settings_service.get()).watchlist
    await post(http, command(slack, "frobnicate", "e1"))
    [error] = await slack.wait_for("response_url:e1")
    assert error.body["response_type"] == "ephemeral" and "unknown subcommand" in error.body["text"]


async def test_status_and_risk(http: httpx.AsyncClient, slack: SlackDouble) -> None:
    await post(http, command(slack, "status", "s1"))
    await post(http, command(slack, "risk", "s2"))
    [status] = await slack.wait_for("response_url:s1")
    [risk] = await slack.wait_for("response_url:s2")
    assert "slack" in json.dumps(status.body) and "broker" in json.dumps(status.body)
    shown = json.dumps(risk.body)
    assert "Risk: " in shown and "Risk: unknown" not in shown  # evaluated on demand, as Discord /risk is
    assert "daily loss" in shown and "positions" in shown  # the limits used, one line each


# -- orders ---------------------------------------------------------------------------------------------------------


async def _preview(http: httpx.AsyncClient, slack: SlackDouble, key: str = "o1") -> dict[str, Any]:
    assert (await post(http, command(slack, "order buy 1 AAPL", key))).status_code == 200
    [preview] = await slack.wait_for(f"response_url:{key}", timeout=5)
    assert preview.body["response_type"] == "ephemeral"
    confirm = button(preview.body["blocks"], bk.ORDER_CONFIRM)
    assert confirm["confirm"]["confirm"]["text"] == "Place order" and confirm["style"] == "danger"
    return confirm


async def test_order_preview_confirm_places_exactly_once(app: FastAPI, http: httpx.AsyncClient, slack: SlackDouble,
                                                         tradier: TradierDouble) -> None:
    confirm = await _preview(http, slack)
    intent_id, token = bk.parse_order_value(confirm["value"])
    assert len(intent_id) == 32 and token and confirm["value"] == f"{intent_id}|{token}"
    assert place_posts(tradier) == []
    first = await post(http, click(slack, bk.ORDER_CONFIRM, confirm["value"], "c1"))
    second = await post(http, click(slack, bk.ORDER_CONFIRM, confirm["value"], "c2"))
    assert first.status_code == second.status_code == 200
    # Both clicks are acknowledged at once and handled concurrently: whichever takes the intent first submits it
    [one] = await slack.wait_for("response_url:c1", timeout=5)
    [two] = await slack.wait_for("response_url:c2", timeout=5)
    outcome, again = (one, two) if one.body["replace_original"] else (two, one)
    assert outcome.body["replace_original"] is True
    assert "SUBMITTED" in json.dumps(outcome.body["blocks"])
    assert "actions" not in {b["type"] for b in outcome.body["blocks"]}
    assert again.body["replace_original"] is False and "already handled" in again.body["text"]
    assert len(place_posts(tradier)) == 1
    assert place_posts(tradier)[0].form["tag"] == intent_id


async def test_other_user_is_refused(app: FastAPI, http: httpx.AsyncClient, slack: SlackDouble,
                                     tradier: TradierDouble) -> None:
    confirm = await _preview(http, slack)
    await post(http, click(slack, bk.ORDER_CONFIRM, confirm["value"], "x1", user=OTHER))
    [refused] = await slack.wait_for("response_url:x1")
    assert refused.body["replace_original"] is False and "someone else" in refused.body["text"]
    await post(http, click(slack, bk.ORDER_CONFIRM, confirm["value"], "x2", user="U0STRANGER"))
    [stranger] = await slack.wait_for("response_url:x2")
    assert f"add `slack:{TEAM_ID}:U0STRANGER` to TRADERS" in stranger.body["text"]
    assert place_posts(tradier) == []
    intent_id, _ = bk.parse_order_value(confirm["value"])
    async with runtime_of(app).db.read() as session:
        row = await session.get(OrderIntentRow, intent_id)
    assert row is not None and row.status == "PENDING"


async def test_cancel_replaces_the_preview(app: FastAPI, http: httpx.AsyncClient, slack: SlackDouble,
                                           tradier: TradierDouble) -> None:
    confirm = await _preview(http, slack)
    await post(http, click(slack, bk.ORDER_CANCEL, confirm["value"], "k1"))
    [cancelled] = await slack.wait_for("response_url:k1")
    assert cancelled.body["replace_original"] is True and "CANCELLED" in json.dumps(cancelled.body["blocks"])
    await post(http, click(slack, bk.ORDER_CONFIRM, confirm["value"], "k2"))
    [late] = await slack.wait_for("response_url:k2")
    assert "already handled" in late.body["text"]
    assert place_posts(tradier) == []


# -- events, alerts -------------------------------------------------------------------------------------------------


async def test_retried_event_is_handled_once(http: httpx.AsyncClient, slack: SlackDouble) -> None:
    event = {"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0APP", "type": "event_callback",
             "event_id": "Ev0001", "event_time": int(time.time()),
             "event": {"type": "app_mention", "user": TRADER, "text": "<@UBOT> help", "ts": "100.1",
                       "channel": "C0CHAN", "event_ts": "100.1"}}
    body = json.dumps(event)
    first = await http.post("/slack/events", content=body,
                            headers={**sign(body), "Content-Type": "application/json"})
    retry = await http.post("/slack/events", content=body,
                            headers={**sign(body), "Content-Type": "application/json", "X-Slack-Retry-Num": "1",
                                     "X-Slack-Retry-Reason": "http_timeout"})
    assert first.status_code == retry.status_code == 200
    await slack.wait_for("chat.postMessage")
    await asyncio.sleep(0.3)
    [reply] = slack.calls_to("chat.postMessage")
    assert reply.body["thread_ts"] == "100.1"


def _alert_payload(msg: str = "SPY crossed above 500.00 (last 500.12)") -> Delivery:
    chips = [{"id": "setup", "label": "Take setup (1R)", "kind": "order",
              "order": {"symbol": "SPY", "side": "buy", "quantity": "1", "type": "market", "duration": "day",
                        "class": "equity"}},
             *chips_json((SNOOZE,))]
    meta = AlertMeta.stored({"kind": "crossed", "alert_id": "a1", "trigger_id": "t1", "symbol": "SPY",
                             "price": "500.12", "condition": "price_above", "actions": chips})
    return Delivery.of(AlertEvent(level="warning", msg=msg, meta=meta), trigger_id="t1", alert_id="a1",
                       triggered_at=datetime(2026, 1, 5, 15, 30, tzinfo=UTC))


async def test_a_news_delivery_is_the_items_own_line(app: FastAPI, slack: SlackDouble) -> None:
    await runtime_of(app).delivery.notifiers["slack"].deliver(news_payload())
    [card] = await slack.wait_for("chat.postMessage")
    text = json.dumps(card.body["blocks"])
    assert card.body["blocks"][0]["text"]["text"] == "News: UBS"
    assert f"<{RECORDED['article_url']}|" in text and "2024-06-24 18:33 UTC" in text and "polygon" in text
    assert card.body["text"].startswith("Markets are underestimating Fed cuts")


async def test_alert_notifier_posts_a_card_and_honours_429(app: FastAPI, slack: SlackDouble) -> None:
    notifier = runtime_of(app).delivery.notifiers["slack"]
    await notifier.deliver(_alert_payload())
    [card] = await slack.wait_for("chat.postMessage")
    assert card.body["channel"] == CHANNEL
    assert card.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    kinds = [block["type"] for block in card.body["blocks"]]
    assert kinds[0] == "header" and "context" in kinds and kinds[-1] == "actions"
    assert [b["text"]["text"] for b in card.body["blocks"][-1]["elements"]] == ["Take setup (1R)", SNOOZE.label]
    slack.fail("chat.postMessage", status=429, retry_after="7")
    with pytest.raises(ExternalTransient) as caught:
        await notifier.deliver(_alert_payload())
    assert caught.value.retry_after == 7


# -- pure rendering -------------------------------------------------------------------------------------------------


def test_blocks_respect_slack_limits() -> None:
    pieces = bk.text_blocks("line of text\n" * 2000)
    assert sum(len(message) for message in pieces) > 1 and all(len(message) <= bk.MAX_BLOCKS for message in pieces)
    for message in pieces:
        for block in message:
            assert len(block["text"]["text"]) <= bk.SECTION_LIMIT
            Block.parse(block).validate_json()  # type: ignore[union-attr]
    huge = bk.text_blocks("x" * (bk.SECTION_LIMIT * 60))
    assert len(huge) == 2 and len(huge[0]) == bk.MAX_BLOCKS
    card = bk.alert_card(_alert_payload("y" * 20_000))
    assert len(card) <= bk.MAX_BLOCKS
    assert all(len(e["value"]) <= bk.VALUE_LIMIT for b in card if b["type"] == "actions" for e in b["elements"])
    with pytest.raises(ValueError, match="2000"):
        bk.order_value("i" * 32, "t" * 2000)


def test_order_text_parsing() -> None:
    assert parse_order_text(["buy", "2", "aapl", "limit", "430.5", "gtc"]) == {
        "side": "buy", "quantity": "2", "symbol": "aapl", "type": "limit", "price": "430.5", "duration": "gtc"}
    with pytest.raises(Invalid):
        parse_order_text(["buy", "2"])
    with pytest.raises(Invalid):
        parse_order_text(["buy", "2", "AAPL", "limit"])


def _trade(symbol: str, price: float) -> dict[str, Any]:
    return {"ev": "T", "sym": symbol, "x": 4, "i": "1", "z": 3, "p": price, "s": 100, "c": [0],
            "t": time.time_ns() // 1_000_000, "q": 1}


async def test_triggered_alert_reaches_the_channel_through_the_outbox_after_a_429(
        app: FastAPI, http: httpx.AsyncClient, slack: SlackDouble, pg: PolygonDouble) -> None:
    await post(http, command(slack, "alert add SPY above 500", "t1"))
    await slack.wait_for("response_url:t1")
    slack.fail("chat.postMessage", status=429, retry_after="0")
    await pg.wait_until(lambda: "T.SPY" in pg.subscriptions)
    await pg.push([_trade("SPY", 499.0)])
    await pg.push([_trade("SPY", 500.25)])
    calls = await slack.wait_for("chat.postMessage", count=2, timeout=10)
    card = calls[-1].body
    assert card["channel"] == CHANNEL and card["text"] == "SPY crossed above 500 at 500.25"
    assert card["blocks"][0]["type"] == "header" and "SPY" in card["blocks"][0]["text"]["text"]
    assert any(b["type"] == "actions" for b in card["blocks"])
    await asyncio.sleep(0.3)
    assert len(slack.calls_to("chat.postMessage")) == 2  # the 429, then the one delivery
    chips = next(b for b in card["blocks"] if b["type"] == "actions")["elements"]
    dismiss = next(chip for chip in chips if chip["value"].endswith("|dismiss"))  # <trigger id>|<chip id>
    await post(http, click(slack, dismiss["action_id"], dismiss["value"], "d1"))
    [dismissed] = await slack.wait_for("response_url:d1")
    assert "dismissed" in dismissed.body["text"].lower()


# -- positions, orders, journal -------------------------------------------------------------------------------------


async def test_positions_card_trim_previews_then_sells_half_once(app: FastAPI, http: httpx.AsyncClient,
                                                                 slack: SlackDouble, tradier: TradierDouble) -> None:
    await post(http, command(slack, "positions", "p1"))
    [card] = await slack.wait_for("response_url:p1", timeout=5)
    assert card.body["response_type"] == "ephemeral" and "AAPL" in json.dumps(card.body["blocks"])
    buttons = {action: button(card.body["blocks"], f"{bk.POSITION_ACTION}:{action}")
               for action in ("trim", "close", "breakeven")}
    assert [b["text"]["text"] for b in buttons.values()] == ["Trim 50%", "Close", "Stop to BE"]
    assert [b["value"] for b in buttons.values()] == ["AAPL|trim", "AAPL|close", "AAPL|breakeven"]
    await post(http, click(slack, "position:trim", buttons["trim"]["value"], "p2"))
    [preview] = await slack.wait_for("response_url:p2", timeout=5)
    confirm = button(preview.body["blocks"], bk.ORDER_CONFIRM)
    assert confirm["confirm"]["confirm"]["text"] == "Place order" and "sell 1 AAPL" in json.dumps(preview.body)
    assert place_posts(tradier) == []
    await post(http, click(slack, bk.ORDER_CONFIRM, confirm["value"], "p3"))
    [outcome] = await slack.wait_for("response_url:p3", timeout=5)
    assert "SUBMITTED" in json.dumps(outcome.body["blocks"])
    [sent] = place_posts(tradier)
    assert (sent.form["symbol"], sent.form["side"], float(sent.form["quantity"])) == ("AAPL", "sell", 1.0)
    assert sent.form["tag"] == bk.parse_order_value(confirm["value"])[0]


async def test_orders_shows_a_working_order_whose_cancel_goes_through_the_preview(
        app: FastAPI, http: httpx.AsyncClient, slack: SlackDouble, tradier: TradierDouble) -> None:
    tradier.orders["7001"] = {"id": 7001, "type": "limit", "symbol": "MSFT", "side": "buy", "quantity": 5.0,
                              "status": "open", "duration": "day", "price": 30.0, "avg_fill_price": 0.0,
                              "exec_quantity": 0.0, "remaining_quantity": 5.0,
                              "create_date": "2024-06-03T14:30:11.123Z", "class": "equity"}
    await post(http, command(slack, "orders", "b1"))
    [listed] = await slack.wait_for("response_url:b1", timeout=5)
    assert "MSFT" in json.dumps(listed.body["blocks"])
    cancel = button([{"elements": [b["accessory"]]} for b in listed.body["blocks"] if "accessory" in b],
                    bk.BROKER_CANCEL)
    assert cancel["value"] == "7001" and cancel["text"]["text"] == "Cancel"
    await post(http, click(slack, bk.BROKER_CANCEL, cancel["value"], "b2"))
    [preview] = await slack.wait_for("response_url:b2", timeout=5)
    confirm = button(preview.body["blocks"], bk.ORDER_CONFIRM)
    assert confirm["confirm"]["confirm"]["text"] == "Cancel order"
    assert tradier.orders["7001"]["status"] == "open"
    await post(http, click(slack, bk.ORDER_CONFIRM, confirm["value"], "b3"))
    await slack.wait_for("response_url:b3", timeout=5)
    assert tradier.orders["7001"]["status"] == "canceled"
    assert place_posts(tradier) == []


async def test_journal_add_then_list(app: FastAPI, http: httpx.AsyncClient, slack: SlackDouble) -> None:
    await post(http, command(slack, "journal add Held the <b>reclaim</b> #discipline #Patience $aapl", "j1"))
    [added] = await slack.wait_for("response_url:j1", timeout=5)
    assert "Journal entry added" in json.dumps(added.body)
    page = await runtime_of(app).journal.list(JournalQuery())
    [entry] = page.items
    assert (entry.symbol, entry.tags, entry.actor) == ("AAPL", ("discipline", "patience"),
                                                                f"slack:{TEAM_ID}:{TRADER}")
    await post(http, command(slack, "journal list", "j2"))
    [listed] = await slack.wait_for("response_url:j2", timeout=5)
    text = json.dumps(listed.body["blocks"])
    assert entry.id[:8] in text and "&lt;b&gt;reclaim" in text and "#discipline" in text
    await post(http, command(slack, "journal add $AAPL $MSFT two symbols", "j3"))
    [error] = await slack.wait_for("response_url:j3", timeout=5)
    assert "one $SYMBOL" in error.body["text"]


def test_position_and_order_lists_respect_slack_limits() -> None:
    positions = position_items([Position(f"S{n:03d}", Decimal(2), Decimal(20)) for n in range(60)], {}, {})
    messages = bk.positions_blocks(positions)
    assert len(messages) == 3 and all(len(m) <= bk.MAX_BLOCKS for m in messages)
    assert sum(1 for m in messages for b in m if b["type"] == "actions") == 60
    orders = [AccountOrder.listed(BrokerOrder(str(n), "SPY", OrderSide.BUY, Decimal(1), OrderType.MARKET, "open"),
                                  set()) for n in range(120)]
    assert all(order.working and order.manual for order in orders)
    assert all(len(m) <= bk.MAX_BLOCKS for m in bk.broker_orders_blocks(orders))
    assert parse_journal_text(["hi", "#a", "$spy"]) == {"kind": "note", "body": "hi #a $spy", "tags": ["a"],
                                                        "symbol": "SPY"}


def test_no_warning_that_the_client_wins_over_the_token(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """Bolt reads SLACK_BOT_TOKEN itself and warns that the given client wins; ours is built from that token."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    with caplog.at_level(logging.WARNING):
        app = build_slack_app(None, settings)  # type: ignore[arg-type]  # nothing runs: only the app is built
    assert app.client.token == BOT_TOKEN
    assert not [record for record in caplog.records if "will be unused" in record.getMessage()]
    logging.getLogger("bots.slack.bolt").warning("other warnings still pass")
    assert "other warnings still pass" in caplog.text


async def test_a_snooze_chip_snoozes_for_the_chips_own_duration(app: FastAPI, http: httpx.AsyncClient,
                                                                slack: SlackDouble) -> None:
    """The core's "Snooze 15m" chip snoozes 15 minutes here as on the dashboard and Discord."""
    fire = await stored_fire(runtime_of(app), "SPY", "price_above", "999", "999.50")
    value = bk.chip_value(fire["trigger_id"], SNOOZE.id)
    await post(http, click(slack, f"{bk.CHIP_ACTION}:snooze", value, "z1"))
    [reply] = await slack.wait_for("response_url:z1")
    assert f"snoozed for {SNOOZE_SEC // 60} minutes" in json.dumps(reply.body)
    until = datetime.fromisoformat((await runtime_of(app).alerts.get(fire["alert_id"])).snoozed_until)
    assert timedelta(minutes=14) < until - datetime.now(UTC) <= timedelta(minutes=15)
