"""Coach threads: `/ta coach QUESTION` posts the question in the channel and answers in its thread; later turns
are replies in that thread (or an @mention in any thread), mapped to one coach conversation by `thread_ref`.

Plain thread replies continue the threads that have a coach conversation (remembered in memory, else looked up
in the database, so a restart loses nothing). A reply that @mentions the app arrives both as `app_mention` and as
`message`: only `app_mention` answers it. The app's own messages, bot messages, edits and other subtypes, and
messages outside threads are ignored.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import blocks as bk
from bots.slack.blocks_coach import coach_messages, coach_title
from core.domain.access import Action, is_allowed, refusal
from core.errors import CoreError, ExternalPermanent, Forbidden, Invalid
from core.runtime import Runtime
from core.services.coach import CoachService

log = structlog.get_logger("bots.slack.coach")
KNOWN_THREADS = 10_000
_MENTION = re.compile(r"<@[A-Z0-9]+>")


def thread_ref(channel: str, thread_ts: str) -> str:
    return f"slack:thread:{channel}:{thread_ts}"


class SlackCoach:
    def __init__(self, runtime: Runtime, client: AsyncWebClient) -> None:
        self.rt = runtime
        self.client = client
        self.threads: OrderedDict[str, None] = OrderedDict()

    def _service(self) -> CoachService:
        if self.rt.coach is None:
            raise self.rt.coach_disabled or CoreError("the coach is not available")
        return self.rt.coach

    def _remember(self, ref: str) -> None:
        self.threads[ref] = None
        while len(self.threads) > KNOWN_THREADS:
            self.threads.popitem(last=False)

    async def ask(self, actor: str, channel: str, user_id: str, question: str) -> None:
        """Post the question, then answer in its thread. Raises CoreError for the slash command's responder."""
        self._service()  # a disabled coach is refused before anything is posted
        if not question.strip():
            raise Invalid("coach needs a question, e.g. `/ta coach plan a long AAPL at 190 stop 188`")
        try:
            posted = await self.client.chat_postMessage(
                channel=channel, text=bk.fallback(f"<@{user_id}> asked the coach: {bk.escape(question)}"))
        except SlackApiError as exc:
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else exc.response.status_code
            raise ExternalPermanent(f"I cannot post in this channel ({error}): invite the app with "
                                    "`/invite @Trading Assistant`, or ask in a DM with the app") from exc
        thread_ts = str(posted["ts"])
        self._remember(thread_ref(channel, thread_ts))
        await self._turn(actor, channel, thread_ts, question)

    async def on_mention(self, actor: str, event: dict[str, Any]) -> bool:
        """An @mention inside a thread continues (or starts) that thread's conversation; False when not in one."""
        thread_ts, channel = event.get("thread_ts"), str(event.get("channel") or "")
        if not thread_ts or not channel:
            return False
        text = _MENTION.sub("", str(event.get("text") or "")).strip()
        if text:
            self._remember(thread_ref(channel, str(thread_ts)))
        await self._turn(actor, channel, str(thread_ts), text)
        return True

    async def on_message(self, actor: str, event: dict[str, Any], bot_user_id: str | None) -> None:
        thread_ts, channel = event.get("thread_ts"), str(event.get("channel") or "")
        if (event.get("subtype") or event.get("bot_id") or not thread_ts or thread_ts == event.get("ts")
                or (bot_user_id and event.get("user") == bot_user_id)):
            return
        text = str(event.get("text") or "").strip()
        if not text or (bot_user_id and f"<@{bot_user_id}>" in text):
            return  # the app_mention listener answers mentions
        service, ref = self.rt.coach, thread_ref(channel, str(thread_ts))
        if service is None or not (ref in self.threads or await service.has_conversation_for(ref)):
            return
        self._remember(ref)
        await self._turn(actor, channel, str(thread_ts), text)

    async def _turn(self, actor: str, channel: str, thread_ts: str, text: str) -> None:
        """One coach turn in a thread, for a trader (core.domain.access), and the one place a turn's failure is
        answered: a disabled coach or a refused user is told why in the thread. A bare mention asks nothing."""
        try:
            service = self._service()
            if not text:
                return
            if not is_allowed(Action.COACH, actor, self.rt.settings.traders):
                raise Forbidden(refusal(Action.COACH, actor))
            reply = await service.chat(text, actor=actor, external_ref=thread_ref(channel, thread_ts))
        except CoreError as exc:
            await self._post_error(channel, thread_ts, exc)
            return
        for message in coach_messages(reply):
            await self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=coach_title(reply),
                                               blocks=message, unfurl_links=False, unfurl_media=False)

    async def _post_error(self, channel: str, thread_ts: str, exc: CoreError) -> None:
        await self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=bk.fallback(bk.error_text(exc)),
                                           blocks=bk.error_blocks(exc))
