"""Journal CRUD, filters with cursor pagination, and CSV/JSON export."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from api.auth import require_api_key
from api.deps import runtime_of
from api.schemas import json_response
from core.domain.journal import JournalDraft, JournalEntryView, JournalPage, JournalPatch, JournalQuery
from core.services.validation import parse

router = APIRouter(prefix="/journal", tags=["journal"], dependencies=[Depends(require_api_key)])


_FILTERS = ("symbol", "kind", "since", "limit", "cursor")
_TEXT = {"anyOf": [{"type": "string"}, {"type": "null"}]}
# The filters (and the 422 they can cause) as FastAPI would document them from typed parameters.
QUERY_DOCS: dict[str, Any] = {
    "parameters": [
        {"in": "query", "name": name, "required": False,
         "schema": ({"anyOf": [{"type": "integer"}, {"type": "string"}], "default": 50} if name == "limit"
                    else _TEXT) | {"title": name.title()}}
        for name in _FILTERS],
    "responses": {"422": {"description": "Validation Error", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}}},
}


async def journal_query(request: Request) -> JournalQuery:
    """Query strings are validated by the same model as every other input, so errors read the same. They are
    read from the request, not declared as parameters: FastAPI's per-parameter resolution cost more than the
    database read of a page (`QUERY_DOCS` documents them instead)."""
    params = request.query_params
    return parse(JournalQuery, {name: params[name] for name in _FILTERS if name in params}, "journal query")


QueryDep = Annotated[JournalQuery, Depends(journal_query)]


@router.post("", status_code=201, response_model=JournalEntryView)
async def add_entry(draft: JournalDraft, request: Request) -> Response:
    return json_response(await runtime_of(request).journal.add(draft, actor="api"), status_code=201)


@router.get("", response_model=JournalPage, openapi_extra=QUERY_DOCS)
async def list_entries(query: QueryDep, request: Request) -> Response:
    return json_response(await runtime_of(request).journal.list(query))


@router.get("/export", openapi_extra=QUERY_DOCS)
async def export_entries(query: QueryDep, request: Request, format: str = Query("json")) -> Response:
    body, media_type = await runtime_of(request).journal.export(query, format)
    filename = f"journal-{datetime.now().date().isoformat()}.{format}"
    return Response(body, media_type=media_type, headers={"content-disposition": f'attachment; filename="{filename}"'})


@router.get("/{entry_id}", response_model=JournalEntryView)
async def get_entry(entry_id: str, request: Request) -> Response:
    return json_response(await runtime_of(request).journal.get(entry_id))


@router.patch("/{entry_id}", response_model=JournalEntryView)
async def patch_entry(entry_id: str, patch: JournalPatch, request: Request) -> Response:
    return json_response(await runtime_of(request).journal.update(entry_id, patch))


@router.delete("/{entry_id}", status_code=204)
async def delete_entry(entry_id: str, request: Request) -> Response:
    await runtime_of(request).journal.delete(entry_id)
    return Response(status_code=204)

