"""Price alerts: the user's rule (`AlertSpec`), its live state (`Alert`) and the pure evaluation rules.

Rules:

- ``price_above`` fires when the high since the last evaluation reaches the level (``high >= level``),
  ``price_below`` when the low does (``low <= level``), so a spike between two checks still fires.
- Edge-triggered: a fire (or a crossing swallowed by the cooldown) disarms the alert; it re-arms only once the
  *last* price is back past the level by `hysteresis_band` (``price <= level - band`` for above). Firing uses the
  extremes, re-arming the last price, so one evaluation never re-arms and fires twice.
- ``threshold_pct`` adds an "approaching" fire at `AlertSpec.approach_level` (within that % of the level), armed
  and re-armed the same way. A crossing in the same evaluation wins and consumes the approach.
- ``repeat=once``: the crossing ends the alert (``triggered``) and approaching fires at most once.
  ``repeat=every``: both kinds re-arm; a kind that fires within ``cooldown_sec`` of its previous fire is
  swallowed (it disarms without firing, so it cannot fire the moment the cooldown ends).
- ``minute`` / ``day`` alerts are evaluated on the close of each completed bar (`Observation.close`).
- An alert whose condition already holds when it is created, edited or woken from a snooze starts disarmed and
  says so (`Created.already_true`): it fires on the next crossing, never at once. With no known price it arms.
- At or after ``expires_at`` the alert becomes ``expired`` instead of firing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Literal, TypeVar

from core.domain.plans import ZERO, Issue, parse_choice, parse_decimal, parse_price, parse_symbol
from core.errors import Invalid

_T = TypeVar("_T")


class Condition(StrEnum):
    PRICE_ABOVE = "price_above"
    PRICE_BELOW = "price_below"


class Timeframe(StrEnum):
    TICK = "tick"
    MINUTE = "minute"
    DAY = "day"


class Repeat(StrEnum):
    ONCE = "once"
    EVERY = "every"


class Channel(StrEnum):
    WS = "ws"
    DISCORD = "discord"
    SLACK = "slack"
    DISCORD_WEBHOOK = "discord_webhook"


class AlertStatus(StrEnum):
    ACTIVE = "active"
    TRIGGERED = "triggered"
    EXPIRED = "expired"
    DISMISSED = "dismissed"
    SNOOZED = "snoozed"

    @property
    def is_live(self) -> bool:
        """Still watched by the engine (active, or snoozed until a time)."""
        return self in (AlertStatus.ACTIVE, AlertStatus.SNOOZED)


class FireKind(StrEnum):
    CROSSED = "crossed"
    APPROACHING = "approaching"


FIRE_LEVELS: dict[FireKind, Literal["info", "warning", "critical"]] = {
    FireKind.CROSSED: "warning", FireKind.APPROACHING: "info"}
"""The level of a fire's `alert` event: a crossing warns, an approach informs."""


MAX_THRESHOLD_PCT = Decimal(50)
MAX_COOLDOWN_SEC = 7 * 24 * 3600
MAX_NOTE_CHARS = 500
REARM_FRACTION = Decimal("0.001")


def tick_size(price: Decimal) -> Decimal:
    """Minimum price increment of US equities (Reg NMS rule 612): $0.01, or $0.0001 below $1."""
    return Decimal("0.01") if price >= 1 else Decimal("0.0001")


def hysteresis_band(level: Decimal) -> Decimal:
    """How far the last price must move back past a threshold to re-arm it: max(0.1% of level, one tick).

    The band is taken from the alert's level and used for its approach threshold too.
    """
    return max(level * REARM_FRACTION, tick_size(level))


