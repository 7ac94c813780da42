"""A local fake of the Discord REST API (aiohttp on 127.0.0.1) recording every request, plus raw gateway payload
builders to inject interactions into a real discord.py bot (the interaction and gateway shapes Discord documents).

    async with DiscordApiDouble() as api:
        monkeypatch.setattr(discord.http.Route, "BASE", api.base_url)   # http://127.0.0.1:PORT/api/v10
        await bot.login("test-token")
        bot._connection.parse_interaction_create(slash("quote", {"symbol": "AAPL"}))
        call = await api.wait_for(api.callback_of(...))

Answers: the bot user and application for login, an echo of command syncs, the interaction callback
(`?with_response=1` shape), and plausible message JSON for followups, message edits and channel posts.
The Content-Type is exactly ``application/json`` (discord.py's ``json_or_text`` needs it).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

APP_ID = 900000000000000001
BOT_ID = APP_ID
GUILD_ID = 900000000000000100
CHANNEL_ID = 900000000000000200
ALERT_CHANNEL_ID = 900000000000000300
TIMESTAMP = "2026-01-05T15:00:00.000000+00:00"

_ids = itertools.count(910000000000000000)


def snowflake() -> str:
    return str(next(_ids))


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    json: Any
    at: float
    answer: Any = None  # the JSON the fake replied with (e.g. the created message, with its id)


def user(user_id: int, name: str = "trader", *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": name, "avatar": None,
            "bot": bot, "public_flags": 0, "flags": 0}


def message(*, channel_id: int | str = CHANNEL_ID, content: str = "", embeds: list[Any] | None = None,
            components: list[Any] | None = None, flags: int = 0, message_id: str | None = None,
            author: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": message_id or snowflake(), "channel_id": str(channel_id),
            "author": author or user(BOT_ID, "bot", bot=True),
            "content": content, "timestamp": TIMESTAMP, "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
            "embeds": embeds or [], "pinned": False, "type": 0, "components": components or [], "flags": flags,
            "application_id": str(APP_ID)}


def thread(parent_id: int, name: str, *, thread_id: str | None = None) -> dict[str, Any]:
    """A public thread (type 11); a thread started from a message has that message's id."""
    return {"id": thread_id or snowflake(), "guild_id": str(GUILD_ID), "parent_id": str(parent_id),
            "owner_id": str(BOT_ID), "name": name, "type": 11, "last_message_id": None, "rate_limit_per_user": 0,
            "message_count": 0, "member_count": 1, "flags": 0,
            "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "archive_timestamp": TIMESTAMP,
                                "locked": False}}


def _member(user_id: int) -> dict[str, Any]:
    return {"user": user(user_id), "roles": [], "joined_at": TIMESTAMP, "deaf": False, "mute": False,
            "permissions": "2147483647", "flags": 0, "nick": None, "avatar": None, "pending": False}


def _interaction(kind: int, data: dict[str, Any], *, user_id: int, **extra: Any) -> dict[str, Any]:
    return {"id": snowflake(), "application_id": str(APP_ID), "type": kind, "data": data,
            "token": f"itok-{snowflake()}", "version": 1, "guild_id": str(GUILD_ID), "channel_id": str(CHANNEL_ID),
            "channel": {"id": str(CHANNEL_ID), "type": 0, "guild_id": str(GUILD_ID), "name": "trading",
                        "position": 0, "permission_overwrites": [], "nsfw": False, "parent_id": None},
            "member": _member(user_id), "locale": "en-US", "guild_locale": "en-US", "app_permissions": "2147483647",
            "entitlements": [], "authorizing_integration_owners": {"0": str(GUILD_ID)}, "context": 0,
            "attachment_size_limit": 8 * 1024 * 1024, **extra}


def _options(options: dict[str, Any]) -> list[dict[str, Any]]:
    kinds = {str: 3, bool: 5, int: 4, float: 10}
    return [{"name": name, "type": kinds[type(value)], "value": value} for name, value in options.items()]


