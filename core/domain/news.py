"""News items and earnings dates as the product keeps them, and the pure rules that use them.

An item is what its source published: the title and link are never rewritten, only trimmed of surrounding
whitespace. Deduplication keys (the canonical link, and the headline with its minute) and the watchlist
symbols a headline mentions are computed here so every source is treated alike. The plan warnings
`earnings_in_hold` and `news_breaking` take their data as arguments: the service fetches, this module decides.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from core.domain.confidence import Factor
from core.domain.events import AlertEvent, AlertMeta
from core.domain.plans import Issue

ET = ZoneInfo("America/New_York")
PREMARKET_OPEN = time(4, 0)
REGULAR_OPEN = time(9, 30)
REGULAR_CLOSE = time(16, 0)
AFTER_HOURS_CLOSE = time(20, 0)
# Query parameters that only track the click, never choose the article: dropped before comparing links.
_TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid|cmpid|ref|src)$", re.IGNORECASE)
_CASHTAG = re.compile(r"\$([A-Za-z][A-Za-z.]{0,5})\b")
_WORD = re.compile(r"(?<![A-Za-z0-9$.])([A-Z][A-Z.]{1,5})(?![A-Za-z0-9])")


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"


@dataclass(frozen=True, slots=True)
class SymbolSentiment:
    """A source's own per-symbol sentiment (Polygon `insights`), with its reasoning as written."""

    symbol: str
    value: Sentiment
    reasoning: str | None = None


@dataclass(frozen=True, slots=True)
class NewsItem:
    """One article. `source` names where it came from (`polygon`, `feed:<label>`); `id` is ours once stored."""

    source: str
    title: str
    url: str
    published_at: datetime
    symbols: tuple[str, ...] = ()
    sentiment: tuple[SymbolSentiment, ...] = ()
    summary: str | None = None
    publisher: str | None = None
    id: str | None = None

    @property
    def url_key(self) -> str:
        return url_key(self.url)

    @property
    def title_key(self) -> str:
        return title_key(self.title, self.published_at)


def news_alert(item: NewsItem) -> AlertEvent:
    """What a delivery channel gets for a news item: the stored title, source, link and time as they are."""
    meta = AlertMeta(kind="news", news_id=item.id, title=item.title, source=item.source, url=item.url,
                     published_at=item.published_at.astimezone(UTC).isoformat(), symbols=tuple(item.symbols),
                     publisher=item.publisher)
    return AlertEvent(level="info", msg=item.title, meta=meta)


class EarningsTime(StrEnum):
    BEFORE_OPEN = "bmo"
    AFTER_CLOSE = "amc"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class EarningsDate:
    """A scheduled (or past) release: `time` is bmo/amc when the source says so, else unknown."""

    symbol: str
    date: date
    time: EarningsTime
    source: str
    confirmed: bool


