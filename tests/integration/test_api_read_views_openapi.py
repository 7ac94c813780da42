"""The OpenAPI names every field of a journal entry (and a page of them), of the risk state, of a headline, a watched
price and the market-data status."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import httpx

from core.domain.journal import JournalEntryView, JournalPage
from core.domain.market_views import FeedStatus, Headline, MarketDataStatus, WatchedPrice
from core.domain.risk import LimitUsage
from core.domain.risk_view import RiskStateView


def _schema(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _answer(document: dict[str, Any], path: str, method: str, status: str = "200") -> dict[str, Any]:
    node = document["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    return _schema(document, node)


async def test_the_openapi_names_every_field_of_a_journal_entry(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    entry = {f.name for f in fields(JournalEntryView)}
    assert entry == {"id", "kind", "body", "symbol", "tags", "plan", "rationale", "order_id", "actor", "created_at",
                     "updated_at"}
    for path, method, status in [("/api/v1/journal", "post", "201"), ("/api/v1/journal/{entry_id}", "get", "200"),
                                 ("/api/v1/journal/{entry_id}", "patch", "200")]:
        assert set(_answer(document, path, method, status)["properties"]) == entry, (method, path)
    page = _answer(document, "/api/v1/journal", "get")
    assert set(page["properties"]) == {f.name for f in fields(JournalPage)}
    assert set(_schema(document, page["properties"]["items"]["items"])["properties"]) == entry
    kinds = _answer(document, "/api/v1/journal", "post", "201")["properties"]["kind"]
    assert set(kinds["enum"]) == {"note", "trade", "plan", "order", "coach"}


async def test_the_openapi_names_every_field_of_the_risk_state(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    body = _answer(document, "/api/v1/stream/risk", "get")
    state = _schema(document, body["properties"]["state"])
    assert set(state["properties"]) == set(RiskStateView.__struct_fields__) == {
        "status", "reasons", "usage", "equity", "day_pnl", "evaluated_at", "cooldown_until", "warnings", "state",
        "how_to_enable"}
    assert set(state["properties"]["status"]["enum"]) == {"ACTIVE", "REDUCE_ONLY", "HALTED", "unknown"}
    # left out of an unknown state, so not required; the rest always present
    assert set(state["required"]) == {"status", "reasons", "usage", "cooldown_until", "warnings", "state"}
    usage = _schema(document, state["properties"]["usage"]["items"])
    assert set(usage["properties"]) == {f.name for f in fields(LimitUsage)} == {"name", "used", "limit", "text"}


async def test_the_openapi_names_every_field_of_the_market_reads(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    news = _answer(document, "/api/v1/market/news", "get")
    headline = _schema(document, news["properties"]["items"]["items"])
    assert set(headline["properties"]) == set(Headline.__struct_fields__)
    assert not headline.get("required")  # Polygon may leave any key out
    prices = _answer(document, "/api/v1/stream/prices", "get")
    row = _schema(document, prices["properties"]["items"]["items"])
    assert set(row["properties"]) == {f.name for f in fields(WatchedPrice)}
    status = _schema(document, prices["properties"]["market_data"])
    assert set(status["properties"]) == set(MarketDataStatus.__struct_fields__)
    assert set(status["required"]) == {"enabled", "state", "reason"}
    assert set(_schema(document, status["properties"]["feed"])["properties"]) == set(FeedStatus.__struct_fields__)