@dataclass(frozen=True, slots=True)
class AlertDraft:
    """Unvalidated input of a new or edited alert, as a front-end parsed it."""

    symbol: str
    condition: str
    level: Decimal | int | float | str
    timeframe: str = Timeframe.TICK
    repeat: str = Repeat.ONCE
    cooldown_sec: int = 0
    channels: Sequence[str] = (Channel.WS,)
    threshold_pct: Decimal | int | float | str | None = None
    expires_at: datetime | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class AlertSpec:
    """A validated rule: what the user asked to be told about. Equal specs are duplicate alerts."""

    symbol: str
    condition: Condition
    level: Decimal
    timeframe: Timeframe = Timeframe.TICK
    repeat: Repeat = Repeat.ONCE
    cooldown_sec: int = 0
    channels: tuple[Channel, ...] = (Channel.WS,)
    threshold_pct: Decimal | None = None
    expires_at: datetime | None = None
    note: str | None = None

    @property
    def approach_level(self) -> Decimal | None:
        """Absolute price of the "approaching" fire: ``threshold_pct`` of the level before it."""
        if self.threshold_pct is None:
            return None
        step = self.level * self.threshold_pct / 100
        return self.level - step if self.condition is Condition.PRICE_ABOVE else self.level + step

    def draft(self) -> AlertDraft:
        """The spec as a draft, to apply a partial edit to (``dataclasses.replace``) and validate again."""
        return AlertDraft(self.symbol, self.condition, self.level, self.timeframe, self.repeat,
                          self.cooldown_sec, self.channels, self.threshold_pct, self.expires_at, self.note)


def _keep(issues: list[Issue], parsed: _T | Issue) -> _T | None:
    if isinstance(parsed, Issue):
        issues.append(parsed)
        return None
    return parsed


def _plain_issues(draft: AlertDraft, now: datetime) -> list[Issue]:
    issues = []
    cooldown = draft.cooldown_sec
    if isinstance(cooldown, bool) or not isinstance(cooldown, int) or not 0 <= cooldown <= MAX_COOLDOWN_SEC:
        issues.append(Issue("cooldown_sec_invalid", f"cooldown_sec must be whole seconds from 0 to "
                                                    f"{MAX_COOLDOWN_SEC} (got {cooldown!r})", "cooldown_sec"))
    if draft.expires_at is not None and draft.expires_at.tzinfo is None:
        issues.append(Issue("expires_at_naive", "expires_at needs a timezone (UTC)", "expires_at"))
    elif draft.expires_at is not None and draft.expires_at <= now:
        issues.append(Issue("expires_at_past", f"expires_at {draft.expires_at.isoformat()} is in the past",
                            "expires_at"))
    if not draft.channels:
        issues.append(Issue("channels_missing", "channels must name at least one of "
                                                + ", ".join(c.value for c in Channel), "channels"))
    if draft.note is not None and len(draft.note) > MAX_NOTE_CHARS:
        issues.append(Issue("note_too_long", f"note is longer than {MAX_NOTE_CHARS} characters", "note"))
    return issues


def validate(draft: AlertDraft, *, now: datetime) -> AlertSpec:
    """The spec of a new or edited alert; raises `Invalid` naming every bad field (``details["errors"]``).

    Numbers, choices and symbols are parsed by the same rules as plans (`core.domain.plans`).
    """
    issues: list[Issue] = []
    symbol = _keep(issues, parse_symbol(draft.symbol) or Issue("missing", "symbol is missing", "symbol"))
    condition = _keep(issues, parse_choice("condition", draft.condition, Condition))
    timeframe = _keep(issues, parse_choice("timeframe", draft.timeframe, Timeframe))
    repeat = _keep(issues, parse_choice("repeat", draft.repeat, Repeat))
    level = _keep(issues, parse_price("level", draft.level))
    pct = None if draft.threshold_pct is None else _keep(
        issues, parse_decimal("threshold_pct", draft.threshold_pct, low=ZERO, high=MAX_THRESHOLD_PCT))
    channels = {_keep(issues, parse_choice("channels", c, Channel)) for c in draft.channels}
    issues += _plain_issues(draft, now)
    if issues:
        raise Invalid("invalid alert: " + "; ".join(i.message for i in issues),
                      details={"errors": [i.to_dict() for i in issues]})
    assert symbol is not None and condition is not None and level is not None
    assert timeframe is not None and repeat is not None
    return AlertSpec(
        symbol=symbol, condition=condition, level=level, timeframe=timeframe, repeat=repeat,
        cooldown_sec=draft.cooldown_sec, channels=tuple(c for c in Channel if c in channels), threshold_pct=pct,
        expires_at=None if draft.expires_at is None else draft.expires_at.astimezone(UTC),
        note=(draft.note or "").strip() or None,
    )


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert and its live state.

    ``first_triggered_at`` is the first fire of either kind; ``last_triggered_at`` the last crossing and
    ``last_approached_at`` the last approaching fire (each kind has its own cooldown).
    """

    id: str
    spec: AlertSpec
    status: AlertStatus = AlertStatus.ACTIVE
    armed: bool = True
    approach_armed: bool = False
    snoozed_until: datetime | None = None
    first_triggered_at: datetime | None = None
    last_triggered_at: datetime | None = None
    last_approached_at: datetime | None = None

    @property
    def approach_rearms(self) -> bool:
        """Whether a spent approaching fire may arm again (``every``, or ``once`` that has not approached)."""
        return _approach_rearms(self.spec.repeat, self.last_approached_at)


def _approach_rearms(repeat: Repeat, approached_at: datetime | None) -> bool:
    return repeat is Repeat.EVERY or approached_at is None


@dataclass(frozen=True, slots=True)
class Created:
    """A new (or edited, or woken) alert and whether its condition already held at that moment."""

    alert: Alert
    already_true: bool


@dataclass(frozen=True, slots=True)
class Observation:
    """Prices since the last evaluation of a symbol: last, high and low, at ``ts`` (tick or bar close time);
    ``late`` when they come from a back-fill after the live stream missed them."""

    price: Decimal
    high: Decimal
    low: Decimal
    ts: datetime
    late: bool = False

    @classmethod
    def close(cls, price: Decimal, ts: datetime) -> Observation:
        """A completed bar's close (``minute`` and ``day`` alerts look at nothing else)."""
        return cls(price, price, price, ts)


