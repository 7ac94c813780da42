"""The rationale update event: same alert and trigger ids as the fire, plain one-line text of bounded length."""

from __future__ import annotations

from core.domain.actions import DISMISS
from core.domain.events import AlertEvent, AlertMeta
from core.engines.alert_rationale import MAX_CHARS, _clean, rationale_event
from tests.wire import as_json

FIRE = AlertEvent(level="warning", msg="SPY crossed above 500 at 500.25", meta=AlertMeta(
    kind="crossed", alert_id="a1", trigger_id="t1", symbol="SPY", price="500.25", actions=(DISMISS.chip(),)))


def test_update_event_points_at_the_fire_and_carries_no_chips() -> None:
    update = rationale_event(FIRE, "Held the level twice.")
    assert update.level == "info" and update.msg == "SPY: Held the level twice."
    assert as_json(update.meta) == {
        "alert_id": "a1", "trigger_id": "t1", "symbol": "SPY", "kind": "crossed", "update": "rationale",
        "rationale": "Held the level twice.", "actions": []}


def test_text_is_one_line_and_bounded() -> None:
    assert _clean("  two\n\nlines\t here ") == "two lines here"
    assert _clean(None) == ""
    long = _clean("word " * 200)
    assert len(long) <= MAX_CHARS and long.endswith("…") and long.startswith("word word")
