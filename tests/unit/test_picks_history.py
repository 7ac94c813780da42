"""The picks engine's history split: minute bars of several days (pre-market, regular hours, after hours) into the
earlier sessions' history, the true ranges that seed the ATR, and today's regular-hours bars."""

from __future__ import annotations

from datetime import date

import pytest

from core.domain.setups.session import MINUTE_MS, SESSION_MINUTES, MinuteBar, session_open_ms
from core.engines.picks import split_sessions

MONDAY, TUESDAY, TODAY = date(2024, 6, 3), date(2024, 6, 4), date(2024, 6, 5)


def day_of_bars(day: date, base: float) -> list[MinuteBar]:
    """04:00-20:00 New York: 330 pre-market minutes, the 390 of the session, 240 after hours."""
    first = session_open_ms(day) - 330 * MINUTE_MS
    return [MinuteBar(first + i * MINUTE_MS, base, base + 1 + (i == 400), base - 1, base + 0.5, 10.0 + i)
            for i in range(960)]


def test_only_regular_hours_make_the_history_and_today() -> None:
    bars = day_of_bars(MONDAY, 100) + day_of_bars(TUESDAY, 200) + day_of_bars(TODAY, 300)[:400]
    history, trs, today = split_sessions(bars, TODAY)

    assert (history.prior_high, history.prior_low, history.prior_close) == (202.0, 199.0, 200.5)  # Tuesday's
    assert len(history.sessions) == 2 and all(len(volumes) == SESSION_MINUTES for volumes in history.sessions)
    assert history.sessions[-1][0] == 10.0 + 330 and history.sessions[-1][-1] == 10.0 + 330 + 389
    assert history.minute_avg[0] == 10.0 + 330  # both sessions have the same volume at 09:30
    assert len(trs) == 14 and trs == pytest.approx([2.0] * 14)
    assert [bar.start_ms for bar in today] == [session_open_ms(TODAY) + i * MINUTE_MS for i in range(70)]


def test_a_minute_missing_from_a_session_leaves_its_volume_at_zero() -> None:
    bars = [bar for bar in day_of_bars(TUESDAY, 50) if bar.start_ms != session_open_ms(TUESDAY) + 5 * MINUTE_MS]
    history, _, today = split_sessions(bars, TODAY)
    assert history.sessions[-1][5] == 0.0 and history.sessions[-1][6] == 10.0 + 336
    assert today == []


def test_bars_after_today_are_ignored() -> None:
    history, _, today = split_sessions(day_of_bars(TODAY, 10) + day_of_bars(date(2024, 6, 6), 20), TODAY)
    assert not history.sessions and len(today) == SESSION_MINUTES and today[-1].close == 10.5
