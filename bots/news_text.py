"""News and earnings as lines of chat text, shared by the Discord and Slack front-ends (each passes its own
link syntax). Titles are shown as the source wrote them; a source that is off, not entitled or failing is
named with its reason, so an empty answer never reads as "no news"."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from core.domain.events import AlertMeta
from core.domain.news import EarningsAnswer, NewsItem, SourceStatus
from core.errors import ExternalPermanent

Link = Callable[[str, str], str]  # (url, text) -> the chat's link markup
SENTIMENT_MARK = {"positive": "▲", "negative": "▼", "neutral": "•"}
TIME_WORDS = {"bmo": "before the open", "amc": "after the close", "unknown": "time not given"}


def news_line(item: NewsItem, link: Link) -> str:
    when = item.published_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    symbols = f" [{', '.join(item.symbols)}]" if item.symbols else ""
    moods = " ".join(f"{SENTIMENT_MARK[s.value.value]}{s.symbol} {s.value.value}" for s in item.sentiment)
    return f"{link(item.url, item.title)}{symbols}\n{when} · {item.source}" + (f" · {moods}" if moods else "")


def news_alert_title(meta: AlertMeta) -> str:
    return f"News: {', '.join(meta.symbols or ())}".rstrip(": ")


def news_alert_line(meta: AlertMeta, link: Link) -> str:
    """A `news` delivery (its meta: `core.domain.news.news_alert`) as the same line `/news` shows."""
    if not (meta.source and meta.title and meta.url and meta.published_at):
        raise ExternalPermanent("the stored news item lacks its source, title, link or time")
    item = NewsItem(source=meta.source, title=meta.title, url=meta.url,
                    published_at=datetime.fromisoformat(meta.published_at), symbols=meta.symbols or (),
                    publisher=meta.publisher)
    return news_line(item, link)


def source_notes(sources: Sequence[SourceStatus]) -> list[str]:
    """One line per source that did not answer normally: disabled, not in the plan, or failing."""
    notes = []
    for status in sources:
        if status.state == "ok":
            continue
        how = f" ({status.how_to_enable})" if status.how_to_enable else ""
        word = {"disabled": "off", "not_entitled": "not in your plan", "error": "failing"}.get(status.state,
                                                                                              status.state)
        notes.append(f"{status.source} {word}: {status.reason}{how}")
    return notes


def news_lines(items: Sequence[NewsItem], sources: Sequence[SourceStatus], link: Link, scope: str) -> list[str]:
    lines = [news_line(item, link) for item in items]
    if not lines:
        lines.append(f"No stored news for {scope} yet." if not source_notes(sources) else
                     f"No news shown for {scope}: some sources are unavailable (below).")
    return lines + source_notes(sources)


def earnings_lines(answer: EarningsAnswer, scope: str) -> list[str]:
    lines = [f"{r.symbol} {r.date.isoformat()} {TIME_WORDS[r.time.value]}"
             f" ({'confirmed' if r.confirmed else 'projected'}, {r.source})" for r in answer.items]
    asked = [s for s in answer.sources if s.state == "ok"]
    if not lines:
        lines.append(f"No earnings releases for {scope} in the calendars asked ({', '.join(s.source for s in asked)})."
                     if asked else f"Earnings for {scope} could not be checked: no calendar answered.")
    return lines + source_notes(answer.sources)
