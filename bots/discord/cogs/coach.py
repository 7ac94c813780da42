"""/coach question: a thread per conversation. Later turns: @mention the bot in that thread (no privileged
message-content intent is needed: mentions carry their text)."""

from __future__ import annotations

import re
from typing import Any

import discord
import structlog
from discord import app_commands
from discord.ext import commands

from bots.discord import render
from bots.discord.access import discord_actor
from bots.discord.buttons import CancelOrder, ConfirmOrder
from bots.discord.cogs.common import FeatureCog, actor
from bots.discord.errors import user_message
from core.domain.access import Action, is_allowed, refusal
from core.domain.coach_replies import CoachReply
from core.errors import CoreError, Forbidden
from core.services.coach import CoachService

log = structlog.get_logger("bots.discord.coach")
THREAD_NAME_MAX = 100
_MENTION = re.compile(r"<@!?\d+>")


def thread_ref(thread_id: int) -> str:
    return f"discord:thread:{thread_id}"


def suggestion_view(reply: CoachReply) -> discord.ui.View | None:
    """Confirm/Cancel for each order intent the coach drafted (the same buttons as /order)."""
    items: list[discord.ui.Item[Any]] = []
    for suggestion in reply.suggestions:
        if suggestion.action is not None and (confirm := suggestion.action.confirm) is not None:
            intent_id, token = confirm
            items += [ConfirmOrder(intent_id, token), CancelOrder(intent_id)]
    return render.button_view(items) if items else None


async def send_reply(target: discord.abc.Messageable, reply: CoachReply) -> None:
    chunks, embeds = render.coach_messages(reply)
    for chunk in chunks[:-1]:
        await target.send(chunk)
    view = suggestion_view(reply)
    if view is None:
        await target.send(chunks[-1], embeds=embeds)
    else:
        await target.send(chunks[-1], embeds=embeds, view=view)


class CoachCog(FeatureCog):
    def __init__(self, bot: Any) -> None:
        super().__init__(bot)
        self.threads: set[int] = set()  # coach threads this process opened (mentions work in any thread)

    def _service(self) -> CoachService:
        if self.runtime.coach is None:
            raise self.runtime.coach_disabled or CoreError("the coach is not available")
        return self.runtime.coach

    @app_commands.command(name="coach", description="Ask the trading coach; the conversation goes on in a thread")
    @app_commands.describe(question="What you want to know or plan")
    async def coach(self, interaction: discord.Interaction[Any], question: app_commands.Range[str, 1, 1900]) -> None:
        service = self._service()
        await interaction.response.defer(thinking=True)  # the LLM turn takes seconds
        starter = await interaction.followup.send(f"**{interaction.user.display_name}** asked the coach: {question}",
                                                  wait=True)
        # by id, not `starter.create_thread`: that needs the guild in the cache, which a fresh process may lack
        data = await self.bot.http.start_thread_with_message(
            starter.channel.id, starter.id, name=render.clip(f"Coach: {question}", THREAD_NAME_MAX),
            auto_archive_duration=1440)
        thread_id = int(data["id"])
        self.threads.add(thread_id)
        thread = self.bot.get_partial_messageable(thread_id, guild_id=interaction.guild_id,
                                                  type=discord.ChannelType.public_thread)
        reply = await service.chat(question, actor=actor(interaction), external_ref=thread_ref(thread_id))
        await send_reply(thread, reply)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if message.author.bot or me is None or self.runtime.coach is None:
            return
        channel = message.channel
        in_thread = isinstance(channel, discord.Thread) or channel.id in self.threads
        if not in_thread or not (me in message.mentions or channel.id in self.threads):
            return
        text = _MENTION.sub("", message.content).strip()
        if not text:
            return
        actor_id = discord_actor(message.author.id)
        try:
            if not is_allowed(Action.COACH, actor_id, self.runtime.settings.traders):
                raise Forbidden(refusal(Action.COACH, actor_id))
            async with channel.typing():
                reply = await self.runtime.coach.chat(text, actor=actor_id, external_ref=thread_ref(channel.id))
            await send_reply(channel, reply)
        except CoreError as exc:
            await channel.send(render.clip(user_message(exc), render.CONTENT_MAX))
        except discord.HTTPException as exc:
            log.warning("discord.coach_reply_failed", status=exc.status, error=str(exc))