@dataclass(frozen=True, slots=True)
class Fired:
    """A fire: the alert's state after it, the kind, the high/low that reached the threshold, and when; ``late``
    when it was seen in back-filled data rather than live."""

    alert: Alert
    kind: FireKind
    price: Decimal
    ts: datetime
    late: bool = False

    @property
    def dedupe_key(self) -> str:
        """Unique per alert, kind and tick/bar time: a retried or replayed evaluation writes one trigger."""
        return f"{self.alert.id}:{self.kind}:{self.ts.isoformat()}"


@dataclass(frozen=True, slots=True)
class WatchPoint:
    """A price at which `evaluate` can change an alert: a fire (reached by high/low) or a re-arm (last price)."""

    rearm: bool
    price: Decimal


def _holds(condition: Condition, threshold: Decimal, price: Decimal) -> bool:
    return price >= threshold if condition is Condition.PRICE_ABOVE else price <= threshold


def _rearm_price(alert: Alert, threshold: Decimal) -> Decimal:
    band = hysteresis_band(alert.spec.level)
    return threshold - band if alert.spec.condition is Condition.PRICE_ABOVE else threshold + band


def _past_rearm(alert: Alert, threshold: Decimal, price: Decimal) -> bool:
    rearm = _rearm_price(alert, threshold)
    return price <= rearm if alert.spec.condition is Condition.PRICE_ABOVE else price >= rearm


def watch_points(alert: Alert) -> tuple[WatchPoint, ...]:
    """The prices an active alert waits for; `evaluate` changes nothing until one is reached (index contract)."""
    if alert.status is not AlertStatus.ACTIVE:
        return ()
    level = alert.spec.level
    points = [WatchPoint(False, level) if alert.armed else WatchPoint(True, _rearm_price(alert, level))]
    approach = alert.spec.approach_level
    if approach is not None and alert.approach_armed:
        points.append(WatchPoint(False, approach))
    elif approach is not None and alert.approach_rearms:
        points.append(WatchPoint(True, _rearm_price(alert, approach)))
    return tuple(points)


def _armed_at(alert: Alert, price: Decimal | None) -> Created:
    spec = alert.spec
    already = price is not None and _holds(spec.condition, spec.level, price)
    approach = spec.approach_level
    approach_armed = (approach is not None and alert.approach_rearms
                      and (price is None or not _holds(spec.condition, approach, price)))
    return Created(replace(alert, armed=not already, approach_armed=approach_armed), already)


