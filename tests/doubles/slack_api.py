"""A local Slack Web API (aiohttp on 127.0.0.1, free port) recording every call, plus `response_url` endpoints.

    async with SlackDouble() as slack:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)     # ".../api/" (trailing slash kept)
        ... slack.response_url("r1") as a slash command's / action's response_url ...
        call = await slack.wait_for("chat.postMessage")

Answers `auth.test`, `chat.postMessage`, `chat.postEphemeral`, `chat.update`, `views.open`, `conversations.open`
and the three steps of `files_upload_v2` (`files.getUploadURLExternal`, the upload POST kept in `uploads`,
`files.completeUploadExternal`) with Slack's shapes (`{"ok": true, ...}`), checks the Bearer token (`invalid_auth`
otherwise), and plays faults queued with `fail(method, status=429, retry_after="3")` (429 with Retry-After and
`{"ok": false, "error": "ratelimited"}`).

Socket Mode: `apps.connections.open` (app-level token `APP_TOKEN`) answers the ws:// URL of a local Socket Mode
server that greets each connection with `hello`; `await slack.socket_send(envelope)` pushes an envelope to the
connected client and every frame the client sends back is recorded as a `socket` call (the acks).
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
APP_TOKEN = "xapp-test-token"
TEAM_ID = "T0TEST"
BOT_USER = "UBOT"


@dataclass
class SlackCall:
    method: str  # "chat.postMessage", "response_url:<key>", "upload:<file id>" or "socket" (a client frame)
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
        self.uploads: dict[str, bytes] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._socket_open = asyncio.Event()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.base_url}/response/{key}"

    @property
    def socket_url(self) -> str:
        return f"{self.base_url.replace('http://', 'ws://')}/socket-mode"

    @property
    def socket_count(self) -> int:
        """Socket Mode connections open right now."""
        return len(self._sockets)

    async def socket_send(self, envelope: dict[str, Any], timeout: float = 3.0) -> None:
        """Push one envelope (`{"envelope_id", "type", "payload", ...}`) to the connected Socket Mode client."""
        await asyncio.wait_for(self._socket_open.wait(), timeout)
        await self._sockets[-1].send_str(json.dumps(envelope))

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
        """Form or JSON body, plus query parameters (slack_sdk sends some methods' arguments as `params`)."""
        query = dict(request.query)
        raw = await request.text()
        if not raw:
            return query
        if request.content_type == "application/json":
            parsed = json.loads(raw)
            return {**query, **(parsed if isinstance(parsed, dict) else {"_": parsed})}
        return {**query, **dict(parse_qsl(raw))}

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
        token = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if request.headers.get("Authorization") != f"Bearer {token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method == "apps.connections.open":
            return web.json_response({"ok": True, "url": self.socket_url})
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
            if not body.get("trigger_id"):
                return web.json_response({"ok": False, "error": "invalid_trigger_id"})
            view = body.get("view") or {}
            view = json.loads(view) if isinstance(view, str) else view
            return web.json_response({"ok": True, "view": {"id": "V1", **view}})
        if method == "conversations.open":
            return web.json_response({"ok": True, "channel": {"id": f"D{body.get('users', 'X')}"}})
        if method == "files.getUploadURLExternal":
            file_id = f"F{len(self.calls)}"
            upload_url = f"{self.base_url}/upload/{file_id}"
            return web.json_response({"ok": True, "file_id": file_id, "upload_url": upload_url})
        if method == "files.completeUploadExternal":
            files = json.loads(body.get("files") or "[]")
            missing = [f["id"] for f in files if f["id"] not in self.uploads]
            if missing or not files:
                return web.json_response({"ok": False, "error": "file_upload_not_found"})
            return web.json_response({"ok": True, "files": [{"id": f["id"], "title": f.get("title"),
                                                             "size": len(self.uploads[f["id"]])} for f in files]})
        return web.json_response({"ok": False, "error": "unknown_method"}, status=404)

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        self._record(f"response_url:{request.match_info['key']}", body, request)
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        self.uploads[file_id] = await request.read()
        self._record(f"upload:{file_id}", {"size": len(self.uploads[file_id])}, request)
        return web.Response(text=f"OK - {len(self.uploads[file_id])}")

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1,
                                      "debug_info": {"host": "double", "approximate_connection_time": 3600},
                                      "connection_info": {"app_id": "A0APP"}}))
        self._sockets.append(ws)
        self._socket_open.set()
        async for frame in ws:
            if frame.type == web.WSMsgType.TEXT:
                self._record("socket", json.loads(frame.data), request)
        self._sockets.remove(ws)
        if not self._sockets:
            self._socket_open.clear()
        return ws

    async def __aenter__(self) -> SlackDouble:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket-mode", self._socket_mode)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
