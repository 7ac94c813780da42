"""Journal endpoints end to end through the app, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

import httpx
import orjson
import pytest


async def _add(client: httpx.AsyncClient, **fields: object) -> dict[str, object]:
    response = await client.post("/api/v1/journal", json={"body": "note", **fields})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_create_get_patch_delete_round_trip(client: httpx.AsyncClient) -> None:
    created = await _add(client, kind="plan", symbol="brk.b", tags=["Breakout", "breakout", " A "],
                         plan={"entry": "190.5"}, rationale="level reclaim")
    assert created["symbol"] == "BRK.B"
    assert created["tags"] == ["a", "breakout"]
    assert created["created_at"] == created["updated_at"]

    fetched = (await client.get(f"/api/v1/journal/{created['id']}")).json()
    assert fetched == created

    patched = await client.patch(f"/api/v1/journal/{created['id']}", json={"body": "changed"})
    assert patched.status_code == 200
    assert patched.json()["body"] == "changed"
    assert patched.json()["kind"] == "plan"
    assert patched.json()["updated_at"] >= created["updated_at"]

    assert (await client.delete(f"/api/v1/journal/{created['id']}")).status_code == 204
    missing = await client.get(f"/api/v1/journal/{created['id']}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


async def test_filters_and_cursor_pagination_visit_every_entry_once(client: httpx.AsyncClient) -> None:
    ids = [str((await _add(client, symbol="SPY" if i % 2 else "QQQ", kind="note", body=f"n{i}"))["id"])
           for i in range(7)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "3", "symbol": "spy"} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/journal", params=params)).json()
        seen.extend(item["id"] for item in page["items"])
        assert all(item["symbol"] == "SPY" for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids[1::2])
    assert len(seen) == len(set(seen))


async def test_list_is_newest_first_and_kind_filter(client: httpx.AsyncClient) -> None:
    first = await _add(client, kind="trade", body="first")
    await _add(client, kind="note", body="second")
    third = await _add(client, kind="trade", body="third")
    items = (await client.get("/api/v1/journal", params={"kind": "trade"})).json()["items"]
    assert [item["id"] for item in items] == [third["id"], first["id"]]


async def test_export_csv_and_json(client: httpx.AsyncClient) -> None:
    await _add(client, symbol="AAPL", body="bought, then sold", tags=["x"])
    await _add(client, body='=HYPERLINK("http://evil")')
    as_json = await client.get("/api/v1/journal/export", params={"format": "json"})
    assert as_json.status_code == 200
    exported = orjson.loads(as_json.content)
    assert [item["body"] for item in exported] == ['=HYPERLINK("http://evil")', "bought, then sold"]
    as_csv = await client.get("/api/v1/journal/export", params={"format": "csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert rows[0]["body"] == "'=HYPERLINK(\"http://evil\")"  # never a live formula in a spreadsheet
    assert rows[1]["body"] == "bought, then sold"
    assert rows[1]["symbol"] == "AAPL"


async def test_answers_are_what_the_database_holds(client: httpx.AsyncClient) -> None:
    """Add and patch answer from what they wrote (no read-back): byte for byte what a later read returns."""
    added = await client.post("/api/v1/journal", json={"body": "a", "symbol": "spy", "tags": ["B", "a"],
                                                       "plan": {"stop": "1.5", "legs": [1, 2]}})
    fetched = await client.get(f"/api/v1/journal/{added.json()['id']}")
    assert added.content == fetched.content
    assert list(added.json()) == ["id", "kind", "body", "symbol", "tags", "plan", "rationale", "order_id", "actor",
                                  "created_at", "updated_at"]
    listed = (await client.get("/api/v1/journal")).json()["items"]
    assert listed == [fetched.json()]
    patched = await client.patch(f"/api/v1/journal/{added.json()['id']}", json={"tags": ["c"], "plan": None})
    assert patched.json()["tags"] == ["c"] and patched.json()["plan"] is None
    assert patched.content == (await client.get(f"/api/v1/journal/{added.json()['id']}")).content


async def test_a_patch_that_changes_nothing_keeps_updated_at(client: httpx.AsyncClient) -> None:
    created = await _add(client, body="same", tags=["x"])
    again = await client.patch(f"/api/v1/journal/{created['id']}", json={"body": "same", "tags": ["X"]})
    assert again.json() == created
    changed = (await client.patch(f"/api/v1/journal/{created['id']}", json={"body": "other"})).json()
    assert changed["updated_at"] > created["updated_at"]
    assert changed["created_at"] == created["created_at"]


@pytest.mark.parametrize("field", ["tags", "kind", "body"])
async def test_a_null_for_a_field_that_cannot_be_empty_is_a_422_naming_it(client: httpx.AsyncClient,
                                                                          field: str) -> None:
    created = await _add(client, body="kept", tags=["x"])
    response = await client.patch(f"/api/v1/journal/{created['id']}", json={field: None})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == field
    assert (await client.get(f"/api/v1/journal/{created['id']}")).json() == created


async def test_the_patch_body_documents_which_fields_cannot_be_null(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]["JournalPatch"]["properties"]
    assert schema["tags"]["type"] == "array" and schema["body"]["type"] == "string"
    assert {"type": "null"} in schema["symbol"]["anyOf"]


async def test_every_filter_at_once_with_a_cursor(client: httpx.AsyncClient) -> None:
    old = await _add(client, symbol="SPY", kind="trade", body="before since")
    since = (await _add(client, body="marker"))["created_at"]
    wanted = [(await _add(client, symbol="SPY", kind="trade", body=f"t{i}"))["id"] for i in range(3)]
    await _add(client, symbol="QQQ", kind="trade", body="other symbol")
    await _add(client, symbol="SPY", kind="note", body="other kind")
    params = {"symbol": "SPY", "kind": "trade", "since": str(since), "limit": "2"}
    first = (await client.get("/api/v1/journal", params=params)).json()
    second = (await client.get("/api/v1/journal", params=params | {"cursor": first["next_cursor"]})).json()
    assert [item["id"] for item in first["items"] + second["items"]] == wanted[::-1]
    assert second["next_cursor"] is None
    assert old["id"] not in {item["id"] for item in first["items"] + second["items"]}


async def test_the_filters_are_documented_as_query_parameters(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    filters = ["symbol", "kind", "since", "limit", "cursor"]
    assert [p["name"] for p in paths["/api/v1/journal"]["get"]["parameters"]] == filters
    assert [p["name"] for p in paths["/api/v1/journal/export"]["get"]["parameters"]] == ["format", *filters]
    assert "422" in paths["/api/v1/journal"]["get"]["responses"]