def create(alert_id: str, spec: AlertSpec, *, last_price: Decimal | None) -> Created:
    """A new active alert, disarmed (``already_true``) when ``last_price`` already satisfies it."""
    return _armed_at(Alert(alert_id, spec), last_price)


def edit(alert: Alert, spec: AlertSpec, *, last_price: Decimal | None) -> Created:
    """The alert with a new spec; an edit re-activates it (a snooze stays) and re-arms it like a creation."""
    status = AlertStatus.SNOOZED if alert.status is AlertStatus.SNOOZED else AlertStatus.ACTIVE
    return _armed_at(replace(alert, spec=spec, status=status), last_price)


def snooze(alert: Alert, until: datetime) -> Alert:
    """Silence a live alert until ``until``; it then wakes like a creation at the price of that moment."""
    if not alert.status.is_live:
        raise Invalid(f"alert {alert.id} is {alert.status}; only a live alert can be snoozed")
    return replace(alert, status=AlertStatus.SNOOZED, snoozed_until=until)


def dismiss(alert: Alert) -> Alert:
    return replace(alert, status=AlertStatus.DISMISSED, snoozed_until=None)


def expire(alert: Alert) -> Alert:
    """The alert once ``expires_at`` has passed (terminal, reported once by the engine)."""
    return replace(alert, status=AlertStatus.EXPIRED, snoozed_until=None)


def _cooling(last: datetime | None, cooldown_sec: int, ts: datetime) -> bool:
    return last is not None and ts - last < timedelta(seconds=cooldown_sec)


def evaluate(alert: Alert, obs: Observation) -> tuple[Alert, Fired | None]:
    """Apply one observation to one alert; returns the same object when nothing changed."""
    spec = alert.spec
    if not alert.status.is_live:
        return alert, None
    if spec.expires_at is not None and obs.ts >= spec.expires_at:
        return expire(alert), None
    if alert.status is AlertStatus.SNOOZED:
        assert alert.snoozed_until is not None
        if obs.ts < alert.snoozed_until:
            return alert, None
        return _armed_at(replace(alert, status=AlertStatus.ACTIVE, snoozed_until=None), obs.price).alert, None
    extreme = obs.high if spec.condition is Condition.PRICE_ABOVE else obs.low
    approach = spec.approach_level
    status, armed, approach_armed = alert.status, alert.armed, alert.approach_armed
    crossed_at, approached_at = alert.last_triggered_at, alert.last_approached_at
    kind: FireKind | None = None
    if armed and _holds(spec.condition, spec.level, extreme):
        armed = approach_armed = False
        if not _cooling(crossed_at, spec.cooldown_sec, obs.ts):
            kind, crossed_at = FireKind.CROSSED, obs.ts
            status = AlertStatus.TRIGGERED if spec.repeat is Repeat.ONCE else status
    elif approach_armed and approach is not None and _holds(spec.condition, approach, extreme):
        approach_armed = False
        if not _cooling(approached_at, spec.cooldown_sec, obs.ts):
            kind, approached_at = FireKind.APPROACHING, obs.ts
    if status is AlertStatus.ACTIVE:
        armed = armed or _past_rearm(alert, spec.level, obs.price)
        approach_armed = approach_armed or (approach is not None and _approach_rearms(spec.repeat, approached_at)
                                            and _past_rearm(alert, approach, obs.price))
    if kind is None and (armed, approach_armed) == (alert.armed, alert.approach_armed):
        return alert, None
    new = Alert(id=alert.id, spec=spec, status=status, armed=armed, approach_armed=approach_armed,
                first_triggered_at=alert.first_triggered_at or (obs.ts if kind else None),
                last_triggered_at=crossed_at, last_approached_at=approached_at)
    return new, None if kind is None else Fired(new, kind, extreme, obs.ts, obs.late)


def describe(fired: Fired) -> str:
    """One line for any surface, e.g. ``SPY crossed above 500.00 at 500.12``."""
    spec = fired.alert.spec
    side = "above" if spec.condition is Condition.PRICE_ABOVE else "below"
    if fired.kind is FireKind.CROSSED:
        return f"{spec.symbol} crossed {side} {spec.level} at {fired.price}"
    return f"{spec.symbol} approaching {spec.level} (within {spec.threshold_pct}%) at {fired.price}"
