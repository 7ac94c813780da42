"""Fault 13 of the reliability test plan: the coach's model misbehaves. Through the runtime as `tradeassist run`
builds it (the coach on an OpenAI-compatible endpoint, the real OrderService and risk gate, the Tradier double):
whatever the model does, no order reaches the broker and nothing is drafted that validation refused."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import func, select

from core.db.models import CoachMessage, OrderIntentRow
from core.errors import CoreError
from core.runtime import Runtime
from core.services.coach import CoachConfig
from core.settings import LLMSettings, Settings
from tests.doubles.llm import OpenAIDouble, Reply, answer, call, slow, tool_calls
from tests.doubles.tradier import TradierDouble
from tests.integration.orders_helpers import broker_settings, place_posts, small_account

DRAFT = {"symbol": "AAPL", "side": "buy", "type": "limit", "price": "438.00", "rationale": "asked"}
# A completion cut off in the middle of its tool call's arguments (the connection closed mid-body).
CUT = Reply(text='{"id": "chatcmpl-1", "object": "chat.completion", "choices": [{"index": 0, "message": '
                 '{"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", '
                 '"function": {"name": "draft_order", "arguments": "{\\"symbol\\": \\"AAPL\\", \\"quant',
            headers={"Content-Type": "application/json"})

FAULTS: dict[str, list[Reply]] = {
    "timeout": [slow(answer("too late"), 5.0)],
    "stream_cut_mid_tool_call": [CUT],
    "invalid_json_arguments": [tool_calls(call("draft_order", '{"symbol": "AAPL", "quantity": 1,')),
                               answer("I could not draft that.")],
    "hallucinated_tool": [tool_calls(call("place_order", {**DRAFT, "quantity": 1})),
                          answer("I could not place that.")],
    "over_limit_quantity": [tool_calls(call("draft_order", {**DRAFT, "quantity": 5000})),
                            answer("That size is above your limits.")],
}


@pytest.fixture
async def openai() -> AsyncIterator[OpenAIDouble]:
    async with OpenAIDouble() as server:
        yield server


@pytest.fixture
async def tradier() -> AsyncIterator[TradierDouble]:
    async with TradierDouble() as double:
        yield small_account(double)


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_fault_13_llm_timeout_cut_stream_bad_arguments_unknown_tool_or_over_limit_never_reach_the_broker(
        make_settings: Callable[..., Settings], database_url: str, tradier: TradierDouble, openai: OpenAIDouble,
        fault: str) -> None:
    """Fault 13: the model times out, its answer is cut in the middle of a tool call, it sends arguments that are
    not JSON, calls a tool that does not exist (`place_order`), or drafts 5,000 shares (over the order limit). The
    trader gets an answer or a clear error, never an order: no preview, no placement, no order intent."""
    llm = LLMSettings(_env_file=None, base_url=openai.base_url, api_key="sk-test", model="m")  # type: ignore[call-arg]
    settings = broker_settings(make_settings, database_url, tradier, llm=llm)
    openai.push(*FAULTS[fault])
    async with Runtime(settings, roles={"api"}) as rt:
        assert rt.coach is not None, rt.coach_disabled
        rt.coach.config = CoachConfig(turn_timeout=1.0)
        try:
            reply = await rt.coach.chat("buy 5000 AAPL at 438")
        except CoreError as exc:  # the timeout and the cut answer: an error that says what happened
            assert fault in ("timeout", "stream_cut_mid_tool_call"), exc
            assert exc.message
        else:
            assert fault not in ("timeout", "stream_cut_mid_tool_call"), reply
            assert all(s.kind.value != "order" for s in reply.suggestions)
        async with rt.db.read() as session:
            assert await session.scalar(select(func.count()).select_from(OrderIntentRow)) == 0
            if fault == "timeout":
                assert await session.scalar(select(func.count()).select_from(CoachMessage)) == 0
    assert place_posts(tradier) == [] and tradier.requests_to("POST", "/orders") == []
