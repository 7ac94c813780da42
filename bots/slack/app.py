"""The Slack app (slack-bolt AsyncApp): a thin translator. Every listener acks first, makes one core call, renders.

    app = build_slack_app(runtime, settings)            # AsyncWebClient at SLACK_API_URL unless `client` is given
    http = await start_slack(runtime)                   # + the `slack` alert notifier; None when Slack is off
    await handle_slack_events(request, http, settings)  # POST /slack/events (api/app.py)

Request signatures (HMAC of the raw body, whole-number timestamp within 5 minutes, each signed request once) are
checked by `bots.slack.signing` before Bolt sees the request, and again by Bolt's built-in verification: 401
before any listener (so before any core call). Then one middleware refuses a user not in TRADERS whatever they
ask for, unless it is public (`bots.slack.access`). A listener that fails after its ack still answers the user
(`@app.error`). Events API retries
(`X-Slack-Retry-Num`, same `event_id`) are acknowledged and dropped when the first delivery was seen. Order
buttons carry only `<intent id>|<confirm token>`; the click goes through `OrderService.confirm`, whose checks
(TRADERS, proposer, token, single use, expiry) are the same for every front-end. Position buttons (Trim 50% /
Close / Stop to BE, and Roll for OCC option positions or Hedge / Collar for stock) carry only `<symbol>|<action>`,
alert chips only `<trigger id>|<chip id>`, pick buttons the pick id and the `/ta plan` Take button the plan: each
click is executed by the action service and answered with its outcome (`commands.outcome_reply`); broker-order
Cancel buttons carry only the order id.

Socket Mode (`bots.slack.socket_mode`) runs as well when SLACK_APP_TOKEN is set: the same app, fed over Slack's
WebSocket (no public URL needed; the app-level token authenticates the socket, so there are no request
signatures there); /slack/events keeps answering HTTP deliveries. `/ta order` without arguments
opens a modal (`bots.slack.order_modal`); `/ta coach` answers in a thread (`bots.slack.coach`); `/ta journal
export` uploads a CSV to the user's DM with the app (files_upload_v2).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
import structlog
from slack_bolt import BoltResponse
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bots.slack import blocks as bk
from bots.slack.access import block_action, slack_actor, trader_middleware
from bots.slack.blocks_actions import PLAN_TAKE, parse_plan_value
from bots.slack.blocks_coach import COACH_ALERT, COACH_ORDER
from bots.slack.blocks_picks import PICK_ACTION
from bots.slack.blocks_picks import VERBS as PICK_VERBS
from bots.slack.coach import SlackCoach
from bots.slack.commands import HELP, Reply, SlashCommands, Upload, preview_reply
from bots.slack.notifier import SlackNotifier
from bots.slack.options import OPTION_TAKE
from bots.slack.order_modal import ORDER_MODAL, inline_errors, order_modal, submitted_order
from bots.slack.signing import REPLAY, SignedRequests
from bots.slack.socket_mode import start_socket_mode
from core.domain.action_refs import ActionRef, Target
from core.domain.order_input import parse_order
from core.errors import CoreError, ExternalPermanent, Invalid
from core.runtime import Runtime
from core.settings import Settings

log = structlog.get_logger("bots.slack")

SEEN_EVENTS = 10_000
Respond = Callable[..., Awaitable[Any]]
FAILED = ("Something went wrong on our side while handling that; it was logged. Check `/ta orders` before you "
          "send an order again.")


@dataclass(frozen=True, slots=True)
class SlackHttp:
    """What POST /slack/events needs: the signature guard in front of Bolt's request handler."""

    handler: AsyncSlackRequestHandler
    signed: SignedRequests


def event_actor(body: dict[str, Any], event: dict[str, Any]) -> str:
    """The actor of an Events API event (the user is in the event, the team in the envelope)."""
    return f"slack:{body.get('team_id') or event.get('team') or ''}:{event.get('user') or ''}"