def slash(name: str, options: dict[str, Any] | None = None, *, sub: str | None = None,
          user_id: int = 1) -> dict[str, Any]:
    """An APPLICATION_COMMAND (type 2) interaction; `sub` makes it `/name sub ...`."""
    opts = _options(options or {})
    if sub is not None:
        opts = [{"name": sub, "type": 1, "options": opts}]
    return _interaction(2, {"id": snowflake(), "name": name, "type": 1, "options": opts}, user_id=user_id)


def autocomplete(name: str, focused: str, value: str, *, sub: str | None = None,
                 user_id: int = 1) -> dict[str, Any]:
    """An APPLICATION_COMMAND_AUTOCOMPLETE (type 4) for option `focused` of `/name` (or `/name sub`)."""
    options: list[dict[str, Any]] = [{"name": focused, "type": 3, "value": value, "focused": True}]
    if sub is not None:
        options = [{"name": sub, "type": 1, "options": options}]
    return _interaction(4, {"id": snowflake(), "name": name, "type": 1, "options": options}, user_id=user_id)


def button_click(custom_id: str, source: dict[str, Any], *, user_id: int = 1) -> dict[str, Any]:
    """A MESSAGE_COMPONENT (type 3) click on the button `custom_id` of the message `source` (as the fake
    returned it, components included)."""
    return _interaction(3, {"custom_id": custom_id, "component_type": 2}, user_id=user_id, message=source)


def modal_submit(custom_id: str, values: dict[str, str], *, user_id: int = 1) -> dict[str, Any]:
    """A MODAL_SUBMIT (type 5) of the modal `custom_id` (from the type 9 callback) with its text inputs' values
    by custom id (each in its own action row, as Discord sends them)."""
    rows = [{"type": 1, "components": [{"type": 4, "custom_id": key, "value": value}]}
            for key, value in values.items()]
    return _interaction(5, {"custom_id": custom_id, "components": rows}, user_id=user_id)


def message_create(channel_id: int | str, content: str, *, user_id: int = 1,
                   mention_bot: bool = True) -> dict[str, Any]:
    """A MESSAGE_CREATE gateway payload (for `bot._connection.parsers["MESSAGE_CREATE"]`)."""
    body = message(channel_id=channel_id, content=content, author=user(user_id))
    body.update({"guild_id": str(GUILD_ID), "member": {k: v for k, v in _member(user_id).items() if k != "user"},
                 "mentions": [user(BOT_ID, "tradeassist", bot=True)] if mention_bot else []})
    return body


def custom_ids(payload: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in payload.get("components") or [] for c in row.get("components", [])
            if "custom_id" in c]


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})


