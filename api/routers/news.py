"""`GET /news` (stored news from Polygon and the curated feeds) and `GET /earnings` (every entitled calendar).

Both answers carry `sources`: the state of each source asked (ok, disabled, not_entitled, error) with its
reason, so an empty list is never mistaken for "nothing happened". `/market/news` stays as Polygon's raw view.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from api.auth import require_api_key
from api.deps import RuntimeDep
from core.domain.news import ET, EarningsDate, NewsItem, SourceStatus
from core.services.news import parse_symbols

router = APIRouter(tags=["news"], dependencies=[Depends(require_api_key)])


class SentimentOut(BaseModel):
    symbol: str
    value: str
    reasoning: str | None


class NewsItemOut(BaseModel):
    id: str
    source: str
    title: str
    url: str
    published_at: str
    symbols: list[str]
    sentiment: SentimentOut | None
    sentiments: list[SentimentOut]
    summary: str | None
    publisher: str | None

    @classmethod
    def of(cls, item: NewsItem, symbols: list[str]) -> NewsItemOut:
        """`sentiment` is the one for the first asked symbol the source rated (or the first rating)."""
        rated = [SentimentOut(symbol=s.symbol, value=s.value.value, reasoning=s.reasoning) for s in item.sentiment]
        chosen = next((s for s in rated if s.symbol in symbols), rated[0] if rated else None)
        return cls(id=item.id or "", source=item.source, title=item.title, url=item.url,
                   published_at=item.published_at.astimezone(UTC).isoformat(), symbols=list(item.symbols),
                   sentiment=chosen, sentiments=rated, summary=item.summary,
                   publisher=item.publisher)


class SourceOut(BaseModel):
    source: str
    state: str
    reason: str
    how_to_enable: str
    last_fetch_at: datetime | None = None

    @classmethod
    def of(cls, status: SourceStatus) -> SourceOut:
        return cls(source=status.source, state=status.state, reason=status.reason,
                   how_to_enable=status.how_to_enable, last_fetch_at=status.last_fetch_at)


class NewsPageResponse(BaseModel):
    items: list[NewsItemOut]
    next_cursor: str | None
    sources: list[SourceOut]


class EarningsOut(BaseModel):
    symbol: str
    date: str
    time: str
    source: str
    confirmed: bool

    @classmethod
    def of(cls, release: EarningsDate) -> EarningsOut:
        return cls(symbol=release.symbol, date=release.date.isoformat(), time=release.time.value,
                   source=release.source, confirmed=release.confirmed)


class EarningsResponse(BaseModel):
    items: list[EarningsOut]
    sources: list[SourceOut]


@router.get("/news")
async def get_news(runtime: RuntimeDep, symbols: str | None = None, since: datetime | None = None,
                   limit: Annotated[int, Query(ge=1, le=200)] = 50, cursor: str | None = None) -> NewsPageResponse:
    """Newest first; `symbols` (comma-separated) filters, `next_cursor` pages on."""
    wanted = parse_symbols(symbols)
    page = await runtime.news.page(symbols=wanted, since=since, limit=limit, cursor=cursor or None)
    return NewsPageResponse(items=[NewsItemOut.of(item, wanted) for item in page.items],
                            next_cursor=page.next_cursor, sources=[SourceOut.of(s) for s in page.sources])


@router.get("/earnings")
async def get_earnings(runtime: RuntimeDep, symbols: str | None = None,
                       start: Annotated[date | None, Query(alias="from")] = None,
                       end: Annotated[date | None, Query(alias="to")] = None) -> EarningsResponse:
    """Releases in [from, to] (default: the next 14 days) for `symbols` (default: the watchlist)."""
    wanted = parse_symbols(symbols) or (await runtime.settings_service.get()).watchlist
    first = start or datetime.now(ET).date()
    answer = await runtime.news.earnings(wanted, first, end or first + timedelta(days=14))
    return EarningsResponse(items=[EarningsOut.of(r) for r in answer.items],
                            sources=[SourceOut.of(s) for s in answer.sources])
