"""The coach: `POST /coach/chat` runs one turn; `GET /coach/conversations/{id}` reads a conversation back."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import require_api_key
from api.deps import RuntimeDep
from api.schemas import json_response
from api.struct_schema import struct_response
from core.domain.coach_replies import CoachConversationView, CoachReply, conversation_json
from core.errors import IntegrationDisabled
from core.runtime import Runtime
from core.services.coach import MAX_MESSAGE_CHARS, CoachService

router = APIRouter(prefix="/coach", tags=["coach"], dependencies=[Depends(require_api_key)])

_HOW_TO_ENABLE = ("set LLM_BASE_URL, LLM_API_KEY and LLM_MODEL (any OpenAI-compatible endpoint), or "
                  "LLM_PROVIDER=chatdata with LLM_API_KEY and CHATDATA_CHATBOT_ID, then restart")


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    conversation_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{1,32}$")


def _coach(runtime: Runtime) -> CoachService:
    coach: CoachService | None = getattr(runtime, "coach", None)
    if coach is None:
        disabled = getattr(runtime, "coach_disabled", None)
        raise disabled if isinstance(disabled, IntegrationDisabled) else IntegrationDisabled(
            "coach", "the LLM is not configured", _HOW_TO_ENABLE)
    return coach


@router.post("/chat", response_model=CoachReply)
async def chat(body: ChatRequest, runtime: RuntimeDep) -> Response:
    """One turn; 503 when the coach is disabled (with how to enable it) or the model did not answer in time."""
    return json_response(await _coach(runtime).chat(body.message, body.conversation_id, actor="api"))


@router.get("/conversations/{conversation_id}", responses=struct_response(CoachConversationView))
async def conversation(conversation_id: str, runtime: RuntimeDep) -> Response:
    """The messages oldest first; an assistant message carries its turn's suggestions, sources and checklist."""
    found = await _coach(runtime).conversation(conversation_id[:32])
    return Response(conversation_json(found), media_type="application/json")
