"""A local Slack Web API (aiohttp on 127.0.0.1, free port) recording every call, plus `response_url` endpoints.

    async with SlackDouble() as slack:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)     # ".../api/" (trailing slash kept)
        ... slack.response_url("r1") as a slash command's / action's response_url ...
        call = await slack.wait_for("chat.postMessage")

Answers `auth.test`, `chat.postMessage`, `chat.postEphemeral`, `chat.update`, `views.open` with Slack's shapes
(`{"ok": true, ...}`), checks the Bearer token (`invalid_auth` otherwise), and plays faults queued with
`fail(method, status=429, retry_after="3")` (429 with Retry-After and `{"ok": false, "error": "ratelimited"}`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

BOT_TOKEN = "xoxb-test-token"
TEAM_ID = "T0TEST"
BOT_USER = "UBOT"


@dataclass
class SlackCall:
    method: str  # "chat.postMessage" or "response_url:<key>"
    body: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Fault:
    method: str
    status: int
    retry_after: str | None
    times: int


class SlackDouble:
    def __init__(self) -> None:
        self.calls: list[SlackCall] = []
        self.faults: list[_Fault] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()
        self._ts = 0

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.base_url}/response/{key}"

    def fail(self, method: str, *, status: int = 429, retry_after: str | None = "1", times: int = 1) -> None:
        self.faults.append(_Fault(method, status, retry_after, times))

    def calls_to(self, method: str) -> list[SlackCall]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 3.0) -> list[SlackCall]:
        deadline = time.monotonic() + timeout
        while len(self.calls_to(method)) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{method}: {len(self.calls_to(method))} calls, expected {count}; "
                                     f"seen {[c.method for c in self.calls]}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.05))
        return self.calls_to(method)

    async def _body(self, request: web.Request) -> dict[str, Any]:
        raw = await request.text()
        if not raw:
            return {}
        if request.content_type == "application/json":
            parsed = json.loads(raw)
            return parsed if isinstance(parsed, dict) else {"_": parsed}
        return dict(parse_qsl(raw))

    def _record(self, method: str, body: dict[str, Any], request: web.Request) -> None:
        self.calls.append(SlackCall(method, body, dict(request.headers)))
        self._changed.set()

    def _fault(self, method: str) -> web.Response | None:
        for fault in self.faults:
            if fault.method == method and fault.times > 0:
                fault.times -= 1
                headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                error = "ratelimited" if fault.status == 429 else "internal_error"
                return web.json_response({"ok": False, "error": error}, status=fault.status, headers=headers)
        return None

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await self._body(request)
        self._record(method, body, request)
        fault = self._fault(method)
        if fault is not None:
            return fault
        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method == "auth.test":
            return web.json_response({"ok": True, "url": "https://test.slack.com/", "team": "Test",
                                      "user": "tradeassist", "team_id": TEAM_ID, "user_id": BOT_USER,
                                      "bot_id": "BBOT", "is_enterprise_install": False})
        if method in {"chat.postMessage", "chat.update", "chat.postEphemeral"}:
            self._ts += 1
            ts = f"{int(time.time())}.{self._ts:06d}"
            return web.json_response({"ok": True, "channel": body.get("channel"), "ts": ts,
                                      "message_ts": ts, "message": {"text": body.get("text"), "ts": ts}})
        if method == "views.open":
            return web.json_response({"ok": True, "view": {"id": "V1", **(body.get("view") or {})}})
        return web.json_response({"ok": False, "error": "unknown_method"}, status=404)

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        self._record(f"response_url:{request.match_info['key']}", body, request)
        return web.Response(text="ok")

    async def __aenter__(self) -> SlackDouble:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
