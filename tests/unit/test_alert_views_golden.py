"""Golden JSON: the typed alert views (an alert, a created or edited one, a fire with its chips and deliveries)
serialize to the bytes the dict views they replaced sent, which the dashboard's alert panel and pages read.

GOLDEN holds those earlier bytes (FastAPI's rendering of the dicts), pinned, with one change: a fire's ``meta``
is the typed `AlertMeta`, which leaves out what does not apply (a fire without a note has no ``note``) and
completes an older row's empty meta from its columns. The REST encoder (`struct_json`, msgspec) is checked;
chips are re-read from the stored ``meta.actions`` (`stored_chips`) and must come out as published.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest

from api.struct_schema import struct_json
from core.db.models import AlertRow, AlertTrigger
from core.db.repositories.alerts import spec_columns, state_columns
from core.domain.actions import ActionContext, ActionKind, next_actions, stored_chips
from core.domain.alert_views import AlertCreated, AlertEdited, AlertView, extended
from core.domain.alerts import Alert, AlertSpec, AlertStatus, Channel, Condition, Fired, FireKind, Repeat, Timeframe
from core.domain.orders import Position
from core.services.alerts import alert_view, delivery_view, trigger_view
from tests.wire import chips_json

T0 = datetime(2024, 6, 3, 14, 30, 11, 123000, tzinfo=UTC)
T1 = datetime(2024, 6, 3, 14, 31, tzinfo=UTC)

FULL = AlertSpec(symbol="AAPL", condition=Condition.PRICE_ABOVE, level=D("190.5"), timeframe=Timeframe.MINUTE,
                 repeat=Repeat.EVERY, cooldown_sec=300, channels=(Channel.WS, Channel.DISCORD),
                 threshold_pct=D("0.50"), expires_at=T1, note="breakout über the range")
BARE = AlertSpec(symbol="SPY", condition=Condition.PRICE_BELOW, level=D("500"))
ALERTS = {
    "full": Alert("01FULL", FULL, status=AlertStatus.SNOOZED, armed=False, approach_armed=True, snoozed_until=T1,
                  first_triggered_at=T0, last_triggered_at=T0, last_approached_at=T0),
    "bare": Alert("01BARE", BARE),
}


def row(alert: Alert, *, already_true: bool, created_by: str | None) -> AlertRow:
    return AlertRow(id=alert.id, **spec_columns(alert.spec), **state_columns(alert), already_true=already_true,
                    created_by=created_by, created_at=T0, updated_at=T1)


def chips(kind: FireKind, position: Position | None, *, broker: bool = True, sized: bool = True) -> list[Any]:
    fired = Fired(ALERTS["full"], kind, D("191.25"), T0)
    size = (lambda entry, stop: D(10)) if sized else None
    return chips_json(next_actions(fired, ActionContext(position=position, broker_configured=broker, size=size)))


def trigger(actions: list[Any], *, rationale: str | None) -> AlertTrigger:
    meta = {"alert_id": "01FULL", "trigger_id": "01TRIG", "symbol": "AAPL", "price": "191.25", "level": "190.5",
            "condition": "price_above", "kind": "crossed", "timeframe": "minute", "late": False,
            "fired_at": T0.isoformat(), "note": None, "actions": actions}
    return AlertTrigger(id="01TRIG", alert_id="01FULL", kind="crossed", price=D("191.25"), late=False,
                        payload={"level": "warning", "msg": "AAPL crossed above 190.50", "meta": meta},
                        triggered_at=T0, rationale=rationale)


DELIVERED = SimpleNamespace(trigger_id="01TRIG", channel="discord", status="delivered", attempts=2, delivered_at=T1,
                            latency_ms=48.5, last_error="429 once")
PENDING = SimpleNamespace(trigger_id="01TRIG", channel="slack", status="pending", attempts=0, delivered_at=None,
                          latency_ms=None, last_error=None)
TRIGGERS = {
    "setup": (trigger(chips(FireKind.CROSSED, None), rationale="held the level"), [DELIVERED, PENDING]),
    "manage": (trigger(chips(FireKind.CROSSED, Position("AAPL", D(10), D("1800"))), rationale=None), []),
    "approach_short": (trigger(chips(FireKind.APPROACHING, Position("AAPL", D(-3), D("-570")), broker=False),
                               rationale=None), [PENDING]),
    "plan": (trigger(chips(FireKind.CROSSED, None, sized=False), rationale=None), []),
    "no_meta": (AlertTrigger(id="01OLD", alert_id="01FULL", kind="approaching", price=D("189.6"), late=True,
                             payload={}, triggered_at=T0, rationale=None), []),
}

GOLDEN: dict[str, str] = {
    'alert/full': (
        '{"id":"01FULL","symbol":"AAPL","condition":"price_above","level":"190.50","threshold_pct":"0.5","app'
        'roach_level":"189.5475","timeframe":"minute","repeat":"every","cooldown_sec":300,"expires_at":"2024-'
        '06-03T14:31:00+00:00","channels":["ws","discord"],"note":"breakout über the range","status":"snoozed'
        '","armed":false,"approach_armed":true,"snoozed_until":"2024-06-03T14:31:00+00:00","first_triggered_a'
        't":"2024-06-03T14:30:11.123000+00:00","last_triggered_at":"2024-06-03T14:30:11.123000+00:00","last_a'
        'pproached_at":"2024-06-03T14:30:11.123000+00:00","already_true":true,"created_by":"api","created_at"'
        ':"2024-06-03T14:30:11.123000+00:00","updated_at":"2024-06-03T14:31:00+00:00"}'),
    'created/full': (
        '{"id":"01FULL","symbol":"AAPL","condition":"price_above","level":"190.50","threshold_pct":"0.5","app'
        'roach_level":"189.5475","timeframe":"minute","repeat":"every","cooldown_sec":300,"expires_at":"2024-'
        '06-03T14:31:00+00:00","channels":["ws","discord"],"note":"breakout über the range","status":"snoozed'
        '","armed":false,"approach_armed":true,"snoozed_until":"2024-06-03T14:31:00+00:00","first_triggered_a'
        't":"2024-06-03T14:30:11.123000+00:00","last_triggered_at":"2024-06-03T14:30:11.123000+00:00","last_a'
        'pproached_at":"2024-06-03T14:30:11.123000+00:00","already_true":true,"created_by":"api","created_at"'
        ':"2024-06-03T14:30:11.123000+00:00","updated_at":"2024-06-03T14:31:00+00:00","duplicate":false,"warn'
        'ings":["market data is disabled"]}'),
    'edited/full': (
        '{"id":"01FULL","symbol":"AAPL","condition":"price_above","level":"190.50","threshold_pct":"0.5","app'
        'roach_level":"189.5475","timeframe":"minute","repeat":"every","cooldown_sec":300,"expires_at":"2024-'
        '06-03T14:31:00+00:00","channels":["ws","discord"],"note":"breakout über the range","status":"snoozed'
        '","armed":false,"approach_armed":true,"snoozed_until":"2024-06-03T14:31:00+00:00","first_triggered_a'
        't":"2024-06-03T14:30:11.123000+00:00","last_triggered_at":"2024-06-03T14:30:11.123000+00:00","last_a'
        'pproached_at":"2024-06-03T14:30:11.123000+00:00","already_true":true,"created_by":"api","created_at"'
        ':"2024-06-03T14:30:11.123000+00:00","updated_at":"2024-06-03T14:31:00+00:00","warnings":[]}'),
    'alert/bare': (
        '{"id":"01BARE","symbol":"SPY","condition":"price_below","level":"500.00","threshold_pct":null,"appro'
        'ach_level":null,"timeframe":"tick","repeat":"once","cooldown_sec":0,"expires_at":null,"channels":["w'
        's"],"note":null,"status":"active","armed":true,"approach_armed":false,"snoozed_until":null,"first_tr'
        'iggered_at":null,"last_triggered_at":null,"last_approached_at":null,"already_true":false,"created_by'
        '":null,"created_at":"2024-06-03T14:30:11.123000+00:00","updated_at":"2024-06-03T14:31:00+00:00"}'),
    'created/bare': (
        '{"id":"01BARE","symbol":"SPY","condition":"price_below","level":"500.00","threshold_pct":null,"appro'
        'ach_level":null,"timeframe":"tick","repeat":"once","cooldown_sec":0,"expires_at":null,"channels":["w'
        's"],"note":null,"status":"active","armed":true,"approach_armed":false,"snoozed_until":null,"first_tr'
        'iggered_at":null,"last_triggered_at":null,"last_approached_at":null,"already_true":false,"created_by'
        '":null,"created_at":"2024-06-03T14:30:11.123000+00:00","updated_at":"2024-06-03T14:31:00+00:00","dup'
        'licate":true,"warnings":[]}'),
    'edited/bare': (
        '{"id":"01BARE","symbol":"SPY","condition":"price_below","level":"500.00","threshold_pct":null,"appro'
        'ach_level":null,"timeframe":"tick","repeat":"once","cooldown_sec":0,"expires_at":null,"channels":["w'
        's"],"note":null,"status":"active","armed":true,"approach_armed":false,"snoozed_until":null,"first_tr'
        'iggered_at":null,"last_triggered_at":null,"last_approached_at":null,"already_true":false,"created_by'
        '":null,"created_at":"2024-06-03T14:30:11.123000+00:00","updated_at":"2024-06-03T14:31:00+00:00","war'
        'nings":[]}'),
    'trigger/setup': (
        '{"id":"01TRIG","alert_id":"01FULL","kind":"crossed","price":"191.25","late":false,"triggered_at":"20'
        '24-06-03T14:30:11.123000+00:00","level":"warning","msg":"AAPL crossed above 190.50","fired_at":"2024'
        '-06-03T14:30:11.123000+00:00","actions":[{"id":"setup","label":"Take setup (1R)","kind":"order","ord'
        'er":{"symbol":"AAPL","side":"buy","quantity":"10","type":"limit","duration":"day","class":"otoco","p'
        'rice":"191.25","take_profit":"196.55","stop_loss":"188.60"},"plan":{"symbol":"AAPL","side":"long","e'
        'ntry":"191.25","stop":"188.60","targets":["196.55"]}},{"id":"snooze","label":"Snooze 15m","kind":"sn'
        'ooze","snooze_sec":900},{"id":"dismiss","label":"Dismiss","kind":"dismiss"}],"meta":{"alert_id":"01F'
        'ULL","trigger_id":"01TRIG","symbol":"AAPL","price":"191.25","level":"190.5","condition":"price_above'
        '","kind":"crossed","timeframe":"minute","late":false,"fired_at":"2024-06-03T14:30:11.123000+00:00","'
        'actions":[{"id":"setup","label":"Take setup (1R)","kind":"order","order":{"symbol":"AAPL","side":"bu'
        'y","quantity":"10","type":"limit","duration":"day","class":"otoco","price":"191.25","take_profit":"1'
        '96.55","stop_loss":"188.60"},"plan":{"symbol":"AAPL","side":"long","entry":"191.25","stop":"188.60",'
        '"targets":["196.55"]}},{"id":"snooze","label":"Snooze 15m","kind":"snooze","snooze_sec":900},{"id":"'
        'dismiss","label":"Dismiss","kind":"dismiss"}]},"rationale":"held the level","deliveries":[{"channel"'
        ':"discord","status":"delivered","attempts":2,"delivered_at":"2024-06-03T14:31:00+00:00","latency_ms"'
        ':48.5,"last_error":"429 once"},{"channel":"slack","status":"pending","attempts":0,"delivered_at":nul'
        'l,"latency_ms":null,"last_error":null}]}'),
    'trigger/manage': (
        '{"id":"01TRIG","alert_id":"01FULL","kind":"crossed","price":"191.25","late":false,"triggered_at":"20'
        '24-06-03T14:30:11.123000+00:00","level":"warning","msg":"AAPL crossed above 190.50","fired_at":"2024'
        '-06-03T14:30:11.123000+00:00","actions":[{"id":"trim","label":"Trim 50%","kind":"order","order":{"sy'
        'mbol":"AAPL","side":"sell","quantity":"5","type":"limit","duration":"day","class":"equity","price":"'
        '190.5"},"percent":"50"},{"id":"breakeven","label":"Move stop to breakeven","kind":"order","order":{"'
        'symbol":"AAPL","side":"sell","quantity":"10","type":"stop","duration":"gtc","class":"equity","stop":'
        '"180.00"}},{"id":"snooze","label":"Snooze 15m","kind":"snooze","snooze_sec":900},{"id":"dismiss","la'
        'bel":"Dismiss","kind":"dismiss"}],"meta":{"alert_id":"01FULL","trigger_id":"01TRIG","symbol":"AAPL",'
        '"price":"191.25","level":"190.5","condition":"price_above","kind":"crossed","timeframe":"minute","la'
        'te":false,"fired_at":"2024-06-03T14:30:11.123000+00:00","actions":[{"id":"trim","label":"Trim 50%","'
        'kind":"order","order":{"symbol":"AAPL","side":"sell","quantity":"5","type":"limit","duration":"day",'
        '"class":"equity","price":"190.5"},"percent":"50"},{"id":"breakeven","label":"Move stop to breakeven"'
        ',"kind":"order","order":{"symbol":"AAPL","side":"sell","quantity":"10","type":"stop","duration":"gtc'
        '","class":"equity","stop":"180.00"}},{"id":"snooze","label":"Snooze 15m","kind":"snooze","snooze_sec'
        '":900},{"id":"dismiss","label":"Dismiss","kind":"dismiss"}]},"rationale":null,"deliveries":[]}'),
    'trigger/approach_short': (
        '{"id":"01TRIG","alert_id":"01FULL","kind":"crossed","price":"191.25","late":false,"triggered_at":"20'
        '24-06-03T14:30:11.123000+00:00","level":"warning","msg":"AAPL crossed above 190.50","fired_at":"2024'
        '-06-03T14:30:11.123000+00:00","actions":[{"id":"stop","label":"Set stop at level","kind":"order","or'
        'der":{"symbol":"AAPL","side":"buy_to_cover","quantity":"3","type":"stop","duration":"gtc","class":"e'
        'quity","stop":"190.5"},"needs":"broker"},{"id":"snooze","label":"Snooze 15m","kind":"snooze","snooze'
        '_sec":900},{"id":"dismiss","label":"Dismiss","kind":"dismiss"}],"meta":{"alert_id":"01FULL","trigger'
        '_id":"01TRIG","symbol":"AAPL","price":"191.25","level":"190.5","condition":"price_above","kind":"cro'
        'ssed","timeframe":"minute","late":false,"fired_at":"2024-06-03T14:30:11.123000+00:00","actions":[{"i'
        'd":"stop","label":"Set stop at level","kind":"order","order":{"symbol":"AAPL","side":"buy_to_cover",'
        '"quantity":"3","type":"stop","duration":"gtc","class":"equity","stop":"190.5"},"needs":"broker"},{"i'
        'd":"snooze","label":"Snooze 15m","kind":"snooze","snooze_sec":900},{"id":"dismiss","label":"Dismiss"'
        ',"kind":"dismiss"}]},"rationale":null,"deliveries":[{"channel":"slack","status":"pending","attempts"'
        ':0,"delivered_at":null,"latency_ms":null,"last_error":null}]}'),
    'trigger/plan': (
        '{"id":"01TRIG","alert_id":"01FULL","kind":"crossed","price":"191.25","late":false,"triggered_at":"20'
        '24-06-03T14:30:11.123000+00:00","level":"warning","msg":"AAPL crossed above 190.50","fired_at":"2024'
        '-06-03T14:30:11.123000+00:00","actions":[{"id":"plan","label":"Plan this setup","kind":"plan","plan"'
        ':{"symbol":"AAPL","side":"long","entry":"191.25","stop":"188.60","targets":["196.55"]}},{"id":"snooz'
        'e","label":"Snooze 15m","kind":"snooze","snooze_sec":900},{"id":"dismiss","label":"Dismiss","kind":"'
        'dismiss"}],"meta":{"alert_id":"01FULL","trigger_id":"01TRIG","symbol":"AAPL","price":"191.25","level'
        '":"190.5","condition":"price_above","kind":"crossed","timeframe":"minute","late":false,"fired_at":"2'
        '024-06-03T14:30:11.123000+00:00","actions":[{"id":"plan","label":"Plan this setup","kind":"plan","pl'
        'an":{"symbol":"AAPL","side":"long","entry":"191.25","stop":"188.60","targets":["196.55"]}},{"id":"sn'
        'ooze","label":"Snooze 15m","kind":"snooze","snooze_sec":900},{"id":"dismiss","label":"Dismiss","kind'
        '":"dismiss"}]},"rationale":null,"deliveries":[]}'),
    'trigger/no_meta': (
        '{"id":"01OLD","alert_id":"01FULL","kind":"approaching","price":"189.60","late":true,"triggered_at":"'
        '2024-06-03T14:30:11.123000+00:00","level":null,"msg":null,"fired_at":null,"actions":[],"meta":{"aler'
        't_id":"01FULL","trigger_id":"01OLD","price":"189.60","kind":"approaching","late":true,"actions":[]},'
        '"rationale":null,"deliveries":[]}'),
}


def views(name: str) -> dict[str, object]:
    alert = ALERTS[name]
    view = alert_view(alert, row(alert, already_true=name == "full", created_by="api" if name == "full" else None))
    warnings = ("market data is disabled",) if name == "full" else ()
    return {f"alert/{name}": view, f"created/{name}": extended(view, AlertCreated, duplicate=name == "bare",
                                                            warnings=warnings),
            f"edited/{name}": extended(view, AlertEdited, warnings=())}


def all_views() -> dict[str, object]:
    found: dict[str, object] = {**views("full"), **views("bare")}
    for name, (stored, deliveries) in TRIGGERS.items():
        found[f"trigger/{name}"] = trigger_view(stored, tuple(delivery_view(d) for d in deliveries))  # type: ignore[arg-type]
    return found


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_views_send_the_pinned_bytes(name: str) -> None:
    assert struct_json(all_views()[name]).body.decode() == GOLDEN[name]


def test_every_view_is_pinned() -> None:
    assert set(all_views()) == set(GOLDEN)


def test_alert_view_is_typed() -> None:
    view = all_views()["created/bare"]
    assert isinstance(view, AlertCreated) and isinstance(view, AlertView)
    assert (view.level, view.channels, view.duplicate, view.warnings) == ("500.00", ("ws",), True, ())


def test_stored_chips_read_back_typed_and_re_encode_as_published() -> None:
    published = chips(FireKind.CROSSED, Position("AAPL", D(10), D("1800")))
    parsed = stored_chips(published)
    assert [c.kind for c in parsed] == [ActionKind.ORDER, ActionKind.ORDER, ActionKind.SNOOZE, ActionKind.DISMISS]
    assert parsed[0].percent == D(50) and parsed[2].snooze_sec == 900
    assert msgspec.to_builtins(list(parsed)) == published


def test_stored_chips_skip_what_is_not_a_chip() -> None:
    good = {"id": "dismiss", "label": "Dismiss", "kind": "dismiss"}
    assert [c.id for c in stored_chips([good, {"id": "x", "label": "X", "kind": "teleport"}, "dismiss",
                                        {"label": "no id", "kind": "snooze"}, None])] == ["dismiss"]
    assert stored_chips(None) == ()
