"""What both LLM adapters share: the bounded tenacity retry policy inside a wall-clock deadline, the table
of HTTP statuses onto core.errors, and the reply log line (which never carries a key or message text)."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, TypeVar

import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from core.adapters.error_map import SERVER_ERROR, ErrorTable
from core.domain.coach import ChatMessage, LLMReply, ToolSpec
from core.errors import CoreError, ExternalPermanent, ExternalTransient, IntegrationDisabled

T = TypeVar("T")
log = structlog.get_logger("core.adapters.llm")

_DETAIL_CHARS = 200


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """At most ``attempts`` calls; exponential waits from ``base_wait`` capped at ``max_wait`` (a server's
    Retry-After replaces the backoff, also capped); no retry at all when its wait would overrun the deadline."""

    attempts: int = 3
    base_wait: float = 0.5
    max_wait: float = 4.0


TRANSIENT_STATUSES = (408, 429, SERVER_ERROR)


def status_errors(how_to_fix: str) -> ErrorTable:
    """An LLM provider's HTTP error statuses; `how_to_fix` is the adapter's own setup hint for a refused key."""
    return (
        (401, lambda f: IntegrationDisabled("coach", f"{f.vendor} rejected the API key (HTTP 401)", how_to_fix)),
        (TRANSIENT_STATUSES, lambda f: ExternalTransient(
            f"{f.vendor} is busy or failing (HTTP {f.status}); try again shortly", retry_after=f.retry_after,
            details={"status": f.status})),
        (int, lambda f: ExternalPermanent(f"{f.vendor} refused the request (HTTP {f.status}): "
                                          f"{f.reason[:_DETAIL_CHARS]}", details={"status": f.status})),
    )


def parse_retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class LLMAdapter(ABC):
    """Base of the adapters: ``_call`` runs one idempotent request under the retry policy and the deadline and
    maps whatever escapes onto core.errors through the adapter's ``_to_core``."""

    provider: ClassVar[str]
    vendor_errors: ClassVar[tuple[type[Exception], ...]]

    def __init__(self, *, timeout: float, retry: RetryPolicy) -> None:
        self._timeout = timeout
        self._retry = retry

    @abstractmethod
    async def complete(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] | None = None, *,
                       timeout: float | None = None) -> LLMReply: ...

    async def stream(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] | None = None, *,
                     timeout: float | None = None) -> AsyncIterator[str | LLMReply]:
        """Without a streaming wire format: the whole answer as one delta, then the reply."""
        reply = await self.complete(messages, tools, timeout=timeout)
        if reply.content and not reply.tool_calls:
            yield reply.content
        yield reply

    @abstractmethod
    async def aclose(self) -> None: ...

    @abstractmethod
    def _retryable(self, exc: BaseException) -> bool:
        """429, 5xx and connection failures; never a per-request timeout (the deadline decides)."""

    @abstractmethod
    def _retry_after(self, exc: BaseException) -> float | None: ...

    @abstractmethod
    def _to_core(self, exc: Exception, budget: float) -> CoreError:
        """The core error for one of the ``vendor_errors``."""

    def _budget(self, timeout: float | None) -> float:
        return self._timeout if timeout is None else timeout

    def timed_out(self, budget: float) -> ExternalTransient:
        return ExternalTransient(f"the coach did not answer in {budget:g} s",
                                 details={"provider": self.provider, "timeout_s": budget})

    async def _call(self, request: Callable[[], Awaitable[T]], budget: float, *,
                    deadline: float | None = None) -> T:
        """``deadline`` (loop time) defaults to now + ``budget``; several calls of one answer share it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget if deadline is None else deadline
        policy = self._retry

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            backoff = min(policy.max_wait, policy.base_wait * 2 ** (state.attempt_number - 1))
            hinted = self._retry_after(exc) if exc else None
            return backoff if hinted is None else min(hinted, policy.max_wait)

        def stop(state: RetryCallState) -> bool:
            return (state.attempt_number >= policy.attempts
                    or loop.time() + (state.upcoming_sleep or 0.0) >= deadline)

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning("llm.retry", provider=self.provider, attempt=state.attempt_number,
                        wait_s=round(state.upcoming_sleep, 3), error=type(exc).__name__)

        async def attempt() -> T:  # a coroutine function, so tenacity awaits it
            return await request()

        retrying = AsyncRetrying(stop=stop, wait=wait, retry=retry_if_exception(self._retryable),
                                 before_sleep=before_sleep, reraise=True)
        try:
            async with asyncio.timeout_at(deadline):
                return await retrying(attempt)
        except TimeoutError as exc:
            raise self.timed_out(budget) from exc
        except self.vendor_errors as exc:
            raise self._to_core(exc, budget) from exc

    def _log_reply(self, reply: LLMReply, started: float, *, streamed: bool = False) -> None:
        usage = reply.usage
        log.info("llm.reply", provider=self.provider, model=reply.model, finish_reason=reply.finish_reason,
                 tool_calls=len(reply.tool_calls), tools_used=reply.tools_used, streamed=streamed,
                 prompt_tokens=usage.prompt_tokens if usage else None,
                 completion_tokens=usage.completion_tokens if usage else None,
                 ms=round((asyncio.get_running_loop().time() - started) * 1000, 1))
