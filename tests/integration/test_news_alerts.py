"""The optional `news` alert type: a recorded Polygon news item on a watched symbol goes through the delivery
outbox to the channels the trader routed it to, once per item and channel (also when two processes refresh the
same database), with the item's own title, source, link and time; nothing when the type is off or the symbol is
not watched. The tests drive `refresh()` and the delivery engine's `run_once` themselves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core.adapters.discord_webhook import DiscordWebhookNotifier
from core.db.models import AlertDelivery
from core.domain.deliveries import Delivery
from core.domain.news import NewsItem, news_alert
from core.errors import Invalid
from core.runtime import Runtime
from core.services.settings import ALERT_TYPES
from core.settings import PolygonSettings, Settings
from tests.doubles.discord_webhook import DiscordWebhookDouble
from tests.doubles.polygon import API_KEY as POLYGON_KEY
from tests.doubles.polygon import PolygonDouble
from tests.doubles.polygon import fixture as polygon_fixture

RECORDED = polygon_fixture("docs_news_with_insights_next_url.json")["results"][0]
# an hour after the recorded article was published: it is news, the older page-2 article is backfill
JUST_AFTER = datetime(2024, 6, 24, 19, 33, tzinfo=UTC)
NEWS_ON = {"alert_types": {"discord_webhook": [*ALERT_TYPES, "news"]}}


def news_payload() -> Delivery:
    """What the delivery engine hands a notifier for the recorded article (`delivery_of` its row)."""
    item = NewsItem(source="polygon", title=RECORDED["title"], url=RECORDED["article_url"],
                    published_at=datetime(2024, 6, 24, 18, 33, 53, tzinfo=UTC), symbols=("UBS",),
                    publisher="Investing.com", id="n" * 32)
    return Delivery.of(news_alert(item), trigger_id=None, alert_id=None, triggered_at=JUST_AFTER, news_id=item.id)


@pytest.fixture
async def hook() -> AsyncIterator[DiscordWebhookDouble]:
    async with DiscordWebhookDouble() as double:
        yield double


@asynccontextmanager
async def process(settings: Settings, hook: DiscordWebhookDouble) -> AsyncIterator[Runtime]:
    """One API-role runtime with the webhook channel registered, its news clock just after the recording."""
    async with Runtime(settings, roles={"api"}) as runtime:
        runtime.news.clock = lambda: JUST_AFTER
        notifier = DiscordWebhookNotifier(hook.url, dashboard_url=runtime.dashboard_url)
        runtime.add_closer(notifier.aclose)
        runtime.delivery.register(notifier)
        yield runtime


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str, pg: PolygonDouble) -> Settings:
    polygon = PolygonSettings(api_key=POLYGON_KEY, rest_url=pg.rest_url, ws_url=pg.ws_url)
    return make_settings(database_url=database_url, polygon=polygon, watchlist=["UBS"])


async def queued(runtime: Runtime) -> int:
    async with runtime.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(AlertDelivery)
                                         .where(AlertDelivery.news_id.is_not(None))) or 0)


async def test_a_recorded_item_on_a_watched_symbol_reaches_the_webhook_once(settings: Settings,
                                                                            hook: DiscordWebhookDouble) -> None:
    async with process(settings, hook) as first, process(settings, hook) as second:
        await first.settings_service.update(NEWS_ON)
        stored = await first.news.refresh()
        assert [item.title for item in stored] == [RECORDED["title"], f"{RECORDED['title']} (page 2)"]
        assert await second.news.refresh() == []  # the other process finds it stored: nothing queued twice
        assert await first.delivery.run_once("discord_webhook") == 1
        assert await second.delivery.run_once("discord_webhook") == 0
        await first.news.refresh()
        assert await first.delivery.run_once("discord_webhook") == 0
        assert await queued(first) == 1  # the page-2 article is a day older: stored, not alerted
    [call] = hook.requests
    [embed] = call.json["embeds"]
    assert embed["title"] == RECORDED["title"] and embed["url"] == RECORDED["article_url"]
    assert embed["timestamp"] == "2024-06-24T18:33:53+00:00"
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Symbols"] == "UBS" and fields["Source"] == "polygon (Investing.com)"
    assert call.json["allowed_mentions"] == {"parse": []}


async def test_nothing_is_delivered_while_the_news_type_is_off(settings: Settings,
                                                               hook: DiscordWebhookDouble) -> None:
    async with process(settings, hook) as runtime:
        assert len(await runtime.news.refresh()) == 2
        assert await runtime.delivery.run_once("discord_webhook") == 0
        assert await queued(runtime) == 0
    assert hook.requests == []


async def test_nothing_is_delivered_for_a_symbol_nobody_watches(settings: Settings,
                                                                hook: DiscordWebhookDouble) -> None:
    async with process(settings.model_copy(update={"watchlist": ["NVDA"]}), hook) as runtime:
        await runtime.settings_service.update(NEWS_ON)
        stored = await runtime.news.refresh()
        assert stored and all(item.symbols == ("UBS",) for item in stored)  # stored, about UBS only
        assert await runtime.delivery.run_once("discord_webhook") == 0
        assert await queued(runtime) == 0
    assert hook.requests == []


async def test_news_routes_only_to_outbound_channels(settings: Settings, hook: DiscordWebhookDouble) -> None:
    async with process(settings, hook) as runtime:
        with pytest.raises(Invalid, match="always carries news"):
            await runtime.settings_service.update({"alert_types": {"ws": ["news"]}})
        with pytest.raises(Invalid, match="unknown alert types"):
            await runtime.settings_service.update({"alert_types": {"slack": ["gossip"]}})
