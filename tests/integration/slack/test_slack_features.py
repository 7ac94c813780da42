"""Slack: the order modal, coach threads, plan/size/settings, alert snooze, journal export, Roll, and Socket Mode.
Real slack-bolt code end to end: signed requests through the FastAPI app (or envelopes over the Socket Mode
double), the Slack Web API double recording every call, Tradier/Polygon/LLM doubles behind the core."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from slack_sdk.models.blocks import Block

from bots.slack import blocks as bk
from bots.slack.blocks_coach import COACH_ORDER, coach_messages
from bots.slack.coach import thread_ref
from bots.slack.order_modal import ORDER_MODAL
from core.db.models import OrderIntentRow
from core.domain.coach import Source, Suggestion, SuggestionAction, SuggestionKind
from core.domain.coach_replies import CoachReply
from core.domain.confidence import Confidence
from core.settings import LLMSettings, Settings, SlackSettings
from tests.doubles.llm import OpenAIDouble, answer, call, tool_calls
from tests.doubles.slack_api import APP_TOKEN, BOT_USER, TEAM_ID, SlackDouble
from tests.doubles.tradier import TradierDouble
from tests.integration.orders_helpers import place_posts
from tests.integration.slack.rig import (
    TRADER,
    button,
    click,
    client_of,
    command,
    count,
    event,
    post,
    post_event,
    running,
    runtime_of,
)


def _form(payload: dict[str, Any]) -> str:
    return str(httpx.QueryParams({"payload": json.dumps(payload)}))


def view_submission(values: dict[str, str], user: str = TRADER) -> str:
    state = {block: {"value": {"type": "static_select", "selected_option": {"value": value}}
                     if block in ("side", "type") else {"type": "plain_text_input", "value": value}}
             for block, value in values.items()}
    return _form({"type": "view_submission", "team": {"id": TEAM_ID, "domain": "test"},
                  "user": {"id": user, "username": "trader", "team_id": TEAM_ID}, "api_app_id": "A0APP",
                  "token": "legacy", "trigger_id": "1.2.ghi",
                  "view": {"id": "V1", "team_id": TEAM_ID, "type": "modal", "callback_id": ORDER_MODAL,
                           "private_metadata": "", "state": {"values": state}, "hash": "1.abc"}})


def validate(blocks: list[dict[str, Any]]) -> None:
    assert len(blocks) <= bk.MAX_BLOCKS
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()


# -- the order modal ------------------------------------------------------------------------------------------------


async def test_order_modal_shows_errors_inline_then_previews_in_a_dm_and_confirms_once(
        app: FastAPI, http: httpx.AsyncClient, slack: SlackDouble, tradier: TradierDouble) -> None:
    assert (await post(http, command(slack, "order", "m1"))).status_code == 200
    [opened] = await slack.wait_for("views.open")
    assert opened.body["trigger_id"] == "1.2.abc"
    view = opened.body["view"]
    assert view["callback_id"] == ORDER_MODAL and view["type"] == "modal"
    assert [b["block_id"] for b in view["blocks"]] == ["side", "quantity", "symbol", "type", "price"]
    assert len(view["blocks"]) <= 100 and len(view["title"]["text"]) <= 24

    for bad, block in (({"quantity": "0"}, "quantity"), ({"quantity": "abc"}, "quantity"),
                       ({"type": "limit"}, "price")):
        values = {"side": "buy", "quantity": "1", "symbol": "AAPL", "type": "market", **bad}
        response = await post(http, view_submission(values))
        assert response.status_code == 200
        body = response.json()
        assert body["response_action"] == "errors" and list(body["errors"]) == [block], body
    assert slack.calls_to("chat.postMessage") == [] and await count(runtime_of(app), OrderIntentRow) == 0

    response = await post(http, view_submission({"side": "buy", "quantity": "1", "symbol": "aapl", "type": "market"}))
    assert response.status_code == 200 and response.content in (b"", b"{}")
    [dm] = await slack.wait_for("conversations.open", timeout=5)
    assert dm.body["users"] == TRADER
    [preview] = await slack.wait_for("chat.postMessage", timeout=5)
    assert preview.body["channel"] == f"D{TRADER}"
    blocks = preview.body["blocks"]
    validate(blocks)
    confirm = button(blocks, bk.ORDER_CONFIRM)
    assert confirm["confirm"]["confirm"]["text"] == "Place order" and "buy 1 AAPL" in json.dumps(blocks)
    assert place_posts(tradier) == []
    await post(http, click(slack, bk.ORDER_CONFIRM, confirm["value"], "m2"))
    [outcome] = await slack.wait_for("response_url:m2", timeout=5)
    assert outcome.body["replace_original"] is True and "SUBMITTED" in json.dumps(outcome.body["blocks"])
    assert len(place_posts(tradier)) == 1


# -- coach threads --------------------------------------------------------------------------------------------------


def _llm(settings: Settings, llm: OpenAIDouble) -> Settings:
    return settings.model_copy(update={"llm": LLMSettings(_env_file=None, base_url=llm.base_url,
                                                          api_key="sk-test", model="coach-model")})


def _thread_message(thread_ts: str, text: str, ts: str, **extra: Any) -> dict[str, Any]:
    return {"type": "message", "channel": "C0CHAN", "user": TRADER, "text": text, "ts": ts, "thread_ts": thread_ts,
            "channel_type": "channel", "event_ts": ts, **extra}


async def test_coach_without_an_llm_says_how_to_enable_it(http: httpx.AsyncClient, slack: SlackDouble) -> None:
    await post(http, command(slack, "coach How is SPY?", "c0"))
    [reply] = await slack.wait_for("response_url:c0")
    assert reply.body["response_type"] == "ephemeral"
    assert "LLM_" in reply.body["text"] and "To enable" in reply.body["text"]
    assert slack.calls_to("chat.postMessage") == []


async def test_coach_thread_round_trip_and_ignored_messages(settings: Settings, slack: SlackDouble) -> None:
    async with OpenAIDouble() as llm:
        llm.push(answer("Wait for the reclaim of <190> & size small."), answer("Size down after two losses."),
                 answer("Keep the stop where the plan put it."))
        async with running(_llm(settings, llm)) as app, client_of(app) as http:
            assert (await post(http, command(slack, "coach How do I trade AAPL today?", "c1"))).status_code == 200
            question, first = await slack.wait_for("chat.postMessage", count=2, timeout=10)
            assert question.body["channel"] == "C0CHAN" and "thread_ts" not in question.body
            assert f"<@{TRADER}> asked the coach: How do I trade AAPL today?" == question.body["text"]
            thread_ts = first.body["thread_ts"]
            assert first.body["channel"] == "C0CHAN" and thread_ts
            assert "&lt;190&gt; &amp; size small" in json.dumps(first.body["blocks"])
            validate(first.body["blocks"])

            await post_event(http, event(_thread_message(thread_ts, "and if I lose twice?", "300.1"), "Ev1"))
            replies = await slack.wait_for("chat.postMessage", count=3, timeout=10)
            assert replies[2].body["thread_ts"] == thread_ts and "Size down" in json.dumps(replies[2].body["blocks"])

            mention = f"<@{BOT_USER}> and the stop?"  # Slack sends both an app_mention and a message event
            as_mention = {**_thread_message(thread_ts, mention, "300.2"), "type": "app_mention"}
            await post_event(http, event(as_mention, "Ev2"))
            await post_event(http, event(_thread_message(thread_ts, mention, "300.2"), "Ev3"))
            ignored = [_thread_message(thread_ts, "my own reply", "300.3", user=BOT_USER, bot_id="BBOT"),
                       _thread_message(thread_ts, "edited", "300.4", subtype="message_changed"),
                       {**_thread_message(thread_ts, "top level", "300.5"), "thread_ts": None},
                       _thread_message("999.9", "another thread", "300.6")]
            for n, body in enumerate(ignored):
                assert (await post_event(http, event(body, f"Ev9{n}"))).status_code == 200
            calls = await slack.wait_for("chat.postMessage", count=4, timeout=10)
            assert "Keep the stop" in json.dumps(calls[3].body["blocks"])
            await asyncio.sleep(0.5)
            coach = runtime_of(app).coach
            assert coach is not None
            history = await coach.conversation(await coach.get_or_create_by_ref(thread_ref("C0CHAN", thread_ts)))
        assert len(slack.calls_to("chat.postMessage")) == 4
        assert len(llm.requests) == 3
        assert [m.role for m in history.messages] == ["user", "assistant"] * 3
        assert history.messages[4].content == "and the stop?"


async def test_a_plain_reply_continues_a_coach_thread_after_a_restart(settings: Settings, slack: SlackDouble) -> None:
    async with OpenAIDouble() as llm:
        llm.push(answer("Plan the pullback."), answer("Still valid after the restart."))
        async with running(_llm(settings, llm)) as app, client_of(app) as http:
            await post(http, command(slack, "coach AAPL pullback?", "r1"))
            _, first = await slack.wait_for("chat.postMessage", count=2, timeout=10)
        thread_ts = first.body["thread_ts"]
        async with running(_llm(settings, llm)) as app, client_of(app) as http:  # a new process: nothing in memory
            await post_event(http, event(_thread_message("999.9", "not a coach thread", "400.0"), "Er0"))
            await post_event(http, event(_thread_message(thread_ts, "still valid?", "400.1"), "Er1"))
            calls = await slack.wait_for("chat.postMessage", count=3, timeout=10)
            await asyncio.sleep(0.3)
        assert calls[2].body["thread_ts"] == thread_ts and "Still valid" in json.dumps(calls[2].body["blocks"])
        assert len(slack.calls_to("chat.postMessage")) == 3 and len(llm.requests) == 2


async def test_coach_order_draft_becomes_the_standard_preview_and_confirms_once(
        settings: Settings, slack: SlackDouble, tradier: TradierDouble) -> None:
    async with OpenAIDouble() as llm:
        llm.push(tool_calls(call("draft_order", {"symbol": "AAPL", "side": "buy", "quantity": 1, "type": "market",
                                                 "rationale": "the trader asked to add one share"})),
                 answer("I drafted a market order to buy 1 AAPL. Nothing was placed: review and confirm it."))
        async with running(_llm(settings, llm)) as app, client_of(app) as http:
            await post(http, command(slack, "coach buy 1 AAPL", "d1"))
            _, answered = await slack.wait_for("chat.postMessage", count=2, timeout=10)
            blocks = answered.body["blocks"]
            validate(blocks)
            text = json.dumps(blocks)
            assert "confidence" in text and "Sources:" in text and "orders:propose" in text
            review = next(e for b in blocks if b["type"] == "actions" for e in b["elements"]
                          if e["action_id"].startswith(f"{COACH_ORDER}:"))
            assert review["text"]["text"] == "Review order" and "confirm" not in review
            assert place_posts(tradier) == []
            await post(http, click(slack, review["action_id"], review["value"], "d2"))
            [preview] = await slack.wait_for("response_url:d2", timeout=5)
            confirm = button(preview.body["blocks"], bk.ORDER_CONFIRM)
            assert confirm["value"] == review["value"] and "buy 1 AAPL" in json.dumps(preview.body["blocks"])
            await post(http, click(slack, bk.ORDER_CONFIRM, confirm["value"], "d3"))
            [outcome] = await slack.wait_for("response_url:d3", timeout=5)
            assert "SUBMITTED" in json.dumps(outcome.body["blocks"])
            await post(http, click(slack, review["action_id"], review["value"], "d4"))
            [again] = await slack.wait_for("response_url:d4", timeout=5)
            assert "SUBMITTED" in json.dumps(again.body["blocks"]) and "actions" not in json.dumps(again.body)
    assert len(place_posts(tradier)) == 1


async def test_coach_alert_draft_button_creates_the_alert_for_slack(settings: Settings, slack: SlackDouble) -> None:
    async with OpenAIDouble() as llm:
        llm.push(tool_calls(call("create_alert", {"symbol": "SPY", "condition": "price_above", "level": "9999",
                                                  "note": "breakout watch"})),
                 answer("I drafted an alert for SPY above 9999; create it with the button."))
        async with running(_llm(settings, llm)) as app, client_of(app) as http:
            await post(http, command(slack, "coach alert me on a SPY breakout", "al1"))
            _, answered = await slack.wait_for("chat.postMessage", count=2, timeout=10)
            create = next(e for b in answered.body["blocks"] if b["type"] == "actions" for e in b["elements"]
                          if e["text"]["text"] == "Create alert")
            assert await runtime_of(app).alerts.list() == []
            await post(http, click(slack, create["action_id"], create["value"], "al2"))
            [created] = await slack.wait_for("response_url:al2", timeout=5)
            assert "Alert created" in json.dumps(created.body)
            [alert] = await runtime_of(app).alerts.list()
    assert (alert.symbol, alert.channels, alert.note) == ("SPY", ("slack",), "breakout watch")


def test_coach_reply_rendering_respects_slack_limits() -> None:
    source = Source("quote", "polygon:/v2", datetime(2026, 1, 5, 15, 30, tzinfo=UTC))
    suggestion = Suggestion("x" * 5000, SuggestionKind.ORDER, Confidence(0.62, 0.62, ()), "r" * 4000, (source,) * 9,
                            SuggestionAction("order_intent", "i" * 32, {"token": "t" * 100}))
    messages = coach_messages(CoachReply("c1", "y" * 200_000, (suggestion,) * 30, (), ("530.55",), None,
                                         notes=("tool budget used up",)))
    assert len(messages) > 1
    for message in messages:
        validate(message)
    text = json.dumps(messages)
    assert "62%" in text and "+4 more" in text and "530.55" in text


# -- plan, size, settings, alert snooze, journal export -------------------------------------------------------------


async def _reply(http: httpx.AsyncClient, slack: SlackDouble, text: str, key: str,
                 user: str = TRADER) -> dict[str, Any]:
    assert (await post(http, command(slack, text, key, user=user))).status_code == 200
    [call_] = await slack.wait_for(f"response_url:{key}", timeout=5)
    for block in call_.body.get("blocks") or []:
        validate([block])
    return call_.body


async def test_plan_and_size_cards(app: FastAPI, http: httpx.AsyncClient, slack: SlackDouble) -> None:
    plan = await _reply(http, slack, "plan aapl long 190 188 194 196", "pl1")
    text = json.dumps(plan["blocks"])
    assert plan["blocks"][0]["text"]["text"] == "Plan · AAPL long"
    assert "194.00 (2.00R)" in text and "196.00 (3.00R)" in text
    expected = await runtime_of(app).plans.validate(side="long", entry="190", stop="188", targets=["194", "196"],
                                                    symbol="AAPL")
    assert plan["text"] == expected.result.summary
    bad = await _reply(http, slack, "plan AAPL long 190 191", "pl2")
    assert bad["response_type"] == "ephemeral" and "stop" in bad["text"].lower()
    usage = await _reply(http, slack, "plan AAPL sideways 190 188", "pl3")
    assert "plan takes SYM long|short" in usage["text"]

    size = await _reply(http, slack, "size AAPL 190 188 0.5%", "sz1")
    check = await runtime_of(app).plans.size(entry="190", stop="188", symbol="AAPL", risk_per_trade_pct="0.5")
    assert check.result.sizing is not None
    assert f"{check.result.sizing.quantity} shares" in json.dumps(size["blocks"])
    assert size["text"] == check.result.summary and "Limited by" in json.dumps(size["blocks"])
    refused = await _reply(http, slack, "size AAPL 190 190", "sz2")
    assert refused["response_type"] == "ephemeral" and refused["text"].startswith(":warning:")


async def test_settings_show_and_set_for_traders_only(app: FastAPI, http: httpx.AsyncClient,
                                                      slack: SlackDouble) -> None:
    shown = await _reply(http, slack, "settings", "st1")
    text = json.dumps(shown)
    assert "risk.max_trades_per_day" in text and "watchlist" in text
    assert "xoxb" not in text and "secret" not in text.lower()
    for typed in ("settings", "settings set risk.max_trades_per_day 8"):
        refused = await post(http, command(slack, typed, "st2", user="U0STRANGER"))
        assert refused.status_code == 200 and refused.json()["response_type"] == "ephemeral"
        assert f"add `slack:{TEAM_ID}:U0STRANGER` to TRADERS" in refused.json()["text"]
    assert not slack.calls_to("response_url:st2")
    assert (await runtime_of(app).settings_service.get()).risk.max_trades_per_day == 10
    changed = await _reply(http, slack, "settings set risk.max_trades_per_day 8", "st3")
    assert "`risk.max_trades_per_day` is now `8`" in json.dumps(changed["blocks"])
    assert (await runtime_of(app).settings_service.get()).risk.max_trades_per_day == 8
    await _reply(http, slack, "settings set watchlist spy,qqq nvda", "st4")
    assert (await runtime_of(app).settings_service.get()).watchlist == ["SPY", "QQQ", "NVDA"]
    invalid = await _reply(http, slack, "settings set risk.max_trades_per_day lots", "st5")
    assert invalid["text"].startswith(":warning:") and "max_trades_per_day" in invalid["text"]
    unknown = await _reply(http, slack, "settings set nope 1", "st6")
    assert unknown["text"].startswith(":warning:")
    assert (await runtime_of(app).settings_service.get()).risk.max_trades_per_day == 8


async def test_alert_snooze(app: FastAPI, http: httpx.AsyncClient, slack: SlackDouble) -> None:
    await _reply(http, slack, "alert add SPY above 9999", "sn1")
    [alert] = await runtime_of(app).alerts.list()
    snoozed = await _reply(http, slack, f"alert snooze {alert.id} 15", "sn2")
    assert "snoozed for 15 min" in json.dumps(snoozed["blocks"])
    assert (await runtime_of(app).alerts.get(alert.id)).status == "snoozed"
    bad = await _reply(http, slack, f"alert snooze {alert.id} soon", "sn3")
    assert "whole number" in bad["text"]
    missing = await _reply(http, slack, "alert snooze nope", "sn4")
    assert missing["text"].startswith(":warning:")


async def test_journal_export_uploads_a_csv_to_the_dm(app: FastAPI, http: httpx.AsyncClient,
                                                      slack: SlackDouble) -> None:
    await _reply(http, slack, "journal add Held the reclaim, line one #patience $aapl", "je1")
    await _reply(http, slack, "journal add Second note", "je2")
    done = await _reply(http, slack, "journal export", "je3")
    assert "2 entries" in json.dumps(done["blocks"])
    [url] = slack.calls_to("files.getUploadURLExternal")
    [complete] = slack.calls_to("files.completeUploadExternal")
    assert complete.body["channel_id"] == f"D{TRADER}"
    [uploaded] = json.loads(complete.body["files"])
    assert url.body["filename"].startswith("journal-") and url.body["filename"].endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(slack.uploads[uploaded["id"]].decode())))
    assert int(url.body["length"]) == len(slack.uploads[uploaded["id"]])
    assert [row["body"] for row in rows] == ["Second note", "Held the reclaim, line one #patience $aapl"]
    assert rows[1]["symbol"] == "AAPL" and rows[1]["tags"] == "patience"


# -- Roll (option positions) ----------------------------------------------------------------------------------------

HELD_DAY, NEXT_DAY = (datetime.now(UTC).date() + timedelta(days=days) for days in (10, 38))
OPTION = f"AAPL{HELD_DAY:%y%m%d}C00150000"
ROLLED = f"AAPL{NEXT_DAY:%y%m%d}C00150000"  # the Tradier double lists a 150 call and put for any expiration


async def test_roll_button_previews_the_multileg_roll_and_confirm_places_once(
        app: FastAPI, http: httpx.AsyncClient, slack: SlackDouble, tradier: TradierDouble) -> None:
    tradier.positions = [{"cost_basis": 215.0, "date_acquired": "2021-10-01T14:41:11.405Z", "id": 2,
                          "quantity": 1.0, "symbol": OPTION}]
    tradier.quotes[OPTION] = {**tradier.quotes["AAPL7150117C00430000"], "symbol": OPTION, "last": 2.5}
    tradier.expirations = [HELD_DAY.isoformat(), NEXT_DAY.isoformat()]
    card = await _reply(http, slack, "positions", "ro1")
    roll = button(card["blocks"], f"{bk.POSITION_ACTION}:roll")
    assert roll["text"]["text"] == "Roll" and roll["value"] == f"{OPTION}|roll"
    await post(http, click(slack, roll["action_id"], roll["value"], "ro2"))
    [preview] = await slack.wait_for("response_url:ro2", timeout=10)
    text = json.dumps(preview.body["blocks"])
    assert f"sell_to_close 1 {OPTION}" in text and f"buy_to_open 1 {ROLLED}" in text
    assert "net debit 0.10 x 100 x 1" in text  # Tradier's chains: the new call's ask 2.20, the held one's bid 2.10
    assert place_posts(tradier) == []
    await post(http, click(slack, bk.ORDER_CONFIRM, button(preview.body["blocks"], bk.ORDER_CONFIRM)["value"], "ro3"))
    [outcome] = await slack.wait_for("response_url:ro3", timeout=5)
    assert "SUBMITTED" in json.dumps(outcome.body["blocks"])
    [sent] = place_posts(tradier)
    assert sent.form["class"] == "multileg" and sent.form["symbol"] == "AAPL"


# -- Socket Mode ----------------------------------------------------------------------------------------------------


async def test_socket_mode_acks_the_envelope_and_answers_the_command(settings: Settings, slack: SlackDouble) -> None:
    socket = settings.model_copy(update={"slack": SlackSettings(
        _env_file=None, bot_token=settings.slack.bot_token, signing_secret=settings.slack.signing_secret,
        app_token=APP_TOKEN, api_url=slack.api_url)})
    async with running(socket) as app:
        assert "slack-socket" in runtime_of(app).tasks
        payload = dict(httpx.QueryParams(command(slack, "quote spy", "sm1")))
        started = time.monotonic()
        await slack.socket_send({"envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True,
                                 "payload": payload})
        [ack] = await slack.wait_for("socket", timeout=5)
        assert ack.body["envelope_id"] == "env-1" and time.monotonic() - started < 3
        [reply] = await slack.wait_for("response_url:sm1", timeout=5)
        expected = await runtime_of(app).market.quote("SPY")
        assert reply.body["text"] == bk.quote_title(expected) and reply.body["response_type"] == "in_channel"
        [opened] = slack.calls_to("apps.connections.open")
        assert opened.headers["Authorization"] == f"Bearer {APP_TOKEN}"
    await asyncio.sleep(0.2)
    assert "slack-socket" not in runtime_of(app).tasks
    assert slack.socket_count == 0


async def test_options_chain_and_express_a_plan(app: FastAPI, http: httpx.AsyncClient, slack: SlackDouble) -> None:
    runtime_of(app).options.clock = lambda: datetime(2013, 6, 3, 15, tzinfo=UTC)  # the recorded expirations
    chain = await _reply(http, slack, "options aapl 2013-06-07", "op1")
    text = json.dumps(chain["blocks"])
    assert chain["text"].startswith("AAPL options 2013-06-07 · underlying 438.89 · tradier")
    assert "150.00 C" in text and "0.52" in text
    express = await _reply(http, slack, "options express AAPL long 438.89 436.89 442.89", "op2")
    text = json.dumps(express["blocks"])
    assert "+AAPL130607C00150000" in text and "1 contracts" in text and "risk at stop $96.00" in text
    takes = [e for block in express["blocks"] if block["type"] == "actions" for e in block["elements"]]
    assert takes and all(e["value"].startswith("AAPL1306") and e["action_id"].startswith("option_take:")
                         for e in takes)  # the contract and its count, never a price
    usage = await _reply(http, slack, "options express AAPL up 1 2", "op3")
    assert "options express takes SYM long|short" in usage["text"]
