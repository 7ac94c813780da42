"""coach_conversations and coach_messages: conversations by id or by an external thread ref, recent messages."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import CoachConversation, CoachMessage


class CoachRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, conversation_id: str) -> CoachConversation | None:
        return await self.session.get(CoachConversation, conversation_id)

    async def get_by_ref(self, external_ref: str) -> CoachConversation | None:
        query = select(CoachConversation).where(CoachConversation.external_ref == external_ref)
        return (await self.session.scalars(query)).first()

    async def add_conversation(self, conversation: CoachConversation) -> CoachConversation:
        self.session.add(conversation)
        await self.session.flush()
        return conversation

    async def add_messages(self, *messages: CoachMessage) -> None:
        self.session.add_all(messages)
        await self.session.flush()

    async def recent(self, conversation_id: str, limit: int) -> Sequence[CoachMessage]:
        """The newest `limit` messages, returned oldest first."""
        query = (select(CoachMessage).where(CoachMessage.conversation_id == conversation_id)
                 .order_by(CoachMessage.created_at.desc(), CoachMessage.id.desc()).limit(limit))
        rows = list((await self.session.scalars(query)).all())
        rows.reverse()
        return rows

    async def count(self, conversation_id: str) -> int:
        query = select(func.count()).select_from(CoachMessage).where(CoachMessage.conversation_id == conversation_id)
        return int((await self.session.scalar(query)) or 0)
