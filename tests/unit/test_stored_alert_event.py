"""A trigger row back into the `alert` event it was published as: the stored payload as it is, the rationale that
came later folded in, and the row's own columns where an older payload lacks a field."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from core.db.models import AlertTrigger
from core.db.repositories.alerts import stored_alert_event
from tests.wire import as_json


def row(payload: dict[str, object], rationale: str | None = None) -> AlertTrigger:
    return AlertTrigger(id="t1", alert_id="a1", dedupe_key="k", kind="approaching", price=Decimal("99.500000"),
                        late=True, payload=payload, triggered_at=datetime(2026, 12, 4, 15, tzinfo=UTC),
                        rationale=rationale)


def test_the_stored_payload_is_the_event_and_the_rationale_joins_its_meta() -> None:
    meta = {"alert_id": "a1", "trigger_id": "t1", "symbol": "SPY", "price": "99.50", "kind": "approaching",
            "late": False, "actions": [{"id": "dismiss", "label": "Dismiss", "kind": "dismiss"}], "note": "retest",
            "from_an_older_version": 1}
    event = stored_alert_event(row({"level": "info", "msg": "SPY within 1% of 100", "meta": meta}, "Watch 100."))
    assert (event.level, event.msg) == ("info", "SPY within 1% of 100")
    expected = {key: value for key, value in meta.items() if key != "from_an_older_version"}
    # the payload's own values win over the columns; a key this version does not know is dropped
    assert as_json(event.meta) == {**expected, "rationale": "Watch 100."}


def test_a_payload_without_fields_is_completed_from_the_row() -> None:
    event = stored_alert_event(row({}))
    assert event.level == "info" and event.msg == ""  # approaching fires are `info`
    assert as_json(event.meta) == {"alert_id": "a1", "trigger_id": "t1", "kind": "approaching", "price": "99.50",
                          "late": True, "actions": []}
