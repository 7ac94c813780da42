"""`POST /api/v1/coach/chat` through the app: disabled (503 with how to enable), a scripted turn against the
OpenAI-compatible double, conversation continuation, bad input, unknown conversations and an LLM timeout."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from core.services.coach import CoachConfig
from core.settings import Settings
from tests.conftest import API_KEY
from tests.doubles.llm import OpenAIDouble, answer, call, slow, tool_calls


@pytest.fixture
async def openai() -> AsyncIterator[OpenAIDouble]:
    async with OpenAIDouble() as server:
        yield server


async def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                             headers={"X-API-Key": API_KEY})


@pytest.fixture
async def coach_app(make_settings: Callable[..., Settings], database_url: str,
                    openai: OpenAIDouble) -> AsyncIterator[FastAPI]:
    settings = make_settings(database_url=database_url,
                             llm={"base_url": openai.base_url, "api_key": "sk-test", "model": "coach-model"})
    application = create_app(settings, roles=frozenset({"api"}))
    async with application.router.lifespan_context(application):
        yield application


async def test_disabled_coach_is_a_503_with_how_to_enable(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/coach/chat", json={"message": "hello"})
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "integration_disabled"
    assert error["message"].startswith("coach is disabled: ")
    assert "LLM_BASE_URL" in error["details"]["how_to_enable"]


async def test_chat_turn_and_continuation(coach_app: FastAPI, openai: OpenAIDouble) -> None:
    openai.push(tool_calls(call("market_status", {})),
                answer("The market data integration is disabled, so I cannot see the session or any prices."),
                answer("Still no prices: market data is disabled."))
    async with await _client(coach_app) as http:
        first = await http.post("/api/v1/coach/chat", json={"message": "Is the market open?"})
        assert first.status_code == 200, first.text
        body = first.json()
        assert set(body) >= {"conversation_id", "content", "suggestions", "sources", "unverified_numbers",
                             "checklist"}
        assert "disabled" in body["content"] and body["unverified_numbers"] == [] and body["checklist"] is None
        assert body["tools"] == [{"name": "market_status", "ok": False}]
        second = await http.post("/api/v1/coach/chat", json={"message": "And now?",
                                                            "conversation_id": body["conversation_id"]})
        assert second.status_code == 200 and second.json()["conversation_id"] == body["conversation_id"]
        stored = await http.get(f"/api/v1/coach/conversations/{body['conversation_id']}")
        assert [m["role"] for m in stored.json()["messages"]] == ["user", "assistant", "user", "assistant"]
    tool_result = next(m for m in openai.requests[1].body["messages"] if m["role"] == "tool")
    assert "market_data is disabled" in tool_result["content"]


async def test_bad_input_and_unknown_conversation(coach_app: FastAPI) -> None:
    async with await _client(coach_app) as http:
        for body in ({"message": ""}, {"message": "hi", "extra": 1}, {"message": "x" * 4001},
                     {"message": "hi", "conversation_id": "../../etc"}, {}):
            response = await http.post("/api/v1/coach/chat", json=body)
            assert response.status_code == 422, (body, response.text)
        missing = await http.post("/api/v1/coach/chat", json={"message": "hi", "conversation_id": "abc123"})
        assert missing.status_code == 404
        assert (await http.get("/api/v1/coach/conversations/abc123")).status_code == 404


async def test_llm_timeout_is_a_503_not_a_500(coach_app: FastAPI, openai: OpenAIDouble) -> None:
    coach = coach_app.state.runtime.coach
    coach.config = CoachConfig(turn_timeout=0.5)
    openai.push(slow(answer("late"), 3.0))
    async with await _client(coach_app) as http:
        response = await http.post("/api/v1/coach/chat", json={"message": "hello"})
    assert response.status_code == 503
    assert response.json()["error"]["message"].startswith("the coach did not answer within the turn's 0.5 s budget")