@dataclass(frozen=True, slots=True)
class FeedFetch:
    """One feed fetch: `not_modified` after a 304; `skipped` entries lacked a link, title or date."""

    items: tuple[NewsItem, ...]
    not_modified: bool = False
    skipped: int = 0
    malformed: str | None = None


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """Why a source gave nothing: `disabled` (not configured), `not_entitled` (plan lacks it), `error`;
    `last_fetch_at`: when the fetching process last asked it (None: never, e.g. not configured)."""

    source: str
    state: str
    reason: str
    how_to_enable: str = ""
    last_fetch_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EarningsAnswer:
    items: tuple[EarningsDate, ...]
    sources: tuple[SourceStatus, ...] = field(default_factory=tuple)


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, fragment, trailing slash and tracking parameters dropped."""
    parts = urlsplit(url.strip())
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not _TRACKING.match(k)))
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def url_key(url: str) -> str:
    return _digest(canonical_url(url))


def title_key(title: str, published_at: datetime) -> str:
    """The same headline published in the same minute is the same story, whoever relays it."""
    minute = published_at.astimezone(UTC).replace(second=0, microsecond=0).isoformat()
    return _digest(" ".join(title.casefold().split()) + "|" + minute)


def mentioned_symbols(texts: Iterable[str | None], watchlist: Iterable[str]) -> tuple[str, ...]:
    """Watchlist symbols a text names: as a cashtag ($NVDA) or as an upper-case word of 2+ letters (NVDA).

    A one-letter symbol counts only as a cashtag: a lone capital `F` or `A` is far more often a word."""
    watched = set(watchlist)
    found: set[str] = set()
    for text in texts:
        if not text:
            continue
        found.update(m.upper() for m in _CASHTAG.findall(text))
        found.update(_WORD.findall(text))
    return tuple(sorted(found & watched))


# -- plan warnings ---------------------------------------------------------------------------------------------


class Hold(StrEnum):
    DAY = "day"
    OVERNIGHT = "overnight"


def _at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, ET)


def _next_weekday(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def hold_window(now: datetime, hold: Hold) -> tuple[datetime, datetime]:
    """From now to today's close (day trade), or to the next session's open (held overnight)."""
    today = now.astimezone(ET).date()
    if hold is Hold.DAY:
        return now, _at(today, REGULAR_CLOSE)
    return now, _at(_next_weekday(today), REGULAR_OPEN)


def release_window(release: EarningsDate) -> tuple[datetime, datetime]:
    """When a release can land: pre-market for bmo, after hours for amc, the whole day when unknown."""
    if release.time is EarningsTime.BEFORE_OPEN:
        return _at(release.date, PREMARKET_OPEN), _at(release.date, REGULAR_OPEN)
    if release.time is EarningsTime.AFTER_CLOSE:
        return _at(release.date, REGULAR_CLOSE), _at(release.date, AFTER_HOURS_CLOSE)
    return _at(release.date, time(0)), _at(release.date + timedelta(days=1), time(0))


def earnings_in_hold(symbol: str, releases: Sequence[EarningsDate], *, now: datetime,
                     hold: Hold) -> Issue | None:
    """`earnings_in_hold` when one of `symbol`'s releases can land between now and the end of the hold."""
    start, end = hold_window(now, hold)
    for release in sorted(releases, key=lambda r: r.date):
        if release.symbol != symbol:
            continue
        begins, ends = release_window(release)
        if begins < end and ends > start:
            when = {EarningsTime.BEFORE_OPEN: "before the open", EarningsTime.AFTER_CLOSE: "after the close",
                    EarningsTime.UNKNOWN: "(time not given)"}[release.time]
            held = "today's close" if hold is Hold.DAY else "the next open"
            status = "confirmed" if release.confirmed else "projected"
            return Issue("earnings_in_hold", f"{symbol} reports earnings {release.date.isoformat()} {when} "
                         f"({status}, {release.source}), inside a hold until {held}", "symbol")
    return None


def news_breaking(symbol: str, latest: NewsItem | None, *, now: datetime, minutes: int) -> Issue | None:
    """`news_breaking` when `symbol` had news in the last `minutes` minutes; the headline is quoted as is."""
    if latest is None or now - latest.published_at > timedelta(minutes=minutes):
        return None
    age = max(0, int((now - latest.published_at).total_seconds() // 60))
    return Issue("news_breaking", f"{symbol} has news from {age} min ago ({latest.source}): \"{latest.title}\"",
                 "symbol")


EVENT_RISK_WEIGHT = 0.1


def event_risk(symbol: str, releases: Sequence[EarningsDate] | None, latest: NewsItem | None, *, now: datetime,
               minutes: int, weight: float = EVENT_RISK_WEIGHT) -> Factor:
    """A pick's exposure to a catalyst inside a day trade's hold, as a confidence factor: earnings that can land
    before the close weigh most against it, news of the last `minutes` moves the price either way, and neither
    (with the calendars checked) is in its favour. `releases` None: no calendar answered."""
    if releases is not None and (earnings := earnings_in_hold(symbol, releases, now=now, hold=Hold.DAY)):
        return Factor("event_risk", 0.2, weight, earnings.message)
    if breaking := news_breaking(symbol, latest, now=now, minutes=minutes):
        return Factor("event_risk", 0.5, weight, f"{breaking.message}: a fresh catalyst moves the price either way")
    if releases is None:
        return Factor("event_risk", 0.5, weight, f"no {symbol} news in the last {minutes} min; earnings dates "
                                                 "not checked (no calendar answered)")
    return Factor("event_risk", 0.8, weight, f"no {symbol} earnings before the close and no news in the last "
                                             f"{minutes} min")
