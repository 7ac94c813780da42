"""Journal CRUD, filters with cursor pagination, and CSV/JSON export."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from api.auth import require_api_key
from api.deps import RuntimeDep
from api.schemas import json_response
from core.domain.journal import JournalDraft, JournalPatch, JournalQuery
from core.services.validation import parse

router = APIRouter(prefix="/journal", tags=["journal"], dependencies=[Depends(require_api_key)])


async def journal_query(symbol: str | None = None, kind: str | None = None, since: str | None = None,
                  limit: int | str = 50, cursor: str | None = None) -> JournalQuery:
    """Query strings are validated by the same model as every other input, so errors read the same."""
    raw = {"symbol": symbol, "kind": kind, "since": since, "limit": limit, "cursor": cursor}
    return parse(JournalQuery, {k: v for k, v in raw.items() if v is not None}, "journal query")


QueryDep = Annotated[JournalQuery, Depends(journal_query)]


@router.post("", status_code=201, response_model=dict[str, Any])
async def add_entry(draft: JournalDraft, runtime: RuntimeDep) -> Response:
    return json_response(await runtime.journal.add(draft, actor="api"), status_code=201)


@router.get("", response_model=dict[str, Any])
async def list_entries(query: QueryDep, runtime: RuntimeDep) -> Response:
    page = await runtime.journal.list(query)
    return json_response({"items": page.items, "next_cursor": page.next_cursor})


@router.get("/export")
async def export_entries(query: QueryDep, runtime: RuntimeDep, format: str = Query("json")) -> Response:
    body, media_type = await runtime.journal.export(query, format)
    filename = f"journal-{datetime.now().date().isoformat()}.{format}"
    return Response(body, media_type=media_type, headers={"content-disposition": f'attachment; filename="{filename}"'})


@router.get("/{entry_id}", response_model=dict[str, Any])
async def get_entry(entry_id: str, runtime: RuntimeDep) -> Response:
    return json_response(await runtime.journal.get(entry_id))


@router.patch("/{entry_id}", response_model=dict[str, Any])
async def patch_entry(entry_id: str, patch: JournalPatch, runtime: RuntimeDep) -> Response:
    return json_response(await runtime.journal.update(entry_id, patch))


@router.delete("/{entry_id}", status_code=204)
async def delete_entry(entry_id: str, runtime: RuntimeDep) -> Response:
    await runtime.journal.delete(entry_id)
    return Response(status_code=204)

