"""Pure ASGI middleware: request id + access log + metrics, the request body size cap (413), and the Host check
with the security headers every response carries."""

from __future__ import annotations

import itertools
import logging
import secrets
import time
from typing import Any

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.metrics import REQUEST_ERRORS, REQUEST_LATENCY

MAX_BODY_BYTES = 1024 * 1024
log = structlog.get_logger("api.access")
_access = logging.getLogger("api.access")  # structlog runs every processor before stdlib drops a line: ask first
# Request ids: a random per-process prefix and a counter, 32 hex digits like a uuid4 but without a getrandom()
# system call per request (tens of microseconds on a VM).
_ID_PREFIX = secrets.token_hex(8)
_ID_COUNTER = itertools.count()


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


def _too_large() -> list[Message]:
    body = orjson.dumps({"error": {"code": "too_large", "message": f"request body exceeds {MAX_BODY_BYTES} bytes"}})
    return [
        {"type": "http.response.start", "status": 413,
         "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]},
        {"type": "http.response.body", "body": body},
    ]


class BodyLimitMiddleware:
    """Refuses bodies over 1 MiB by Content-Length up front, or as soon as a streamed body passes the cap."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            for message in _too_large():
                await send(message)
            return
        received = 0
        refused = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit and not refused:
                refused = True
                for reply in _too_large():
                    await send(reply)
            return {"type": "http.disconnect"} if refused else message

        async def guarded_send(message: Message) -> None:
            if not refused:  # after a 413 the app's own answer is dropped
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise


class RequestContextMiddleware:
    """Binds a request id to every log line of the request, echoes it as X-Request-ID, records latency."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id", b"").decode()[:64] or new_request_id()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = _route_of(scope)
            elapsed = time.perf_counter() - started
            REQUEST_LATENCY.labels(method=scope["method"], route=route).observe(elapsed)
            if status >= 400:
                code = str(scope.get("state", {}).get("error_code", ""))  # set by api.errors for core errors
                REQUEST_ERRORS.labels(route=route, status=str(status), code=code).inc()
            if _access.isEnabledFor(logging.INFO):
                log.info("request", method=scope["method"], route=route, status=status, ms=round(elapsed * 1000, 2))
            structlog.contextvars.unbind_contextvars("request_id")


def _route_of(scope: dict[str, Any] | Scope) -> str:
    """The route template (`/api/v1/journal/{entry_id}`), never the raw path, so metric labels stay bounded."""
    if scope.get("route") is None:
        return "unmatched"
    path = str(scope["path"])
    for name, value in scope.get("path_params", {}).items():
        path = path.replace(f"/{value}", f"/{{{name}}}", 1)
    return path


# The dashboard's policy (api/static loads only its own scripts, styles and /ws), sent as a header so that
# `frame-ancestors` applies (a <meta> policy cannot carry it). JSON answers get the same: they load nothing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_CSP = b"content-security-policy"
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
_WITH_CSP = [(_CSP, CONTENT_SECURITY_POLICY.encode()), *_SECURITY_HEADERS]
_SEEN_HOSTS = 64  # raw Host values remembered as allowed (a name with a few ports), so most checks are one lookup


def _host_name(raw: bytes) -> str:
    """`Host` without its port (`[::1]:8000` -> `::1`), lower-cased."""
    host = raw.decode("latin-1").strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class SecurityMiddleware:
    """Answers only for the host names it serves (a DNS-rebinding page cannot reach the API through the
    trader's browser), and adds CSP, nosniff, no-referrer and DENY framing to every HTTP response. A response
    that sets its own policy (the API docs pages) keeps it."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.allowed = frozenset(allowed_hosts)
        self._seen: set[bytes] = set()

    def _serves(self, host: bytes) -> bool:
        if host in self._seen:
            return True
        if _host_name(host) not in self.allowed:
            return False
        if len(self._seen) < _SEEN_HOSTS:
            self._seen.add(host)
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = b""
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
                break
        if not self._serves(host):
            await self._refuse(scope, send, host)
            return
        if kind == "websocket":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                added = _WITH_CSP
                for name, _ in headers:  # Starlette sends header names lower-cased
                    if name == _CSP:
                        added = _SECURITY_HEADERS
                        break
                message["headers"] = [*headers, *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, host: bytes) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        shown = host.decode("latin-1")[:100] or "(none)"
        body = orjson.dumps({"error": {"code": "bad_host", "message": (
            f"this server does not answer for Host {shown!r}; add the name to ALLOWED_HOSTS if it should")}})
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                *_WITH_CSP]})
        await send({"type": "http.response.body", "body": body})
