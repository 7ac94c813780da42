"""`/ta picks` over the Slack double: cards with Alert at trigger / Take setup / Explain; only traders may act."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI

from bots.slack import blocks as bk
from tests.doubles.slack_api import SlackDouble
from tests.doubles.tradier import TradierDouble
from tests.integration.orders_helpers import place_posts
from tests.integration.slack.rig import button, click, command, post, runtime_of
from tests.integration.test_picks_actions import _orb_pick, quote_msft_where_the_session_trades


async def test_picks_cards_and_their_actions(app: FastAPI, http: httpx.AsyncClient, slack: SlackDouble,
                                            tradier: TradierDouble) -> None:
    quote_msft_where_the_session_trades(tradier)
    pick_id = await _orb_pick(runtime_of(app).picks_engine)
    await post(http, command(slack, "picks 3 MSFT", "p1"))
    [listed] = await slack.wait_for("response_url:p1")
    text = json.dumps(listed.body["blocks"])
    assert "MSFT" in text and "5-min opening range long forming" in text and "Trigger 101.00" in text
    take = button(listed.body["blocks"], "pick:take")
    assert take["value"] == pick_id

    await post(http, click(slack, "pick:take", pick_id, "s1", user="U0STRANGER"))
    [refused] = await slack.wait_for("response_url:s1")
    assert "Only the users listed in TRADERS" in refused.body["text"]

    await post(http, click(slack, "pick:alert", pick_id, "s2"))
    [alerted] = await slack.wait_for("response_url:s2")
    assert "Alert created" in json.dumps(alerted.body)

    await post(http, click(slack, "pick:take", pick_id, "s3"))
    [preview] = await slack.wait_for("response_url:s3", timeout=5)
    assert button(preview.body["blocks"], bk.ORDER_CONFIRM)["value"]
    assert "otoco" in json.dumps(preview.body).lower() or "101" in json.dumps(preview.body)
    assert place_posts(tradier) == []


async def test_picks_help_lists_the_subcommand(http: httpx.AsyncClient, slack: SlackDouble) -> None:
    await post(http, command(slack, "help", "h1"))
    [helped] = await slack.wait_for("response_url:h1")
    assert "/ta picks" in json.dumps(helped.body)
