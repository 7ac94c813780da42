"""News values and rules: link canonicalisation, headline keys, symbol tagging and the two plan warnings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.domain.news import (
    EarningsDate,
    EarningsTime,
    Hold,
    NewsItem,
    canonical_url,
    earnings_in_hold,
    event_risk,
    mentioned_symbols,
    news_breaking,
    title_key,
    url_key,
)

# Thursday 2026-12-03, 14:00 New York (19:00 UTC): the regular session is open.
NOW = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)


def release(day: date, slot: EarningsTime, symbol: str = "NVDA") -> EarningsDate:
    return EarningsDate(symbol=symbol, date=day, time=slot, source="polygon:benzinga", confirmed=True)


def test_tracking_parameters_fragment_and_case_do_not_make_a_new_link() -> None:
    base = "https://Example.com/news/a-story/"
    assert canonical_url(base) == "https://example.com/news/a-story"
    assert url_key(base + "?utm_source=rss&utm_medium=x#top") == url_key("https://example.com/news/a-story")
    assert url_key("https://example.com/news/a-story?id=2") != url_key("https://example.com/news/a-story?id=3")


def test_same_headline_in_the_same_minute_is_the_same_story() -> None:
    at = datetime(2026, 12, 4, 20, 45, 0, tzinfo=UTC)
    assert title_key("NVDA  extends rally", at) == title_key("nvda extends rally", at + timedelta(seconds=30))
    assert title_key("NVDA extends rally", at) != title_key("NVDA extends rally", at + timedelta(minutes=1))


def test_mentioned_symbols_are_watchlist_words_and_cashtags() -> None:
    watch = ["AAPL", "NVDA", "F", "IT"]
    assert mentioned_symbols(["NVDA rallies; $aapl supplier warns"], watch) == ("AAPL", "NVDA")
    assert mentioned_symbols(["F is a letter, IT is a word", None], watch) == ("IT",)
    assert mentioned_symbols(["Ford ($F) recalls"], watch) == ("F",)
    assert mentioned_symbols(["NVDAX and xNVDA are other tickers"], watch) == ()


@pytest.mark.parametrize(("day", "slot", "hold", "warns"), [
    (date(2026, 12, 3), EarningsTime.AFTER_CLOSE, Hold.DAY, False),       # after today's close
    (date(2026, 12, 3), EarningsTime.AFTER_CLOSE, Hold.OVERNIGHT, True),  # held through it
    (date(2026, 12, 4), EarningsTime.BEFORE_OPEN, Hold.DAY, False),       # tomorrow's pre-market
    (date(2026, 12, 4), EarningsTime.BEFORE_OPEN, Hold.OVERNIGHT, True),
    (date(2026, 12, 3), EarningsTime.UNKNOWN, Hold.DAY, True),            # some time today: assume inside
    (date(2026, 12, 3), EarningsTime.BEFORE_OPEN, Hold.DAY, False),       # already out this morning
    (date(2026, 12, 7), EarningsTime.BEFORE_OPEN, Hold.OVERNIGHT, False),  # next Monday
])
def test_earnings_in_hold(day: date, slot: EarningsTime, hold: Hold, warns: bool) -> None:
    issue = earnings_in_hold("NVDA", [release(day, slot), release(date(2026, 12, 3), EarningsTime.UNKNOWN, "AMD")],
                             now=NOW, hold=hold)
    assert (issue is not None) is warns
    if issue is not None:
        assert issue.code == "earnings_in_hold" and day.isoformat() in issue.message
        assert "polygon:benzinga" in issue.message


def test_friday_overnight_hold_reaches_monday_pre_market() -> None:
    friday = datetime(2026, 12, 4, 19, 0, tzinfo=UTC)
    issue = earnings_in_hold("NVDA", [release(date(2026, 12, 7), EarningsTime.BEFORE_OPEN)], now=friday,
                             hold=Hold.OVERNIGHT)
    assert issue is not None and "2026-12-07 before the open" in issue.message


def test_news_breaking_only_inside_the_window_and_quotes_the_title() -> None:
    item = NewsItem(source="feed:Desk", title="NVDA halted", url="https://x.example/a",
                    published_at=NOW - timedelta(minutes=12))
    issue = news_breaking("NVDA", item, now=NOW, minutes=30)
    assert issue is not None and issue.code == "news_breaking" and '"NVDA halted"' in issue.message
    assert "12 min ago" in issue.message
    assert news_breaking("NVDA", item, now=NOW, minutes=10) is None
    assert news_breaking("NVDA", None, now=NOW, minutes=30) is None


def test_event_risk_weighs_earnings_before_the_close_most_then_breaking_news() -> None:
    fresh = NewsItem(source="feed:Desk", title="NVDA halted", url="https://x.example/a",
                     published_at=NOW - timedelta(minutes=5))
    old = NewsItem(source="feed:Desk", title="NVDA old", url="https://x.example/b",
                   published_at=NOW - timedelta(days=1))
    today_at_an_unknown_time = [release(NOW.date(), EarningsTime.UNKNOWN)]
    tomorrow_before_open = [release(NOW.date() + timedelta(days=1), EarningsTime.BEFORE_OPEN)]
    earnings = event_risk("NVDA", today_at_an_unknown_time, fresh, now=NOW, minutes=30)
    assert (earnings.name, earnings.value) == ("event_risk", 0.2) and "reports earnings" in earnings.explanation
    breaking = event_risk("NVDA", tomorrow_before_open, fresh, now=NOW, minutes=30)  # after a day trade's hold
    assert breaking.value == 0.5 and '"NVDA halted"' in breaking.explanation
    calm = event_risk("NVDA", tomorrow_before_open, old, now=NOW, minutes=30)
    assert calm.value == 0.8 and "no NVDA earnings before the close" in calm.explanation
    unchecked = event_risk("NVDA", None, old, now=NOW, minutes=30)
    assert unchecked.value == 0.5 and "earnings dates not checked" in unchecked.explanation
