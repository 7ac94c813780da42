"""The Take button of `/ta options express` over the Slack double: the button value is the contract and count; a
click proposes a limit at the contract's live mid (answered with the order preview); a non-trader is refused."""

from __future__ import annotations

import json

import httpx

from bots.slack import blocks as bk
from tests.doubles.slack_api import SlackDouble
from tests.doubles.tradier import TradierDouble, fixture
from tests.integration.orders_helpers import place_posts
from tests.integration.slack.rig import button, click, post

CONTRACT = "AAPL130607C00150000"
HIGHER = "AAPL130607C00155000"


async def test_take_proposes_the_contract_at_its_mid_and_refuses_a_non_trader(
        http: httpx.AsyncClient, slack: SlackDouble, tradier: TradierDouble) -> None:
    recorded = fixture("rb_option_quote_single.json")["quotes"]["quote"]
    tradier.quotes[CONTRACT] = {**recorded, "symbol": CONTRACT, "bid": 2.1, "ask": 2.24, "last": 2.15,
                                "strike": 150.0}
    await post(http, click(slack, "option_take:0", f"{CONTRACT}:2", "t1", user="U0STRANGER"))
    [refused] = await slack.wait_for("response_url:t1")
    assert "Only the users listed in TRADERS" in refused.body["text"]

    await post(http, click(slack, "option_take:0", f"{CONTRACT}:2", "t2"))
    [preview] = await slack.wait_for("response_url:t2", timeout=5)
    assert button(preview.body["blocks"], bk.ORDER_CONFIRM)["value"]
    shown = json.dumps(preview.body)
    assert CONTRACT in shown and "2.17" in shown  # (2.10 + 2.24) / 2

    tradier.quotes[HIGHER] = {**recorded, "symbol": HIGHER, "bid": 0.8, "ask": 0.9, "last": 0.85, "strike": 155.0}
    await post(http, click(slack, "option_take:1", f"{CONTRACT}+{HIGHER}:3", "t3"))
    [vertical] = await slack.wait_for("response_url:t3", timeout=5)
    assert button(vertical.body["blocks"], bk.ORDER_CONFIRM)["value"]
    assert HIGHER in json.dumps(vertical.body) and "1.32" in json.dumps(vertical.body)  # 2.17 - 0.85 debit
    await post(http, click(slack, "option_take:0", "no-contract", "t4"))
    [refused_value] = await slack.wait_for("response_url:t4", timeout=5)
    assert "carries no contract" in json.dumps(refused_value.body)
    assert place_posts(tradier) == []
