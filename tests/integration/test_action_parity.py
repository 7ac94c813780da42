"""Parity: every chip, position action and pick action clicked on REST (POST /api/v1/actions), Discord (the
gateway/API doubles) and Slack (signed requests to /slack/events) gives the same intent: the same stored order
document and risk decision, the same snooze duration, the same plan, the same alert. One runtime serves the three
surfaces against the Tradier and Polygon doubles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from api.app import create_app
from bots.discord import TradeBot
from bots.slack import blocks as bk
from bots.slack.blocks_actions import PLAN_TAKE, plan_take_value
from core.db.models import JournalEntry, OrderIntentRow
from core.db.repositories import PicksRepository
from core.domain.action_refs import ActionRef, PlanDraft, Target
from core.domain.alerts import FireKind
from core.domain.picks import SIZE_ON_READ
from core.errors import Forbidden
from core.runtime import Runtime
from core.settings import DiscordSettings, PolygonSettings, Settings, SlackSettings
from tests.conftest import API_KEY
from tests.doubles.discord_api import (
    ALERT_CHANNEL_ID,
    GUILD_ID,
    DiscordApiDouble,
    button_click,
    custom_ids,
    message,
    slash,
)
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.doubles.slack_api import BOT_TOKEN, TEAM_ID, SlackDouble
from tests.doubles.tradier import TradierDouble
from tests.integration.actions_helpers import stored_fire
from tests.integration.discord.conftest import api
from tests.integration.discord.rig import first_callback, first_followup, inject, logged_in
from tests.integration.orders_helpers import broker_settings, place_posts, unthrottled
from tests.integration.slack.conftest import slack
from tests.integration.slack.rig import SECRET, button, click, command, post

__all__ = ["api", "slack"]  # the Discord and Slack doubles' fixtures, used here

DISCORD_TRADER, DISCORD_OTHER = 1, 2
SLACK_TRADER, SLACK_OTHER = "U0TRADER", "U0STRANGER"
LATER = [(date.today() + timedelta(days=days)).isoformat() for days in (7, 45, 90)]
HELD_CALL = f"AAPL{LATER[0][2:4]}{LATER[0][5:7]}{LATER[0][8:10]}C00150000"  # rolls to the 150 call of LATER[1]


@dataclass
class Surfaces:
    rt: Runtime
    rest: httpx.AsyncClient
    slack_http: httpx.AsyncClient
    slack: SlackDouble
    bot: TradeBot
    discord: DiscordApiDouble


def hedge_contract(kind: str, strike: float, bid: float, ask: float) -> dict[str, Any]:
    """An AAPL contract of the first listed expiration 30+ days out, in Tradier's chain shape: the put the hedge
    buys, the call a collar sells above the price."""
    expiration = LATER[1]
    stamp = expiration[2:4] + expiration[5:7] + expiration[8:10]
    return {"symbol": f"AAPL{stamp}{kind[0].upper()}{int(strike * 1000):08d}", "underlying": "AAPL",
            "strike": strike, "option_type": kind, "expiration_date": expiration, "bid": bid, "ask": ask,
            "last": ask, "bidsize": 10, "asksize": 12, "open_interest": 1200, "volume": 345, "prevclose": ask,
            "greeks": None}


@pytest.fixture
async def surfaces(make_settings: Callable[..., Settings], database_url: str, tradier: TradierDouble,
                   pg: PolygonDouble, slack: SlackDouble, api: DiscordApiDouble) -> AsyncIterator[Surfaces]:
    tradier.positions = [
        {"cost_basis": 80000.0, "date_acquired": "2024-06-03T14:41:11.405Z", "id": 1, "quantity": 200.0,
         "symbol": "AAPL"},
        {"cost_basis": 300.0, "date_acquired": "2024-06-03T14:41:11.405Z", "id": 2, "quantity": 1.0,
         "symbol": HELD_CALL}]
    tradier.quotes[HELD_CALL] = {**tradier.quotes["AAPL"], "symbol": HELD_CALL, "last": 3.0, "bid": 2.9,
                                 "ask": 3.1}
    tradier.expirations = LATER
    tradier.serve("/markets/options/chains", {"options": {"option": [
        hedge_contract("put", 150.0, 2.1, 2.2), hedge_contract("call", 470.0, 3.0, 3.2),
        hedge_contract("call", 150.0, 5.0, 5.2)]}})  # the call a roll of HELD_CALL buys
    settings = broker_settings(
        make_settings, database_url, tradier,
        traders=["api", f"discord:{DISCORD_TRADER}", f"slack:{TEAM_ID}:{SLACK_TRADER}"],
        polygon=PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url),
        slack=SlackSettings(_env_file=None, bot_token=BOT_TOKEN, signing_secret=SECRET,  # type: ignore[call-arg]
                            api_url=slack.api_url),
        discord=DiscordSettings(_env_file=None, bot_token="test-token", guild_ids=[GUILD_ID],  # type: ignore[call-arg]
                                alert_channel_id=ALERT_CHANNEL_ID, api_url=api.base_url,
                                gateway_url="ws://127.0.0.1:9/"))
    app: FastAPI = create_app(settings, roles=frozenset({"api", "slack"}))
    async with app.router.lifespan_context(app):
        rt = unthrottled(app.state.runtime)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers={
                "X-API-Key": API_KEY}, timeout=10) as rest, \
                httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=10) as slack_http, \
                logged_in(rt) as bot:
            yield Surfaces(rt, rest, slack_http, slack, bot, api)


# -- what each surface's click left behind ---------------------------------------------------------------------------


async def _latest_intent(rt: Runtime, actor: str) -> dict[str, Any] | None:
    async with rt.db.read() as session:
        row = (await session.scalars(select(OrderIntentRow).where(OrderIntentRow.actor == actor)
                                     .order_by(OrderIntentRow.created_at.desc()).limit(1))).first()
        denied = (await session.scalars(select(JournalEntry).where(JournalEntry.actor == actor,
                                                                   JournalEntry.tags.contains(["denied"]))
                                        .order_by(JournalEntry.created_at.desc()).limit(1))).first() \
            if row is None else None
    if row is not None:
        return {"order": row.order, "decision": row.risk["decision"], "reason": row.risk["reason"]}
    return None if denied is None else {"denied": denied.body}


Observe = Callable[[Runtime, str, dict[str, Any]], Awaitable[Any]]


async def intent(rt: Runtime, actor: str, context: dict[str, Any]) -> Any:
    """The order intent the click stored (its order document and risk decision)."""
    found = await _latest_intent(rt, actor)
    assert found is not None, f"{actor} proposed nothing"
    return found


async def snoozed_minutes(rt: Runtime, actor: str, context: dict[str, Any]) -> Any:
    alert = await rt.alerts.get(context["alert_id"])
    until = datetime.fromisoformat(alert.snoozed_until)
    return alert.status, round((until - datetime.now(UTC)).total_seconds() / 60)


async def alert_status(rt: Runtime, actor: str, context: dict[str, Any]) -> Any:
    return (await rt.alerts.get(context["alert_id"])).status


async def created_alert(rt: Runtime, actor: str, context: dict[str, Any]) -> Any:
    [alert] = [a for a in await rt.alerts.list() if a.note and context["pick_id"] in a.note]
    return alert.symbol, alert.condition, alert.level


async def planned(rt: Runtime, actor: str, context: dict[str, Any]) -> Any:
    """The plan shows up in the reply (`context["reply"]`, the surface's text) with its numbers."""
    plan = context["plan"]
    reply = context["reply"]
    return all(str(value) in reply for value in (plan["entry"], plan["stop"], *plan["targets"]))


# -- the clicks ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Click:
    """One click in the three surfaces' terms: the REST body, the Discord custom id, the Slack action id + value."""

    rest: dict[str, Any]
    discord: str
    slack: tuple[str, str]


async def click_rest(s: Surfaces, c: Click) -> str:
    response = await s.rest.post("/api/v1/actions", json=c.rest)
    assert response.status_code == 200, response.text
    return response.text


def discord_click(c: Click, user: int) -> dict[str, Any]:
    """The click on `c`'s button of a card that carries it."""
    source = message(channel_id=ALERT_CHANNEL_ID, content="card", components=[
        {"type": 1, "components": [{"type": 2, "style": 1, "label": "x", "custom_id": c.discord}]}])
    return button_click(c.discord, source, user_id=user)


async def discord_reply(s: Surfaces, c: Click) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the bot sent, the message the fake answered with) for the trader's click on `c`."""
    return await first_followup(s.discord, inject(s.bot, discord_click(c, DISCORD_TRADER)))


