"""Journal endpoints end to end through the app, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

import httpx
import orjson


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
    ids = [(await _add(client, symbol="SPY" if i % 2 else "QQQ", kind="note", body=f"n{i}"))["id"] for i in range(7)]
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
