"""A local Discord Execute Webhook (``POST /api/webhooks/{id}/{token}``) on aiohttp, recording every request.

Scripted answers are served in order, then the default (204, like Discord without ``?wait=true``)::

    async with DiscordWebhookDouble() as hook:
        hook.script(429, {"message": "You are being rate limited.", "retry_after": 0.05, "global": False})
        url = hook.url            # http://127.0.0.1:PORT/api/webhooks/1234/<token>
        ...
        hook.requests[0].json["embeds"][0]["title"]
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "s3cr3t-webhook-token"


@dataclass
class Call:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    at: float


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class DiscordWebhookDouble:
    def __init__(self, webhook_id: str = "1234", token: str = TOKEN) -> None:
        self.webhook_id, self.token = webhook_id, token
        self.requests: list[Call] = []
        self.answers: deque[Answer] = deque()
        self.statuses: list[int] = []
        self.delay = 0.0
        self.url = ""
        self._runner: web.AppRunner | None = None
        self.delivered = asyncio.Event()

    async def __aenter__(self) -> DiscordWebhookDouble:
        app = web.Application()
        app.router.add_post("/api/webhooks/{id}/{token}", self._execute)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/api/webhooks/{self.webhook_id}/{self.token}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def script(self, status: int, body: Any = None, headers: dict[str, str] | None = None, times: int = 1) -> None:
        self.answers.extend(Answer(status, body, headers or {}) for _ in range(times))

    @property
    def accepted(self) -> list[Call]:
        """Requests answered 2xx (the messages Discord would have posted)."""
        return [call for call, status in zip(self.requests, self.statuses, strict=True) if status < 300]

    async def _execute(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.requests.append(Call(request.path, dict(request.query), dict(request.headers),
                                  json.loads(raw) if raw else None, time.monotonic()))
        if self.delay:
            await asyncio.sleep(self.delay)
        if (request.match_info["id"], request.match_info["token"]) != (self.webhook_id, self.token):
            self.statuses.append(404)
            return web.json_response({"message": "Unknown Webhook", "code": 10015}, status=404)
        answer = self.answers.popleft() if self.answers else Answer(204)
        self.statuses.append(answer.status)
        headers = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4", "X-RateLimit-Reset-After": "0.4",
                   "X-RateLimit-Bucket": "abc123", **answer.headers}
        if answer.status == 429:
            headers.setdefault("Retry-After", str(max(1, round((answer.body or {}).get("retry_after", 1)))))
        if answer.status < 300:
            self.delivered.set()
        if answer.body is None:
            return web.Response(status=answer.status, headers=headers)
        return web.json_response(answer.body, status=answer.status, headers=headers)