async def click_discord(s: Surfaces, c: Click, user: int = DISCORD_TRADER) -> str:
    if user == DISCORD_TRADER:
        return str((await discord_reply(s, c))[0])
    refused = await first_callback(s.discord, inject(s.bot, discord_click(c, user)))
    return str(refused["data"]["content"])


async def slack_reply(s: Surfaces, action_id: str, value: str, key: str, user: str = SLACK_TRADER) -> dict[str, Any]:
    assert (await post(s.slack_http, click(s.slack, action_id, value, key, user=user))).status_code == 200
    [reply] = await s.slack.wait_for(f"response_url:{key}", timeout=10)
    body: dict[str, Any] = reply.body
    return body


async def click_slack(s: Surfaces, c: Click, key: str, user: str = SLACK_TRADER) -> str:
    return str(await slack_reply(s, *c.slack, key, user=user))


def chip_click(context: dict[str, Any], chip: str) -> Click:
    trigger, alert = context["trigger_id"], context["alert_id"]
    return Click({"target": "alert", "id": trigger, "action": chip}, f"alr:chip:{alert}:{trigger}:{chip}",
                 (f"{bk.CHIP_ACTION}:0", bk.chip_value(trigger, chip)))


DISCORD_VERBS = {"breakeven": "be"}


def position_click(symbol: str, action: str) -> Click:
    return Click({"target": "position", "id": symbol, "action": action},
                 f"pos:{DISCORD_VERBS.get(action, action)}:{symbol}", (f"position:{action}", f"{symbol}|{action}"))