class DiscordApiDouble:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.base_url = ""
        self.messages: dict[str, dict[str, Any]] = {}  # message id -> the message JSON we answered with
        self.fail_channel_posts: list[int] = []  # statuses to answer channel posts with, in order
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()

    async def __aenter__(self) -> DiscordApiDouble:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/api/v10"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- queries ----------------------------------------------------------------------------------------------

    def find(self, method: str, pattern: str) -> list[Call]:
        regex = re.compile(pattern)
        return [c for c in self.calls if c.method == method and regex.search(c.path)]

    def callbacks(self, interaction: dict[str, Any]) -> list[Call]:
        return self.find("POST", f"/interactions/{interaction['id']}/{interaction['token']}/callback$")

    def followups(self, interaction: dict[str, Any]) -> list[Call]:
        return self.find("POST", f"/webhooks/{APP_ID}/{interaction['token']}$")

    def edits(self, interaction: dict[str, Any]) -> list[Call]:
        return self.find("PATCH", f"/webhooks/{APP_ID}/{interaction['token']}/messages/")

    async def wait_for(self, probe: Callable[[], list[Call]], count: int = 1, within: float = 10.0) -> list[Call]:
        """The calls `probe` finds, once there are at least `count` (fails after `within` seconds)."""
        async def _wait() -> list[Call]:
            async with self._changed:
                while len(found := probe()) < count:
                    await self._changed.wait()
                return found
        return await asyncio.wait_for(_wait(), within)

    # -- the fake ---------------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        body: Any = None
        if request.content_type == "application/json":
            raw = await request.read()
            body = json.loads(raw) if raw else None
        elif request.content_type.startswith("multipart/"):
            form = await request.post()
            body = json.loads(str(form.get("payload_json") or "null"))
        path = request.path.removeprefix("/api/v10")
        call = Call(request.method, path, dict(request.query), body, time.monotonic())
        response = self._answer(request.method, path, body)
        call.answer = json.loads(response.body) if isinstance(response.body, bytes) else None
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()
        return response

    def _answer(self, method: str, path: str, body: Any) -> web.Response:
        if path == "/users/@me":
            return _json(user(BOT_ID, "tradeassist", bot=True))
        if path == "/oauth2/applications/@me":
            return _json({"id": str(APP_ID), "name": "tradeassist", "icon": None, "description": "",
                          "rpc_origins": [], "bot_public": False, "bot_require_code_grant": False,
                          "owner": user(1, "owner"), "summary": "", "verify_key": "0" * 64, "team": None,
                          "flags": 0})
        if method == "PUT" and re.fullmatch(r"/applications/\d+(/guilds/\d+)?/commands", path):
            return _json([{**command, "id": snowflake(), "application_id": str(APP_ID), "version": snowflake()}
                          for command in body or []])
        if match := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path):
            return self._callback(match[1], body or {})
        if method == "POST" and re.fullmatch(rf"/webhooks/{APP_ID}/[^/]+", path):
            return self._store(message(content=body.get("content") or "", embeds=body.get("embeds"),
                                       components=body.get("components"), flags=body.get("flags") or 0))
        if method == "PATCH" and (match := re.fullmatch(rf"/webhooks/{APP_ID}/[^/]+/messages/([^/]+)", path)):
            old = self.messages.get(match[1]) or message()
            new = {**old, **{k: v for k, v in (body or {}).items() if k in ("content", "embeds", "components")}}
            return self._store(new)
        if method == "POST" and (match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", path)):
            return _json(thread(int(match[1]), (body or {}).get("name") or "thread", thread_id=match[2]))
        if method == "POST" and (match := re.fullmatch(r"/channels/(\d+)/messages", path)):
            if self.fail_channel_posts:
                status = self.fail_channel_posts.pop(0)
                return _json({"message": "fake failure", "code": 0, "retry_after": 0.01, "global": False}, status)
            return self._store(message(channel_id=match[1], content=body.get("content") or "",
                                       embeds=body.get("embeds"), components=body.get("components")))
        return _json({})

    def _store(self, msg: dict[str, Any]) -> web.Response:
        self.messages[msg["id"]] = msg
        return _json(msg)

    def _callback(self, interaction_id: str, body: dict[str, Any]) -> web.Response:
        kind, data = body.get("type"), body.get("data") or {}
        answer: dict[str, Any] = {"interaction": {"id": interaction_id, "type": 2,
                                                  "response_message_id": None, "response_message_loading": False,
                                                  "response_message_ephemeral": bool((data.get("flags") or 0) & 64)},
                                  "resource": {"type": kind}}
        if kind in (4, 7):
            msg = self._store(message(content=data.get("content") or "", embeds=data.get("embeds"),
                                      components=data.get("components"), flags=data.get("flags") or 0))
            stored = json.loads(msg.body)  # type: ignore[arg-type]
            answer["interaction"]["response_message_id"] = stored["id"]
            answer["resource"]["message"] = stored
        elif kind == 5:
            answer["interaction"]["response_message_loading"] = True
        return _json(answer)
