"""Tradier's corporate calendars (beta fundamentals) read as earnings dates.

The body is a list, one element per requested symbol, each with `results` (share classes, companies) whose
`tables.corporate_calendars` is a list or, seen in the wild, a single object. Tradier gives dates only, so the
release time is `unknown`. Event codes differ between data sets, so a row counts as an earnings release by its
text: it names earnings and is not the conference call about them. `1970-01-01` is Tradier's placeholder for
"no date" and is dropped, as is any row that cannot be read: an earnings date is never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from core.adapters.tradier.wire import WireError, as_list
from core.domain.news import EarningsDate, EarningsTime

SOURCE = "tradier:calendars"
_EARNINGS = re.compile(r"\bearnings\b", re.IGNORECASE)
_NOT_RELEASE = re.compile(r"\b(call|conference|webcast|meeting|presentation)\b", re.IGNORECASE)
_PLACEHOLDER = date(1970, 1, 1)


def _day(raw: Any) -> date | None:
    if not isinstance(raw, str) or len(raw) < 10:
        return None
    try:
        day = date.fromisoformat(raw[:10])
    except ValueError:
        return None
    return None if day <= _PLACEHOLDER else day


def _release(symbol: str, row: Mapping[str, Any]) -> EarningsDate | None:
    event = row.get("event")
    if not isinstance(event, str) or not _EARNINGS.search(event) or _NOT_RELEASE.search(event):
        return None
    day = _day(row.get("begin_date_time"))
    if day is None:
        return None
    return EarningsDate(symbol=symbol, date=day, time=EarningsTime.UNKNOWN, source=SOURCE,
                        confirmed=row.get("event_status") == "Confirmed")


def parse_calendars(body: Any) -> list[EarningsDate]:
    """Every earnings release in a calendars answer, one per symbol and day, sorted by date."""
    if not isinstance(body, list):
        raise WireError("a JSON list of corporate calendars, one element per symbol", body)
    found: dict[tuple[str, date], EarningsDate] = {}
    for element in body:
        if not isinstance(element, Mapping) or not isinstance(element.get("request"), str):
            continue
        symbol = element["request"].upper()
        for result in as_list(element.get("results")):
            tables = result.get("tables") if isinstance(result, Mapping) else None
            rows = as_list(tables.get("corporate_calendars")) if isinstance(tables, Mapping) else []
            for row in rows:
                release = _release(symbol, row) if isinstance(row, Mapping) else None
                if release is not None:
                    previous = found.get((symbol, release.date))
                    if previous is None or (release.confirmed and not previous.confirmed):
                        found[(symbol, release.date)] = release
    return sorted(found.values(), key=lambda r: (r.date, r.symbol))