def pick_click(pick_id: str, verb: str) -> Click:
    return Click({"target": "pick", "id": pick_id, "action": verb}, f"pck:{verb}:{pick_id}", (f"pick:{verb}", pick_id))


def plan_click(plan: PlanDraft) -> Click:
    target = f":{plan.targets[0]}" if plan.targets else ""
    return Click({"target": "plan", "action": "take", "plan": plan.to_dict()},
                 f"pln:take:{plan.side}:{plan.symbol}:{plan.entry}:{plan.stop}{target}",
                 (PLAN_TAKE, plan_take_value(plan)))


# -- the table -------------------------------------------------------------------------------------------------------

Setup = Callable[[Runtime], Awaitable[dict[str, Any]]]


def fire(symbol: str, condition: str, level: str, price: str, kind: FireKind = FireKind.CROSSED) -> Setup:
    async def setup(rt: Runtime) -> dict[str, Any]:
        return await stored_fire(rt, symbol, condition, level, price, kind)
    return setup


async def nothing(rt: Runtime) -> dict[str, Any]:
    return {}


async def a_pick(rt: Runtime) -> dict[str, Any]:
    """A triggered MSFT opening-range pick, stored as the picks engine stores it."""
    now = datetime.now(UTC)
    pick_id = "pick" + now.strftime("%H%M%S%f")
    payload = {"id": pick_id, "symbol": "MSFT", "setup": "orb5", "setup_label": "5-min opening range",
               "direction": "long", "trigger": "35.40", "stop": "34.90", "stop_basis": "range low",
               "invalidation": "back inside the range", "targets": ["36.40", "36.90"], "r_multiples": [2.0, 3.0],
               "size": None, "size_note": SIZE_ON_READ, "confidence": {"score": 0.8, "base": 0.6, "factors": []},
               "why": "Range break on volume.",
               "status": "triggered", "reason": "", "last": "35.47", "as_of": now.isoformat(), "freshness_s": 1.0,
               "created_at": now.isoformat(), "expires_at": None, "triggered_at": now.isoformat(),
               "closed_at": None, "outcome": {"mfe_r": 0.0, "mae_r": 0.0, "reached_1r": None, "result_r": None}}
    async with rt.db.uow() as session:
        await PicksRepository(session).upsert([{
            "id": pick_id, "symbol": "MSFT", "setup": "orb5", "direction": "long", "status": "triggered",
            "session": now.date().isoformat(), "score": 0.8, "payload": payload, "created_at": now, "as_of": now,
            "triggered_at": now, "closed_at": None, "mfe_r": 0.0, "mae_r": 0.0, "reached_1r": None,
            "result_r": None, "version": 1, "updated_at": now}])
    return {"pick_id": pick_id}