def make_client(settings: Settings, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The Web API client; pass a long-lived `session` to keep connections (and TLS) alive between calls, which
    slack_sdk otherwise opens and closes per call."""
    token = settings.slack.bot_token.get_secret_value() if settings.slack.bot_token else None
    base_url = settings.slack.api_url if settings.slack.api_url.endswith("/") else settings.slack.api_url + "/"
    return AsyncWebClient(token=token, base_url=base_url, session=session)


async def _send(respond: Respond, reply: Reply) -> None:
    for n, message in enumerate(reply.messages):
        await respond(text=bk.fallback(reply.text), blocks=message, response_type=reply.response_type,
                      replace_original=reply.replace_original if n == 0 else False)


async def _error(respond: Respond, exc: CoreError) -> None:
    await respond(text=bk.fallback(bk.error_text(exc)), blocks=bk.error_blocks(exc), response_type="ephemeral",
                  replace_original=False)


async def _answer(respond: Respond, call: Awaitable[Reply | None]) -> None:
    """Await the one core call (after the ack) and send its reply (None: it answered elsewhere, e.g. in a
    thread), or the core error as a user message."""
    try:
        reply = await call
    except CoreError as exc:
        await _error(respond, exc)
        return
    if reply is not None:
        await _send(respond, reply)


def _slack_error(exc: SlackApiError, doing: str, hint: str) -> ExternalPermanent:
    error = exc.response.get("error") if isinstance(exc.response.data, dict) else exc.response.status_code
    return ExternalPermanent(f"Slack refused to {doing} ({error}): {hint}")


async def dm_channel(client: AsyncWebClient, user_id: str) -> str:
    """The id of the user's DM with the app (conversations.open; scope im:write)."""
    try:
        opened = await client.conversations_open(users=user_id)
    except SlackApiError as exc:
        raise _slack_error(exc, "open a DM", "add the im:write scope and reinstall the app") from exc
    return str(opened["channel"]["id"])


async def upload_to_dm(client: AsyncWebClient, user_id: str, upload: Upload) -> None:
    channel = await dm_channel(client, user_id)
    try:
        await client.files_upload_v2(channel=channel, content=upload.content, filename=upload.filename,
                                     title=upload.title)
    except SlackApiError as exc:
        raise _slack_error(exc, "upload the file", "add the files:write scope and reinstall the app") from exc


async def post_messages(client: AsyncWebClient, channel: str, reply: Reply) -> None:
    for message in reply.messages:
        await client.chat_postMessage(channel=channel, text=bk.fallback(reply.text), blocks=message)


def _bolt_logger() -> logging.Logger:
    """Bolt's logger, without the start-up warning that a given `client` wins over the token in SLACK_BOT_TOKEN:
    our settings read that same variable and the client is built from it, so there is nothing to warn about."""
    logger = logging.getLogger("bots.slack.bolt")
    skipped = warning_client_prioritized_and_token_skipped()
    logger.addFilter(lambda record: record.getMessage() != skipped)
    return logger


_BOLT_LOGGER = _bolt_logger()


def build_slack_app(runtime: Runtime, settings: Settings, client: AsyncWebClient | None = None, *,
                    process_before_response: bool = False) -> AsyncApp:
    secret = settings.slack.signing_secret.get_secret_value() if settings.slack.signing_secret else None
    app = AsyncApp(client=client or make_client(settings), signing_secret=secret, name="tradeassist",
                   process_before_response=process_before_response, logger=_BOLT_LOGGER)
    commands = SlashCommands(runtime)
    seen: OrderedDict[str, None] = OrderedDict()
    app.middleware(trader_middleware(settings.traders))

    @app.middleware
    async def drop_retried_events(body: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if isinstance(event_id, str):
            if event_id in seen:
                log.info("slack.event_retry_dropped", event_id=event_id)
                return BoltResponse(status=200, body="")
            seen[event_id] = None
            while len(seen) > SEEN_EVENTS:
                seen.popitem(last=False)
        return await next()

    @app.error
    async def answer_failure(error: Exception, body: dict[str, Any], respond: Respond | None) -> None:
        """A listener failed (after its ack, usually): log it and tell the user instead of going silent."""
        log.error("slack.listener_failed", exc_info=error, type=body.get("type") if isinstance(body, dict) else None)
        if respond is None:
            return
        try:
            await respond(text=FAILED, response_type="ephemeral", replace_original=False)
        except Exception as exc:  # the user cannot be reached: the failure is already logged
            log.warning("slack.failure_reply_failed", error=str(exc))

    _command_listeners(app, runtime, commands, SlackCoach(runtime, app.client))
    _order_listeners(app, runtime, commands)

    async def pick(ack: Callable[..., Awaitable[Any]], body: dict[str, Any], action: dict[str, Any],
                   respond: Respond) -> None:
        await ack()
        verb = str(action.get("action_id") or "").split(":", 1)[1]
        await _answer(respond, commands.pick_action(slack_actor(body), verb, str(action.get("value") or "")))

    for verb in PICK_VERBS:
        app.action(block_action(f"{PICK_ACTION}:{verb}"))(pick)

    async def take_option(ack: Callable[..., Awaitable[Any]], body: dict[str, Any], action: dict[str, Any],
                          respond: Respond) -> None:
        await ack()
        await _answer(respond, commands.take_option(slack_actor(body), str(action.get("value") or "")))

    app.action(block_action(OPTION_TAKE))(take_option)

    return app


def _is_event_callback(body: bytes) -> bool:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return isinstance(parsed, dict) and parsed.get("type") == "event_callback"


def _json_value(action: dict[str, Any]) -> dict[str, Any] | None:
    """A button value that carries JSON (alert chips, coach alert drafts); None when it is not an object."""
    try:
        value = orjson.loads(str(action.get("value") or "{}"))
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


async def _stale_button(respond: Respond) -> None:
    await respond(text="This button is no longer valid.", response_type="ephemeral", replace_original=False)


def _command_listeners(app: AsyncApp, runtime: Runtime, commands: SlashCommands, coach: SlackCoach) -> None:
    """`/ta`, the order modal's submission, and the coach: its buttons, @mentions and thread replies."""

    async def run_command(actor: str, command: dict[str, Any]) -> Reply | None:
        """The subcommands that talk to Slack themselves (a modal, a thread, a file), else SlashCommands."""
        text = str(command.get("text") or "").strip()
        name = text.split(maxsplit=1)[0].lower() if text else ""
        if name == "order" and text.lower() == "order":
            try:
                await app.client.views_open(trigger_id=str(command.get("trigger_id") or ""), view=order_modal())
            except SlackApiError as exc:
                raise _slack_error(exc, "open the order form", "type the order: /ta order buy 1 AAPL") from exc
            return None
        if name == "coach":
            await coach.ask(actor, str(command.get("channel_id") or ""), str(command.get("user_id") or ""),
                            text[len(name):].strip())
            return None
        reply = await commands.run(actor, text)
        if reply.upload is not None:
            await upload_to_dm(app.client, str(command.get("user_id") or ""), reply.upload)
        return reply

    @app.command("/ta")
    async def ta(ack: Callable[..., Awaitable[Any]], command: dict[str, Any], respond: Respond) -> None:
        await ack()
        await _answer(respond, run_command(slack_actor(command), command))

    @app.view(ORDER_MODAL)
    async def order_submitted(ack: Callable[..., Awaitable[Any]], body: dict[str, Any], view: dict[str, Any]) -> None:
        """Invalid input: errors inline under their blocks (the modal stays open). Valid: close, preview in a DM."""
        try:
            order = parse_order(submitted_order(view))
        except Invalid as exc:
            await ack(response_action="errors", errors=inline_errors(exc))
            return
        await ack()
        try:
            channel = await dm_channel(app.client, str((body.get("user") or {}).get("id") or ""))
        except ExternalPermanent as exc:  # no way left to reach the user: nothing was proposed
            log.warning("slack.order_form_undeliverable", reason=exc.message)
            return
        try:
            reply = preview_reply(await runtime.orders.propose(slack_actor(body), order, source="slack:modal"))
        except CoreError as exc:
            reply = Reply([bk.error_blocks(exc)], bk.error_text(exc))
        await post_messages(app.client, channel, reply)

    @app.action(block_action(COACH_ORDER))
    async def coach_order(ack: Callable[..., Awaitable[Any]], action: dict[str, Any], respond: Respond) -> None:
        await ack()
        intent_id, token = bk.parse_order_value(str(action.get("value") or ""))
        await _answer(respond, commands.review_intent(intent_id, token))

    @app.action(block_action(COACH_ALERT))
    async def coach_alert(ack: Callable[..., Awaitable[Any]], body: dict[str, Any], action: dict[str, Any],
                          respond: Respond) -> None:
        await ack()
        draft = _json_value(action)
        if draft is None:
            await _stale_button(respond)
            return
        await _answer(respond, commands.create_alert(slack_actor(body), draft))

    @app.event("app_mention")
    async def mention(body: dict[str, Any], event: dict[str, Any], say: Callable[..., Awaitable[Any]]) -> None:
        if not await coach.on_mention(event_actor(body, event), event):
            await say(text=HELP, thread_ts=event.get("thread_ts") or event.get("ts"))

    @app.event("message")
    async def message(body: dict[str, Any], event: dict[str, Any], context: dict[str, Any]) -> None:
        await coach.on_message(event_actor(body, event), event, context.get("bot_user_id"))


def _order_listeners(app: AsyncApp, runtime: Runtime, commands: SlashCommands) -> None:
    """Confirm/Cancel on a preview, and the buttons that make a proposal (positions, broker orders, chips)."""

    @app.action(block_action(bk.ORDER_CONFIRM))
    async def confirm(ack: Callable[..., Awaitable[Any]], body: dict[str, Any], action: dict[str, Any],
                      respond: Respond) -> None:
        await ack()
        intent_id, token = bk.parse_order_value(str(action.get("value") or ""))
        try:
            result = await runtime.orders.confirm(intent_id, token, slack_actor(body))
        except CoreError as exc:
            await _error(respond, exc)
            return
        blocks = bk.order_outcome_blocks(result.intent, outcome=result.outcome, reason=result.reason)
        await respond(text=bk.fallback(f"Order {result.outcome}"), blocks=blocks, replace_original=True)

    @app.action(block_action(bk.ORDER_CANCEL))
    async def cancel(ack: Callable[..., Awaitable[Any]], body: dict[str, Any], action: dict[str, Any],
                     respond: Respond) -> None:
        await ack()
        intent_id, _ = bk.parse_order_value(str(action.get("value") or ""))
        try:
            intent = await runtime.orders.cancel_intent(intent_id, slack_actor(body))
        except CoreError as exc:
            await _error(respond, exc)
            return
        await respond(text="Order cancelled", replace_original=True,
                      blocks=bk.order_outcome_blocks(intent, outcome="cancelled"))

    @app.action(block_action(bk.POSITION_ACTION))
    async def position(ack: Callable[..., Awaitable[Any]], body: dict[str, Any], action: dict[str, Any],
                       respond: Respond) -> None:
        await ack()
        symbol, kind = bk.parse_position_value(str(action.get("value") or ""))
        await _answer(respond, commands.position_action(slack_actor(body), symbol, kind))

    @app.action(block_action(bk.BROKER_CANCEL))
    async def cancel_broker_order(ack: Callable[..., Awaitable[Any]], body: dict[str, Any], action: dict[str, Any],
                                  respond: Respond) -> None:
        await ack()
        await _answer(respond, commands.cancel_order(slack_actor(body), str(action.get("value") or "")))

    @app.action(block_action(bk.CHIP_ACTION))
    async def chip(ack: Callable[..., Awaitable[Any]], body: dict[str, Any], action: dict[str, Any],
                   respond: Respond) -> None:
        await ack()
        trigger_id, chip_id = bk.parse_chip_value(str(action.get("value") or ""))
        if not trigger_id or not chip_id:
            await _stale_button(respond)
            return
        await _answer(respond, commands.action(slack_actor(body), ActionRef(Target.ALERT, chip_id, trigger_id)))

    @app.action(block_action(PLAN_TAKE))
    async def take_plan(ack: Callable[..., Awaitable[Any]], body: dict[str, Any], action: dict[str, Any],
                        respond: Respond) -> None:
        await ack()
        plan = parse_plan_value(str(action.get("value") or ""))
        if plan is None:
            await _stale_button(respond)
            return
        await _answer(respond, commands.action(slack_actor(body), ActionRef(Target.PLAN, "take", plan=plan)))


async def start_slack(runtime: Runtime, client: AsyncWebClient | None = None) -> SlackHttp | None:
    """The HTTP handler and the `slack` alert notifier when this process runs the Slack app and it is
    configured; None otherwise (POST /slack/events then answers 503 with how to enable it)."""
    settings = runtime.settings
    if "slack" not in runtime.roles or not settings.integrations()["slack"].enabled:
        return None
    if client is None:
        session = aiohttp.ClientSession()
        runtime.add_closer(session.close)
        client = make_client(settings, session)
    app = build_slack_app(runtime, settings, client)
    if settings.slack.app_token is not None:
        start_socket_mode(runtime, app, settings.slack.app_token.get_secret_value())
    if settings.slack.alert_channel:
        runtime.delivery.register(SlackNotifier(app.client, settings.slack.alert_channel))
        if "engine" not in runtime.roles:  # a Slack-only process drains its own outbox rows
            await runtime.delivery.start(lambda coro, name: runtime.spawn(coro, name=name))
    log.info("slack.started", mode="socket+http" if settings.slack.app_token else "http",
             alert_channel=settings.slack.alert_channel or "")
    assert settings.slack.signing_secret is not None  # enabled() requires it
    return SlackHttp(AsyncSlackRequestHandler(app), SignedRequests(settings.slack.signing_secret.get_secret_value()))


async def handle_slack_events(request: Request, http: SlackHttp | None, settings: Settings) -> Response:
    if http is None:
        status = settings.integrations()["slack"]
        reason = status.reason if not status.enabled else "this process does not run the Slack app"
        how = status.how_to_enable if not status.enabled else "start it with `tradeassist run` or `tradeassist slack`"
        return JSONResponse(status_code=503, content={"error": {
            "code": "integration_disabled", "message": f"slack is disabled: {reason}",
            "details": {"integration": "slack", "reason": reason, "how_to_enable": how}}})
    body = await request.body()
    refused = http.signed.refusal(body, request.headers)
    if refused == REPLAY and _is_event_callback(body):
        return Response(status_code=200)  # a repeated event delivery: acknowledged, not handled again
    if refused is not None:
        log.info("slack.request_refused", reason=refused)
        return JSONResponse(status_code=401, content={"error": {"code": "unauthorized", "message": refused}},
                            headers={"X-Slack-No-Retry": "1"})
    return await http.handler.handle(request)
