"""`/ta news` and `/ta earnings` as Block Kit: the shared news text with Slack's `<url|text>` links."""

from __future__ import annotations

from bots.news_text import earnings_lines, news_alert_line, news_alert_title, news_lines
from bots.slack import blocks as bk
from core.domain.events import AlertMeta
from core.domain.news import EarningsAnswer
from core.services.news import NewsPage


def _link(url: str, text: str) -> str:
    return f"<{url}|{bk.escape(text).replace('|', '¦')}>"


def news_blocks(page: NewsPage, scope: str) -> list[bk.Blocks]:
    lines = news_lines(page.items, page.sources, _link, scope)
    return bk.lines_blocks(f"News: {scope}", [line + "\n" for line in lines], "")


def news_alert_card(meta: AlertMeta) -> bk.Blocks:
    """A `news` delivery as a channel card: the item's own title, link, time and source."""
    return bk.lines_blocks(news_alert_title(meta), [news_alert_line(meta, _link)], "")[0]


def earnings_blocks(answer: EarningsAnswer, scope: str, days: int) -> list[bk.Blocks]:
    return bk.lines_blocks(f"Earnings, next {days} days: {scope}", earnings_lines(answer, scope), "")