async def unsizable_fire(rt: Runtime) -> dict[str, Any]:
    """A breakout whose setup the risk budget cannot buy: the chip is "Plan this setup"."""
    await rt.settings_service.update({"risk": {"risk_per_trade_pct": 0.001}}, actor="api")
    context = await stored_fire(rt, "MSFT", "price_above", "35.00", "35.47")
    context["plan"] = next(c["plan"] for c in context["meta"]["actions"] if c["id"] == "plan")
    return context


PLAN = PlanDraft("MSFT", "long", "35.40", "34.90", ("36.40",))

CASES: dict[str, tuple[Setup, Callable[[dict[str, Any]], Click], Observe]] = {
    "chip setup": (fire("MSFT", "price_above", "35.00", "35.47"), lambda c: chip_click(c, "setup"), intent),
    "chip limit": (fire("MSFT", "price_above", "36.00", "35.80", FireKind.APPROACHING),
                   lambda c: chip_click(c, "limit"), intent),
    "chip stop": (fire("AAPL", "price_below", "430.00", "432.00", FireKind.APPROACHING),
                  lambda c: chip_click(c, "stop"), intent),
    "chip trim": (fire("AAPL", "price_above", "430.00", "438.89"), lambda c: chip_click(c, "trim"), intent),
    "chip breakeven": (fire("AAPL", "price_above", "430.00", "438.89"), lambda c: chip_click(c, "breakeven"),
                       intent),
    "chip exit": (fire("AAPL", "price_below", "440.00", "438.89"), lambda c: chip_click(c, "exit"), intent),
    "chip snooze": (fire("MSFT", "price_above", "35.00", "35.47"), lambda c: chip_click(c, "snooze"),
                    snoozed_minutes),
    "chip dismiss": (fire("MSFT", "price_above", "35.00", "35.47"), lambda c: chip_click(c, "dismiss"),
                     alert_status),
    "chip plan": (unsizable_fire, lambda c: chip_click(c, "plan"), planned),
    "position trim": (nothing, lambda c: position_click("AAPL", "trim"), intent),
    "position close": (nothing, lambda c: position_click("AAPL", "close"), intent),
    "position breakeven": (nothing, lambda c: position_click("AAPL", "breakeven"), intent),
    "position roll": (nothing, lambda c: position_click(HELD_CALL, "roll"), intent),
    "position hedge": (nothing, lambda c: position_click("AAPL", "hedge"), intent),
    "position collar": (nothing, lambda c: position_click("AAPL", "collar"), intent),
    "pick take": (a_pick, lambda c: pick_click(c["pick_id"], "take"), intent),
    "pick alert": (a_pick, lambda c: pick_click(c["pick_id"], "alert"), created_alert),
    "plan take": (nothing, lambda c: plan_click(PLAN), intent),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_every_surface_gives_the_same_intent(surfaces: Surfaces, case: str) -> None:
    setup, make_click, observe = CASES[case]
    seen = {}
    for n, (surface, actor) in enumerate((("rest", "api"), ("discord", f"discord:{DISCORD_TRADER}"),
                                          ("slack", f"slack:{TEAM_ID}:{SLACK_TRADER}"))):
        context = await setup(surfaces.rt)  # a fresh fire (or pick) per surface: a dismiss must not leak
        c = make_click(context)
        if surface == "rest":
            reply = await click_rest(surfaces, c)
        elif surface == "discord":
            reply = await click_discord(surfaces, c)
        else:
            reply = await click_slack(surfaces, c, f"{case.replace(' ', '-')}-{n}")
        seen[surface] = await observe(surfaces.rt, actor, {**context, "reply": reply})
    assert seen["rest"] == seen["discord"] == seen["slack"], seen
    if observe is intent:
        assert seen["rest"].get("decision") == "approved", seen["rest"]
    if observe is planned:
        assert seen["rest"] is True


async def test_take_setup_places_one_bracket_after_one_confirm_from_each_surface(surfaces: Surfaces,
                                                                                tradier: TradierDouble) -> None:
    """An alert's "Take setup" on Discord, a `/ta plan` reply's on Slack and a plan on REST: each shows the
    bracket with its 1R and risk verdict, and its one Confirm places one otoco/oto order."""
    s = surfaces
    outcome = (await s.rest.post("/api/v1/actions", json=plan_click(PLAN).rest)).json()
    assert outcome["bracket"]["one_r_dollars"] == "62.50"  # 125 x (35.40 - 34.90)
    confirmed = await s.rest.post(f"/api/v1/broker/orders/{outcome['proposal']['intent']['id']}/confirm",
                                  json={"token": outcome["proposal"]["token"]})
    assert confirmed.status_code == 200, confirmed.text
    assert [post.form["class"] for post in place_posts(tradier)] == ["otoco"]

    fire = await stored_fire(s.rt, "MSFT", "price_above", "35.00", "35.47")
    sent, preview = await discord_reply(s, chip_click(fire, "setup"))
    shown = {f["name"]: f["value"] for f in sent["embeds"][0]["fields"]}
    assert (shown["Entry"], shown["Stop"], shown["Target"]) == ("35.47", "34.65", "37.11")
    assert shown["1R"] == "$102.50" and shown["Risk"].startswith("approved")
    confirm = inject(s.bot, button_click(custom_ids(sent)[0], preview, user_id=DISCORD_TRADER))
    [edit] = await s.discord.wait_for(lambda: s.discord.edits(confirm))
    assert edit.json["embeds"][0]["title"] == "Order sent"
    assert [post.form["class"] for post in place_posts(tradier)] == ["otoco", "otoco"]

    assert (await post(s.slack_http, command(s.slack, "plan MSFT long 35.40 34.90", "plan-1"))).status_code == 200
    [card] = await s.slack.wait_for("response_url:plan-1", timeout=10)
    take = button(card.body["blocks"], PLAN_TAKE)
    reply = await slack_reply(s, PLAN_TAKE, take["value"], "plan-2")
    text = str(reply["blocks"])
    assert "*Target*\\nnone: entry and stop only (oto)" in text and "*1R*\\n$62.50" in text
    place = button(reply["blocks"], bk.ORDER_CONFIRM)
    assert "1R $62.50" in place["confirm"]["text"]["text"] and "Risk approved" in place["confirm"]["text"]["text"]
    outcome_reply = await slack_reply(s, bk.ORDER_CONFIRM, place["value"], "plan-3")
    assert "SUBMITTED" in str(outcome_reply)
    assert [post.form["class"] for post in place_posts(tradier)] == ["otoco", "otoco", "oto"]
    assert len(tradier.orders) == 3


async def test_roll_and_hedge_state_their_dollar_effect_before_the_confirm(surfaces: Surfaces) -> None:
    s = surfaces
    roll = (await s.rest.post("/api/v1/actions", json=position_click(HELD_CALL, "roll").rest)).json()
    # buy the next expiration's call at its ask 5.20, sell the held one at its last 3.00 (the served chain does not
    # list it)
    assert roll["effect"] == {"label": "Roll", "dollars": "-220.00",
                              "detail": "net debit 2.20 x 100 x 1 contract(s) = $220.00 paid"}
    hedge = (await s.rest.post("/api/v1/actions", json=position_click("AAPL", "hedge").rest)).json()
    assert (hedge["effect"]["label"], hedge["effect"]["dollars"]) == ("Protective put", "-440.00")  # 2 x 2.20 x 100
    assert "floor 150" in hedge["effect"]["detail"] and hedge["bracket"] is None
    discord_sent = await click_discord(s, position_click(HELD_CALL, "roll"))
    slack_sent = await click_slack(s, position_click("AAPL", "hedge"), "hedge-1")
    assert "-$220.00: net debit 2.20 x 100 x 1 contract(s)" in discord_sent
    assert "*Protective put*" in slack_sent and "-$440.00" in slack_sent
    collar = (await s.rest.post("/api/v1/actions", json=position_click("AAPL", "collar").rest)).json()
    assert (collar["effect"]["label"], collar["effect"]["dollars"]) == ("Collar", "160.00")  # 2 x (3.00 - 2.20) x 100
    assert "cap 470" in collar["effect"]["detail"]


async def test_a_non_trader_is_refused_on_every_surface(surfaces: Surfaces, tradier: TradierDouble) -> None:
    s = surfaces
    context = await stored_fire(s.rt, "MSFT", "price_above", "35.00", "35.47")
    c = chip_click(context, "setup")
    refused = await click_discord(s, c, user=DISCORD_OTHER)
    assert "Only the users listed in TRADERS" in refused and f"discord:{DISCORD_OTHER}" in refused
    refused = await click_slack(s, c, "stranger-1", user=SLACK_OTHER)
    assert "Only the users listed in TRADERS" in refused and SLACK_OTHER in refused
    with pytest.raises(Forbidden, match="Only the users listed in TRADERS"):  # what REST's `api` would meet
        await s.rt.actions.execute("slack:T0:U0NOBODY", ActionRef(Target.ALERT, "setup", context["trigger_id"]),
                                   source="api")
    async with s.rt.db.read() as session:
        assert (await session.scalars(select(OrderIntentRow))).all() == []
    assert place_posts(tradier) == []


@pytest.mark.parametrize(("case", "plan", "trader", "offered"), [
    ("trader, sizes to shares", ("35.40", "34.90"), True, True),
    ("not a trader", ("35.40", "34.90"), False, False),
    ("trader, sizes to nothing", ("3500", "1"), True, False),  # 3,499 risked per share: over any budget here
])
async def test_a_plan_reply_offers_the_same_on_discord_and_slack(surfaces: Surfaces, case: str,
                                                                 plan: tuple[str, str], trader: bool,
                                                                 offered: bool) -> None:
    """Discord's /plan and Slack's /ta plan decide through PlanService.offer: Take setup only for a trader whose
    plan sizes to at least one share, and the sizing shown only to a trader."""
    s = surfaces
    entry, stop = plan
    interaction = inject(s.bot, slash("plan", {"symbol": "MSFT", "side": "long", "entry": entry, "stop": stop},
                                      user_id=DISCORD_TRADER if trader else DISCORD_OTHER))
    sent, _ = await first_followup(s.discord, interaction)
    discord_fields = {f["name"]: f["value"] for f in sent["embeds"][0]["fields"]}
    key = f"offer-{case.replace(' ', '-').replace(',', '')}"
    assert (await post(s.slack_http, command(s.slack, f"plan MSFT long {entry} {stop}", key,
                                             user=SLACK_TRADER if trader else SLACK_OTHER))).status_code == 200
    [card] = await s.slack.wait_for(f"response_url:{key}", timeout=10)
    slack_text = str(card.body["blocks"])

    assert bool(sent.get("components")) is offered, case
    assert (PLAN_TAKE in slack_text) is offered, case
    offer = await s.rt.plans.offer(await s.rt.plans.validate(side="long", entry=entry, stop=stop, symbol="MSFT"),
                                   account=trader)
    assert offer.take is offered
    if trader and offer.sizing is not None and offer.sizing.result.sizing is not None:
        shares = offer.sizing.result.sizing.quantity
        assert discord_fields.get("Shares") == str(shares) and f"{shares} shares" in slack_text
    if not trader:
        assert "Shares" not in discord_fields and "shares" not in slack_text
        assert "no sizing or risk headroom" in discord_fields["Note"] and "no sizing or risk headroom" in slack_text

