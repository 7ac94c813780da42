"""Local LLM servers for tests, on 127.0.0.1 free ports, scripted per test.

- ``OpenAIDouble``: ``POST /v1/chat/completions`` (JSON, or SSE when the request says ``stream: true``: content
  in small deltas, tool-call arguments in fragments, a usage chunk when ``stream_options.include_usage``).
- ``ChatDataDouble``: ``POST /api/v2/chat`` (OpenAI-shaped JSON when ``openAIFormat`` is true, else plain text).

Each double answers its queued ``Reply`` values in order (``push``) and records every request (``requests``).
With the script empty it answers 400 "script exhausted", which fails a test fast instead of retrying.

    async with OpenAIDouble() as llm:
        llm.push(tool_calls(call("quote", {"symbol": "SPY"})), answer("SPY is at 512.30"))
        adapter = OpenAICompatLLM(base_url=llm.base_url, api_key="sk-test", model="m")
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Self

from aiohttp import web


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP answer: a JSON body (``json``) or a raw one (``text``), after ``delay`` seconds."""

    status: int = 200
    json: Any = None
    text: str | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0  # between SSE chunks (OpenAI streaming only)
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: Mapping[str, str]
    body: Any


_ids = itertools.count(1)


def call(name: str, arguments: Mapping[str, Any] | str, call_id: str | None = None) -> dict[str, Any]:
    """One OpenAI tool call; ``arguments`` as a dict, or a raw string (to script malformed JSON)."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": call_id or f"call_{next(_ids)}", "type": "function",
            "function": {"name": name, "arguments": raw}}


def completion(content: str | None, calls: tuple[dict[str, Any], ...] = (), *,
               model: str = "double-model") -> Reply:
    """A chat completion: an answer, or tool calls (several = parallel tool calls)."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = list(calls)
    return Reply(json={
        "id": f"chatcmpl-{next(_ids)}", "object": "chat.completion", "created": 1_718_000_000, "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    })


def answer(content: str) -> Reply:
    return completion(content)


def tool_calls(*calls: dict[str, Any]) -> Reply:
    return completion(None, calls)


def error(status: int, message: str = "scripted error", *, retry_after: float | None = None) -> Reply:
    headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
    return Reply(status=status, json={"error": {"message": message, "type": "double", "code": str(status)}},
                 headers=headers)


def slow(reply: Reply, delay: float) -> Reply:
    return replace(reply, delay=delay)


def model_text(text: str) -> Reply:
    """What a chat-data bot says (the double wraps it per ``openAIFormat``)."""
    return Reply(text=text)


class _ScriptedServer:
    path: ClassVar[str]

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._script: deque[Reply] = deque()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def push(self, *replies: Reply) -> None:
        self._script.extend(replies)

    @property
    def pending(self) -> int:
        return len(self._script)

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post(self.path, self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = self._base_url(f"http://{host}:{port}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _base_url(self, root: str) -> str:
        return root

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        self.requests.append(Recorded(request.path, dict(request.headers), body))
        if not self._script:
            return web.json_response({"error": {"message": "double: script exhausted"}}, status=400)
        reply = self._script.popleft()
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.status >= 400:
            return web.json_response(reply.json, status=reply.status, headers=dict(reply.headers))
        return await self._render(request, body if isinstance(body, dict) else {}, reply)

    async def _render(self, request: web.Request, body: Mapping[str, Any], reply: Reply) -> web.StreamResponse:
        raise NotImplementedError


class OpenAIDouble(_ScriptedServer):
    path = "/v1/chat/completions"

    def _base_url(self, root: str) -> str:
        return f"{root}/v1"

    async def _render(self, request: web.Request, body: Mapping[str, Any], reply: Reply) -> web.StreamResponse:
        if reply.text is not None:
            return web.Response(text=reply.text, status=reply.status, content_type="application/json")
        if not body.get("stream"):
            return web.json_response(reply.json, status=reply.status, headers=dict(reply.headers))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        for chunk in sse_chunks(reply.json, include_usage=include_usage):
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            if reply.chunk_delay:
                await asyncio.sleep(reply.chunk_delay)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _pieces(text: str, size: int) -> Iterator[str]:
    return (text[at:at + size] for at in range(0, len(text), size))


def sse_chunks(completion_body: Mapping[str, Any], *, include_usage: bool) -> Iterator[dict[str, Any]]:
    """A completion as the chunks a streaming server sends: text in 4-char deltas, each tool call's id and name
    first and its arguments in 5-char fragments, the finish reason, then usage (with an empty choice list)."""
    choice = completion_body["choices"][0]
    message = choice["message"]
    head = {key: completion_body[key] for key in ("id", "created", "model")} | {"object": "chat.completion.chunk"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return head | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    yield chunk({"role": "assistant", "content": ""})
    for text in _pieces(message.get("content") or "", 4):
        yield chunk({"content": text})
    for index, tool in enumerate(message.get("tool_calls") or ()):
        function = tool["function"]
        yield chunk({"tool_calls": [{"index": index, "id": tool["id"], "type": "function",
                                     "function": {"name": function["name"], "arguments": ""}}]})
        for fragment in _pieces(function["arguments"], 5):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
    yield chunk({}, choice["finish_reason"])
    if include_usage:
        yield head | {"choices": [], "usage": completion_body["usage"]}


class ChatDataDouble(_ScriptedServer):
    path = "/api/v2/chat"

    async def _render(self, request: web.Request, body: Mapping[str, Any], reply: Reply) -> web.StreamResponse:
        if reply.text is None:
            return web.json_response(reply.json, status=reply.status, headers=dict(reply.headers))
        if not body.get("openAIFormat"):
            return web.Response(text=reply.text, status=reply.status)
        return web.json_response({
            "id": f"cd-{next(_ids)}", "object": "chat.completion", "model": "chat-data",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text},
                         "finish_reason": "stop"}],
        }, status=reply.status, headers=dict(reply.headers))
