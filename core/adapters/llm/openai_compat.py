"""OpenAICompatLLM: any OpenAI-compatible ``/chat/completions`` endpoint through the ``openai`` package, with
native (and parallel) tool calls and optional streaming.

The package's own retries are off (``max_retries=0``): the adapter's tenacity policy is the only one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import openai
from openai import AsyncOpenAI, omit
from pydantic import SecretStr

from core.adapters.error_map import Fault, core_error, matches
from core.adapters.llm._common import TRANSIENT_STATUSES, LLMAdapter, RetryPolicy, parse_retry_after, status_errors
from core.domain.coach import ChatMessage, LLMReply, ToolCall, ToolSpec, Usage
from core.errors import CoreError, ExternalPermanent, ExternalTransient, IntegrationDisabled

if TYPE_CHECKING:
    from openai.types import CompletionUsage
    from openai.types.chat import (
        ChatCompletionChunk,
        ChatCompletionMessageParam,
        ChatCompletionMessageToolCallParam,
        ChatCompletionToolParam,
    )

    from core.settings import LLMSettings

_HOW_TO_FIX = "check LLM_API_KEY (and LLM_BASE_URL) for your OpenAI-compatible endpoint and restart"
ERRORS = status_errors(_HOW_TO_FIX)


def _message_param(message: ChatMessage) -> ChatCompletionMessageParam:
    content = message.content or ""
    if message.role == "system":
        return {"role": "system", "content": content}
    if message.role == "user":
        return {"role": "user", "content": content}
    if message.role == "tool":
        return {"role": "tool", "content": content, "tool_call_id": message.tool_call_id or ""}
    calls: list[ChatCompletionMessageToolCallParam] = [
        {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments_json}}
        for call in message.tool_calls
    ]
    if calls:
        return {"role": "assistant", "content": message.content, "tool_calls": calls}
    return {"role": "assistant", "content": content}


def _tool_param(tool: ToolSpec) -> ChatCompletionToolParam:
    return {"type": "function",
            "function": {"name": tool.name, "description": tool.description, "parameters": dict(tool.parameters)}}


def _usage(usage: CompletionUsage | None) -> Usage | None:
    if usage is None:
        return None
    return Usage(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)


class _StreamAssembly:
    """Accumulates a streamed reply: text parts, and tool-call fragments keyed by their ``index``."""

    __slots__ = ("calls", "finish_reason", "model", "text", "usage")

    def __init__(self) -> None:
        self.text: list[str] = []
        self.calls: dict[int, list[str]] = {}  # index -> [id, name, argument fragments...]
        self.finish_reason = "stop"
        self.model: str | None = None
        self.usage: Usage | None = None

    def add(self, chunk: ChatCompletionChunk) -> str | None:
        self.model = chunk.model or self.model
        if chunk.usage is not None:
            self.usage = _usage(chunk.usage)
        if not chunk.choices:
            return None
        choice = chunk.choices[0]
        if choice.finish_reason:
            self.finish_reason = choice.finish_reason
        for fragment in choice.delta.tool_calls or ():
            slot = self.calls.setdefault(fragment.index, ["", ""])
            if fragment.id:
                slot[0] = fragment.id
            if fragment.function is not None:
                if fragment.function.name:
                    slot[1] = fragment.function.name
                if fragment.function.arguments:
                    slot.append(fragment.function.arguments)
        text = choice.delta.content
        if text:
            self.text.append(text)
        return text

    def reply(self) -> LLMReply:
        calls = tuple(ToolCall.parse(slot[0], slot[1], "".join(slot[2:]))
                      for _, slot in sorted(self.calls.items()))
        return LLMReply("".join(self.text) or None, calls, self.finish_reason, self.usage, model=self.model)


class OpenAICompatLLM(LLMAdapter):
    """The coach's model on an OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, LM Studio, OpenRouter...)."""

    provider = "openai-compatible endpoint"
    # ValueError: a body that is not JSON (e.g. cut off in the middle of a tool call), which the SDK lets through
    vendor_errors = (openai.APIError, ValueError)

    def __init__(self, *, base_url: str, api_key: SecretStr | str, model: str, timeout: float = 30.0,
                 retry: RetryPolicy | None = None, stream_usage: bool = True) -> None:
        super().__init__(timeout=timeout, retry=retry or RetryPolicy())
        key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        self._client = AsyncOpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=timeout)
        self._model = model
        self._stream_usage = stream_usage

    @classmethod
    def from_settings(cls, settings: LLMSettings, **options: Any) -> OpenAICompatLLM:
        """Built from LLM_BASE_URL / LLM_API_KEY / LLM_MODEL; IntegrationDisabled names what is missing."""
        missing = [name for name, value in (("LLM_BASE_URL", settings.base_url), ("LLM_API_KEY", settings.api_key),
                                            ("LLM_MODEL", settings.model)) if not value]
        if missing or settings.base_url is None or settings.api_key is None or settings.model is None:
            raise IntegrationDisabled("coach", f"{', '.join(missing)} not set", _HOW_TO_FIX)
        return cls(base_url=settings.base_url, api_key=settings.api_key, model=settings.model, **options)

    async def aclose(self) -> None:
        await self._client.close()

    async def complete(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] | None = None, *,
                       timeout: float | None = None) -> LLMReply:
        budget = self._budget(timeout)
        started = asyncio.get_running_loop().time()
        params = [_message_param(message) for message in messages]
        tool_params = [_tool_param(tool) for tool in tools] if tools else omit
        completion = await self._call(lambda: self._client.chat.completions.create(
            model=self._model, messages=params, tools=tool_params, timeout=budget), budget)
        if not completion.choices:
            raise ExternalPermanent(f"the {self.provider} returned no choices")
        choice = completion.choices[0]
        calls = tuple(ToolCall.parse(call.id, call.function.name, call.function.arguments)
                      for call in choice.message.tool_calls or () if call.type == "function")
        reply = LLMReply(choice.message.content, calls, choice.finish_reason or "stop",
                         _usage(completion.usage), model=completion.model)
        self._log_reply(reply, started)
        return reply

    async def stream(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] | None = None, *,
                     timeout: float | None = None) -> AsyncIterator[str | LLMReply]:
        """Opening the stream is retried like ``complete``; once text flows, a failure is raised, not retried."""
        budget = self._budget(timeout)
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + budget
        params = [_message_param(message) for message in messages]
        tool_params = [_tool_param(tool) for tool in tools] if tools else omit
        chunks = await self._call(lambda: self._client.chat.completions.create(
            model=self._model, messages=params, tools=tool_params, stream=True, timeout=budget,
            stream_options={"include_usage": True} if self._stream_usage else omit), budget)
        assembly = _StreamAssembly()
        iterator = chunks.__aiter__()
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        chunk = await anext(iterator)
                except StopAsyncIteration:
                    break
                except TimeoutError as exc:
                    raise self.timed_out(budget) from exc
                except openai.APIError as exc:
                    raise self._to_core(exc, budget) from exc
                text = assembly.add(chunk)
                if text:
                    yield text
        finally:
            await chunks.close()
        reply = assembly.reply()
        self._log_reply(reply, started, streamed=True)
        yield reply

    # ------------------------------------------------------------------------------------------- error seam
    def _retryable(self, exc: BaseException) -> bool:
        if isinstance(exc, openai.APITimeoutError):
            return False
        if isinstance(exc, openai.APIStatusError):
            return matches(TRANSIENT_STATUSES, exc.status_code)
        return isinstance(exc, openai.APIConnectionError)

    def _retry_after(self, exc: BaseException) -> float | None:
        if isinstance(exc, openai.APIStatusError):
            return parse_retry_after(exc.response.headers.get("retry-after"))
        return None

    def _to_core(self, exc: Exception, budget: float) -> CoreError:
        if isinstance(exc, ValueError):
            return ExternalTransient(f"the {self.provider} sent an answer that is not valid JSON ({exc}); "
                                     "ask again")
        if isinstance(exc, openai.APITimeoutError):
            return self.timed_out(budget)
        if isinstance(exc, openai.APIConnectionError):
            return ExternalTransient(f"could not reach the {self.provider} at {self._client.base_url}")
        if isinstance(exc, openai.APIStatusError):
            return core_error(ERRORS, Fault(self.provider, exc.status_code, reason=exc.message,
                                            retry_after=self._retry_after(exc)))
        return ExternalPermanent(f"the {self.provider} failed: {exc}")
