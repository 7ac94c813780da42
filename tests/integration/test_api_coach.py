"""`POST /api/v1/coach/chat` through the app: disabled (503 with how to enable), a scripted turn against the
OpenAI-compatible double, conversation continuation, bad input, unknown conversations and an LLM timeout."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import fields
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from core.domain.coach import ChecklistStep, Source, Suggestion, SuggestionAction
from core.domain.coach_replies import CoachReply
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


def _schema(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A schema node with its `$ref` (or a nullable `anyOf` of one, or an array of one) followed."""
    if "anyOf" in node:
        node = next(option for option in node["anyOf"] if "$ref" in option or option.get("type") == "array")
    if node.get("type") == "array":
        node = node["items"]
    if "$ref" in node:
        return _schema(document, document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]])
    return node


async def test_the_openapi_names_every_field_of_a_reply_its_suggestions_and_a_conversation(
        coach_app: FastAPI) -> None:
    async with await _client(coach_app) as http:
        document = (await http.get("/openapi.json")).json()
    paths = document["paths"]
    for path in ("/api/v1/coach/chat", "/api/v1/picks/{pick_id}/explain"):
        reply = _schema(document, paths[path]["post"]["responses"]["200"]["content"]["application/json"]["schema"])
        assert set(reply["properties"]) == {f.name for f in fields(CoachReply)}
    suggestion = _schema(document, reply["properties"]["suggestions"])
    assert set(suggestion["properties"]) == {f.name for f in fields(Suggestion)}
    assert set(_schema(document, suggestion["properties"]["action"])["properties"]) == {
        f.name for f in fields(SuggestionAction)}
    assert set(_schema(document, suggestion["properties"]["sources"])["properties"]) == {f.name for f in fields(Source)}
    assert set(_schema(document, reply["properties"]["checklist"])["properties"]) == {
        f.name for f in fields(ChecklistStep)}
    assert set(_schema(document, reply["properties"]["tools"])["properties"]) == {"name", "ok"}
    read = paths["/api/v1/coach/conversations/{conversation_id}"]["get"]["responses"]["200"]
    conversation = _schema(document, read["content"]["application/json"]["schema"])
    assert set(conversation["properties"]) == {"conversation_id", "external_ref", "title", "messages"}
    message = _schema(document, conversation["properties"]["messages"])
    assert set(message["properties"]) == {"role", "content", "created_at", *(f.name for f in fields(CoachReply))} - {
        "conversation_id"}
    assert set(message["required"]) == {"role", "content", "created_at"}  # the reply's keys: assistant messages
