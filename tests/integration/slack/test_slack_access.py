"""Deny by default on Slack (every `/ta` subcommand and verb, every button family, the order modal: a user not in
TRADERS gets only the public ones, and is told which TRADERS entry would admit them), and the signed-request edges:
a timestamp that is not a whole number, a replayed signed request, and a listener failing after its ack."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time

import httpx
import pytest
from fastapi import FastAPI

from bots.slack.access import BLOCK_ACTIONS, SUBCOMMAND_ACTIONS, block_action, subcommand_action
from bots.slack.app import FAILED
from bots.slack.commands import SlashCommands
from core.db.models import AlertRow
from core.domain.access import needs_trader
from core.settings import Settings
from tests.doubles.llm import OpenAIDouble
from tests.doubles.slack_api import TEAM_ID, SlackDouble
from tests.integration.slack.rig import (
    click,
    client_of,
    command,
    count,
    event,
    post,
    post_event,
    running,
    runtime_of,
    sign,
)
from tests.integration.slack.test_slack_features import _llm, _thread_message, view_submission

STRANGER = "U0STRANGER"
REFUSAL = f"add `slack:{TEAM_ID}:{STRANGER}` to TRADERS"


def typed_subcommands() -> list[str]:
    """Every `/ta` text the policy names: each subcommand, and each verb of the ones that take verbs."""
    texts: list[str] = []
    for name, entry in SUBCOMMAND_ACTIONS.items():
        texts += ([f"{name} {'SPY' if verb == '*' else verb}" for verb in entry] if isinstance(entry, dict)
                  else [name])
    return texts


def test_every_subcommand_and_button_has_a_policy() -> None:
    handled = {name.removeprefix("do_") for name, _ in inspect.getmembers(SlashCommands, inspect.isfunction)
               if name.startswith("do_")}
    assert set(SUBCOMMAND_ACTIONS) == handled | {"help", "coach"}  # coach is answered in a thread by the app
    assert subcommand_action("") is not None and not needs_trader(subcommand_action(""))
    assert subcommand_action("watch") == subcommand_action("watch list")
    assert needs_trader(subcommand_action("nonsense")) and needs_trader(subcommand_action("watch frobnicate"))
    with pytest.raises(KeyError, match="BLOCK_ACTIONS"):
        block_action("new_button")
    assert all(block_action(key).match(f"{key}:x") for key in BLOCK_ACTIONS)


async def test_a_non_trader_gets_only_the_public_subcommands(app: FastAPI, http: httpx.AsyncClient,
                                                             slack: SlackDouble) -> None:
    served = []
    for n, text in enumerate(typed_subcommands()):
        key = f"a{n}"
        typed = "size AAPL 190 188" if text == "size" else text
        response = await post(http, command(slack, typed, key, user=STRANGER))
        assert response.status_code == 200
        if needs_trader(subcommand_action(text)):
            body = response.json()
            assert body["response_type"] == "ephemeral" and REFUSAL in body["text"], (text, body)
        else:
            [answer] = await slack.wait_for(f"response_url:{key}", timeout=5)
            if text == "size":  # public, but sizing against the broker's equity reads the account
                assert REFUSAL in answer.body["text"] and "see the account" in answer.body["text"]
            else:
                assert REFUSAL not in json.dumps(answer.body), text
            served.append(text.split()[0])
    assert set(served) == {"help", "quote", "status", "plan", "size", "news", "earnings", "options", "picks"}
    await asyncio.sleep(0.2)
    assert not [c for c in slack.calls if c.method.startswith("views.") or c.method == "chat.postMessage"]
    assert await count(runtime_of(app), AlertRow) == 0


async def test_a_non_trader_cannot_remove_an_alert_or_click_any_button(app: FastAPI, http: httpx.AsyncClient,
                                                                       slack: SlackDouble) -> None:
    rt = runtime_of(app)
    alert = await rt.alerts.create({"symbol": "SPY", "condition": "price_above", "level": "999"})
    response = await post(http, command(slack, f"alert remove {alert.id}", "r1", user=STRANGER))
    assert REFUSAL in response.json()["text"]
    assert (await rt.alerts.get(alert.id)).status != "deleted"
    for n, key in enumerate(BLOCK_ACTIONS):
        await post(http, click(slack, f"{key}:x" if n % 2 else key, "x|y", f"b{n}", user=STRANGER))
        [answer] = await slack.wait_for(f"response_url:b{n}", timeout=5)
        assert REFUSAL in answer.body["text"] and answer.body["replace_original"] is False, key
    submitted = await post(http, view_submission({"side": "buy", "quantity": "1", "symbol": "AAPL",
                                                  "type": "market"}, user=STRANGER))
    body = submitted.json()
    assert body["response_action"] == "errors" and "TRADERS" in body["errors"]["quantity"]


async def test_a_non_trader_mentioning_the_coach_in_a_thread_is_told_why_not(settings: Settings,
                                                                               slack: SlackDouble) -> None:
    async with OpenAIDouble() as llm, running(_llm(settings, llm)) as app, client_of(app) as http:
        mention = {**_thread_message("200.1", "<@UBOT> plan AAPL", "200.2", user=STRANGER), "type": "app_mention"}
        assert (await post_event(http, event(mention, "EvS1"))).status_code == 200
        [refused] = await slack.wait_for("chat.postMessage", timeout=5)
        assert refused.body["thread_ts"] == "200.1" and REFUSAL in refused.body["text"]
        assert llm.requests == []


# -- signed requests ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stamp", ["soon", "1.5e9", "-1", "12ab"])
async def test_a_timestamp_that_is_not_a_whole_number_is_401_not_500(
        http: httpx.AsyncClient, slack: SlackDouble, caplog: pytest.LogCaptureFixture, stamp: str) -> None:
    body = command(slack, "status", "t1")
    headers = {**sign(body), "X-Slack-Request-Timestamp": stamp}
    with caplog.at_level(logging.ERROR):
        response = await http.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 401 and "whole number" in response.json()["error"]["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert slack.calls == []


async def test_a_replayed_signed_request_is_refused(app: FastAPI, http: httpx.AsyncClient,
                                                    slack: SlackDouble) -> None:
    body = command(slack, "alert add SPY above 999", "p1")
    headers = sign(body, ts=int(time.time()))
    assert (await http.post("/slack/events", content=body, headers=headers)).status_code == 200
    await slack.wait_for("response_url:p1", timeout=5)
    replay = await http.post("/slack/events", content=body, headers=headers)
    assert replay.status_code == 401 and "replay" in replay.json()["error"]["message"]
    assert replay.headers["X-Slack-No-Retry"] == "1"
    await asyncio.sleep(0.2)
    assert len(slack.calls_to("response_url:p1")) == 1 and await count(runtime_of(app), AlertRow) == 1


async def test_a_failure_after_the_ack_still_answers_the_user(app: FastAPI, http: httpx.AsyncClient,
                                                              slack: SlackDouble,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(symbol: str) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(runtime_of(app).market, "quote", broken)
    assert (await post(http, command(slack, "quote SPY", "f1"))).status_code == 200
    [answer] = await slack.wait_for("response_url:f1", timeout=5)
    assert answer.body["text"] == FAILED and answer.body["response_type"] == "ephemeral"
    assert "a bug" not in json.dumps(answer.body)
