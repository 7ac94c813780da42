"""OpenAICompatLLM against the local OpenAI-compatible double: the real openai package code paths."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator

import pytest
import structlog
from pydantic import SecretStr

from core.adapters.llm import ChatDataLLM, OpenAICompatLLM, RetryPolicy, build_llm
from core.domain.coach import ChatMessage, LLMReply, ToolSpec
from core.errors import ExternalPermanent, ExternalTransient, IntegrationDisabled
from core.settings import ChatDataSettings, LLMSettings, Settings
from tests.doubles.llm import OpenAIDouble, Reply, answer, call, error, slow, tool_calls

KEY = "sk-test-very-secret-key"
FAST = RetryPolicy(attempts=3, base_wait=0.01, max_wait=0.05)
QUOTE = ToolSpec("quote", "Last price of a symbol", {
    "type": "object", "properties": {"symbol": {"type": "string"}}, "required": ["symbol"]})
DRAFT_ORDER = ToolSpec("draft_order", "Draft an order intent for the trader to confirm", {
    "type": "object", "properties": {"symbol": {"type": "string"}, "quantity": {"type": "integer"}}})
SYSTEM = ChatMessage.system("You are the trading coach. Never place orders.")


@pytest.fixture
async def double() -> AsyncIterator[OpenAIDouble]:
    async with OpenAIDouble() as server:
        yield server


@pytest.fixture
async def llm(double: OpenAIDouble) -> AsyncIterator[OpenAICompatLLM]:
    adapter = OpenAICompatLLM(base_url=double.base_url, api_key=SecretStr(KEY), model="coach-model",
                              timeout=5, retry=FAST)
    yield adapter
    await adapter.aclose()


async def test_tool_call_round_trip(double: OpenAIDouble, llm: OpenAICompatLLM) -> None:
    double.push(tool_calls(call("quote", {"symbol": "SPY"}, "call_a")), answer("SPY last traded at 512.30."))
    messages = [SYSTEM, ChatMessage.user("Is the SPY 512 breakout worth taking?")]

    first = await llm.complete(messages, [QUOTE])

    assert first.finish_reason == "tool_calls" and first.content is None and first.tools_used
    (quote,) = first.tool_calls
    assert (quote.id, quote.name, dict(quote.arguments), quote.parse_error) == ("call_a", "quote", {"symbol": "SPY"},
                                                                                None)
    assert first.usage is not None and first.usage.total_tokens == 18
    messages += [first.as_message(), ChatMessage.tool(quote, json.dumps({"last": 512.3}))]
    second = await llm.complete(messages, [QUOTE])
    assert second.content == "SPY last traded at 512.30." and second.tool_calls == ()

    sent_first, sent_second = (request.body for request in double.requests)
    assert sent_first["model"] == "coach-model"
    assert sent_first["messages"][0] == {"role": "system", "content": SYSTEM.content}
    assert sent_first["tools"] == [{"type": "function", "function": {
        "name": "quote", "description": QUOTE.description, "parameters": dict(QUOTE.parameters)}}]
    assert sent_second["messages"][2] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_a", "type": "function", "function": {"name": "quote", "arguments": '{"symbol": "SPY"}'}}]}
    assert sent_second["messages"][3] == {"role": "tool", "tool_call_id": "call_a", "content": '{"last": 512.3}'}
    assert all(request.headers["Authorization"] == f"Bearer {KEY}" for request in double.requests)


async def test_parallel_tool_calls_keep_order_and_ids(double: OpenAIDouble, llm: OpenAICompatLLM) -> None:
    double.push(tool_calls(call("quote", {"symbol": "SPY"}), call("quote", {"symbol": "QQQ"}),
                           call("positions", {})))
    reply = await llm.complete([ChatMessage.user("compare SPY and QQQ with my positions")], [QUOTE])
    assert [(c.name, dict(c.arguments)) for c in reply.tool_calls] == [
        ("quote", {"symbol": "SPY"}), ("quote", {"symbol": "QQQ"}), ("positions", {})]
    assert len({c.id for c in reply.tool_calls}) == 3


async def test_untrusted_calls_pass_through_unchanged(double: OpenAIDouble, llm: OpenAICompatLLM) -> None:
    """A hallucinated tool, an over-limit quantity and broken JSON all reach the coach, which validates them."""
    double.push(tool_calls(call("place_order_now", {"symbol": "TSLA"}),
                           call("draft_order", {"symbol": "TSLA", "quantity": 1_000_000}),
                           call("quote", '{"symbol": "SPY"')))
    hallucinated, over_limit, broken = (await llm.complete([ChatMessage.user("buy TSLA")],
                                                           [QUOTE, DRAFT_ORDER])).tool_calls
    assert hallucinated.name == "place_order_now"
    assert over_limit.arguments["quantity"] == 1_000_000
    assert broken.arguments == {} and broken.parse_error and broken.arguments_json == '{"symbol": "SPY"'


async def _drain(stream: AsyncIterator[str | LLMReply]) -> tuple[list[str], LLMReply]:
    deltas: list[str] = []
    async for item in stream:
        if isinstance(item, str):
            deltas.append(item)
        else:
            return deltas, item
    raise AssertionError("the stream ended without a reply")


async def test_stream_assembles_text(double: OpenAIDouble, llm: OpenAICompatLLM) -> None:
    text = "SPY is at 512.30; the plan risks 2.50 per share for a 2R target at 517.30."
    double.push(answer(text))
    deltas, reply = await _drain(llm.stream([ChatMessage.user("plan?")]))
    assert len(deltas) > 5 and "".join(deltas) == text
    assert reply.content == text and reply.finish_reason == "stop" and reply.model == "double-model"
    assert reply.usage is not None and reply.usage.prompt_tokens == 11
    assert double.requests[0].body["stream"] is True


async def test_stream_assembles_parallel_tool_call_fragments(double: OpenAIDouble, llm: OpenAICompatLLM) -> None:
    double.push(tool_calls(call("quote", {"symbol": "SPY"}, "c1"),
                           call("draft_order", {"symbol": "SPY", "quantity": 10, "type": "limit"}, "c2")))
    deltas, reply = await _drain(llm.stream([ChatMessage.user("buy 10 SPY")], [QUOTE, DRAFT_ORDER]))
    assert deltas == [] and reply.finish_reason == "tool_calls"
    assert [(c.id, c.name, dict(c.arguments)) for c in reply.tool_calls] == [
        ("c1", "quote", {"symbol": "SPY"}), ("c2", "draft_order", {"symbol": "SPY", "quantity": 10, "type": "limit"})]


async def test_retries_429_then_succeeds(double: OpenAIDouble, llm: OpenAICompatLLM) -> None:
    double.push(error(429, "slow down", retry_after=0), error(503), answer("ok"))
    reply = await llm.complete([ChatMessage.user("hi")])
    assert reply.content == "ok" and len(double.requests) == 3


async def test_stream_open_is_retried(double: OpenAIDouble, llm: OpenAICompatLLM) -> None:
    double.push(error(500), answer("fine"))
    _, reply = await _drain(llm.stream([ChatMessage.user("hi")]))
    assert reply.content == "fine" and len(double.requests) == 2


async def test_transient_errors_are_bounded(double: OpenAIDouble, llm: OpenAICompatLLM) -> None:
    double.push(error(500), error(502), error(500), answer("never reached"))
    with pytest.raises(ExternalTransient, match="HTTP 500"):
        await llm.complete([ChatMessage.user("hi")])
    assert len(double.requests) == 3 and double.pending == 1


async def test_retry_after_beyond_the_deadline_is_not_waited_for(double: OpenAIDouble) -> None:
    adapter = OpenAICompatLLM(base_url=double.base_url, api_key=KEY, model="m", timeout=0.5,
                              retry=RetryPolicy(attempts=3, base_wait=0.01, max_wait=30))
    double.push(error(429, retry_after=10), answer("late"))
    started = time.monotonic()
    with pytest.raises(ExternalTransient, match="HTTP 429") as caught:
        await adapter.complete([ChatMessage.user("hi")])
    assert time.monotonic() - started < 0.4 and caught.value.retry_after == 10
    await adapter.aclose()


async def test_timeout_is_a_quick_clear_error(double: OpenAIDouble, llm: OpenAICompatLLM) -> None:
    double.push(slow(answer("too late"), 3.0))
    started = time.monotonic()
    with pytest.raises(ExternalTransient, match=r"the coach did not answer in 0\.3 s"):
        await llm.complete([ChatMessage.user("hi")], timeout=0.3)
    assert time.monotonic() - started < 1.0 and len(double.requests) == 1


async def test_stream_deadline_covers_the_whole_reply(double: OpenAIDouble, llm: OpenAICompatLLM) -> None:
    double.push(Reply(json=answer("a long and slow streamed answer").json, chunk_delay=0.1))
    started = time.monotonic()
    with pytest.raises(ExternalTransient, match=r"did not answer in 0\.35 s"):
        await _drain(llm.stream([ChatMessage.user("hi")], timeout=0.35))
    assert time.monotonic() - started < 1.0


async def test_401_disables_the_coach_with_how_to_fix(double: OpenAIDouble, llm: OpenAICompatLLM) -> None:
    double.push(error(401, "Incorrect API key provided"))
    with pytest.raises(IntegrationDisabled) as caught:
        await llm.complete([ChatMessage.user("hi")])
    assert caught.value.integration == "coach" and "LLM_API_KEY" in caught.value.how_to_enable
    assert len(double.requests) == 1


async def test_other_4xx_is_permanent_and_not_retried(double: OpenAIDouble, llm: OpenAICompatLLM) -> None:
    double.push(error(400, "model not found"))
    with pytest.raises(ExternalPermanent, match="model not found"):
        await llm.complete([ChatMessage.user("hi")])
    assert len(double.requests) == 1


async def test_unreachable_endpoint_is_transient() -> None:
    async with OpenAIDouble() as gone:
        url = gone.base_url
    adapter = OpenAICompatLLM(base_url=url, api_key=KEY, model="m", timeout=2, retry=FAST)
    with pytest.raises(ExternalTransient, match="could not reach"):
        await adapter.complete([ChatMessage.user("hi")])
    await adapter.aclose()


async def test_the_key_is_never_logged(double: OpenAIDouble, llm: OpenAICompatLLM,
                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    double.push(error(429, retry_after=0), answer("ok"), error(401))
    with structlog.testing.capture_logs() as events:
        await llm.complete([ChatMessage.user("hi")])
        with pytest.raises(IntegrationDisabled) as caught:
            await llm.complete([ChatMessage.user("hi")])
    assert [event["event"] for event in events] == ["llm.retry", "llm.reply"]
    assert KEY not in repr(events) and KEY not in caplog.text and KEY not in repr(caught.value.to_dict())


def test_build_llm_from_settings() -> None:
    with pytest.raises(IntegrationDisabled, match="LLM_BASE_URL, LLM_MODEL not set"):
        build_llm(Settings(llm=LLMSettings(api_key=SecretStr(KEY), base_url=None, model=None)))
    openai_llm = build_llm(Settings(llm=LLMSettings(base_url="http://127.0.0.1:9/v1", api_key=SecretStr(KEY),
                                                    model="m")))
    assert isinstance(openai_llm, OpenAICompatLLM)
    with pytest.raises(IntegrationDisabled, match="CHATDATA_CHATBOT_ID not set"):
        build_llm(Settings(llm=LLMSettings(provider="chatdata", api_key=SecretStr(KEY)),
                           chatdata=ChatDataSettings(chatbot_id=None)))
    chat_data = build_llm(Settings(llm=LLMSettings(provider="chatdata", api_key=SecretStr(KEY)),
                                   chatdata=ChatDataSettings(chatbot_id="bot-1")))
    assert isinstance(chat_data, ChatDataLLM)
