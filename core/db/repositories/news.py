"""news_items + news_symbols: insert with cross-source deduplication, newest-first keyset pages.

An item whose canonical link or headline + minute is already stored is not stored again; its symbols are
added to the stored one (a second source may tag a symbol the first did not). Pages are ordered by
(published_at, id) descending, and the cursor is the last row's pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, insert, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.db.base import new_id
from core.db.models import NewsRow, NewsSourceRow, NewsSymbolRow
from core.domain.news import NewsItem, Sentiment, SourceStatus, SymbolSentiment

Executor = AsyncSession | AsyncConnection

_ITEMS = cast(Table, NewsRow.__table__)
_SYMBOLS = cast(Table, NewsSymbolRow.__table__)
_SOURCES = cast(Table, NewsSourceRow.__table__)
_I, _S = _ITEMS.c, _SYMBOLS.c
_COLUMNS = (_I.id, _I.source, _I.title, _I.url, _I.published_at, _I.publisher, _I.summary, _I.sentiment)


def _sentiment(raw: Any) -> tuple[SymbolSentiment, ...]:
    out = []
    for entry in raw if isinstance(raw, list) else []:
        if isinstance(entry, dict) and entry.get("value") in Sentiment.__members__.values():
            out.append(SymbolSentiment(str(entry.get("symbol", "")), Sentiment(entry["value"]),
                                       entry.get("reasoning")))
    return tuple(out)


class NewsRepository:
    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    async def add(self, items: Sequence[NewsItem]) -> list[NewsItem]:
        """Store the items not seen before (by link or headline + minute); returns those, with their ids."""
        if not items:
            return []
        url_keys = {item.url_key for item in items}
        title_keys = {item.title_key for item in items}
        found = await self.executor.execute(
            select(_I.id, _I.url_key, _I.title_key).where(or_(_I.url_key.in_(url_keys),
                                                             _I.title_key.in_(title_keys))))
        by_url: dict[str, str] = {}
        by_title: dict[str, str] = {}
        for row in found:
            by_url[row.url_key], by_title[row.title_key] = row.id, row.id
        stored: list[NewsItem] = []
        tags: list[dict[str, Any]] = []
        for item in items:
            existing = by_url.get(item.url_key) or by_title.get(item.title_key)
            if existing is None:
                existing = new_id()
                await self.executor.execute(insert(_ITEMS).values(
                    id=existing, source=item.source, title=item.title, url=item.url, url_key=item.url_key,
                    title_key=item.title_key, published_at=item.published_at, publisher=item.publisher,
                    summary=item.summary,
                    sentiment=[{"symbol": s.symbol, "value": s.value.value, "reasoning": s.reasoning}
                               for s in item.sentiment]))
                by_url[item.url_key] = by_title[item.title_key] = existing
                stored.append(replace(item, id=existing))
            tags.extend({"news_id": existing, "symbol": symbol, "published_at": item.published_at}
                        for symbol in item.symbols)
        await self._tag(tags)
        return stored

    async def _tag(self, tags: list[dict[str, Any]]) -> None:
        if not tags:
            return
        pairs = {(t["news_id"], t["symbol"]) for t in tags}
        known = await self.executor.execute(
            select(_S.news_id, _S.symbol).where(tuple_(_S.news_id, _S.symbol).in_(list(pairs))))
        have = {(row.news_id, row.symbol) for row in known}
        fresh = {(t["news_id"], t["symbol"]): t for t in tags if (t["news_id"], t["symbol"]) not in have}
        if fresh:
            await self.executor.execute(insert(_SYMBOLS), list(fresh.values()))

    async def page(self, *, symbols: Sequence[str] = (), since: datetime | None = None,
                   after: tuple[datetime, str] | None = None, limit: int = 50) -> list[NewsItem]:
        """Newest first; with `symbols`, only items tagged with one of them."""
        statement = select(*_COLUMNS)
        if symbols:
            statement = statement.where(_I.id.in_(select(_S.news_id).where(_S.symbol.in_(list(symbols)))))
        if since is not None:
            statement = statement.where(_I.published_at >= since)
        if after is not None:
            statement = statement.where(tuple_(_I.published_at, _I.id) < tuple_(*after))
        rows = (await self.executor.execute(
            statement.order_by(_I.published_at.desc(), _I.id.desc()).limit(limit))).all()
        return await self._items(rows)

    async def by_ids(self, ids: Sequence[str]) -> list[NewsItem]:
        if not ids:
            return []
        return await self._items((await self.executor.execute(select(*_COLUMNS).where(_I.id.in_(list(ids))))).all())

    async def latest(self, symbol: str) -> NewsItem | None:
        rows = await self.page(symbols=[symbol], limit=1)
        return rows[0] if rows else None

    async def _items(self, rows: Sequence[Any]) -> list[NewsItem]:
        if not rows:
            return []
        ids = [row.id for row in rows]
        tagged: dict[str, list[str]] = {}
        for news_id, symbol in await self.executor.execute(
                select(_S.news_id, _S.symbol).where(_S.news_id.in_(ids)).order_by(_S.symbol)):
            tagged.setdefault(news_id, []).append(symbol)
        return [NewsItem(id=row.id, source=row.source, title=row.title, url=row.url, published_at=row.published_at,
                         publisher=row.publisher, summary=row.summary, sentiment=_sentiment(row.sentiment),
                         symbols=tuple(tagged.get(row.id, ()))) for row in rows]



class NewsSourceRepository:
    """news_sources: the fetching process's source states, the same for every process that reads them."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    async def replace(self, statuses: Sequence[SourceStatus], now: datetime) -> None:
        """The states as of the last refresh: sources no longer configured are gone."""
        await self.executor.execute(delete(_SOURCES))
        if statuses:
            await self.executor.execute(insert(_SOURCES), [
                {"name": s.source, "state": s.state, "reason": s.reason, "how_to_enable": s.how_to_enable,
                 "last_fetch_at": s.last_fetch_at, "updated_at": now} for s in statuses])

    async def all(self) -> list[SourceStatus]:
        rows = await self.executor.execute(select(_SOURCES).order_by(_SOURCES.c.name))
        return [SourceStatus(row.name, row.state, row.reason, row.how_to_enable, row.last_fetch_at) for row in rows]
