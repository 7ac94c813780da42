"""Typed bus events. Each one but ``metrics`` is what a `/ws` client receives (plus the per-connection ``seq`` and
``ts``); ``metrics`` goes from process to process only.

msgspec structs tagged on ``type`` so one encoder and one decoder handle the whole union, in-process and over
Redis alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec

from core.domain.actions import AlertChip, stored_chips
from core.domain.kpis import Reading
from core.domain.market_views import Freshness
from core.domain.order_views import BlotterItem, PositionItem
from core.domain.pick_views import PickView
from core.domain.risk_view import RiskStateView


class RiskEvent(msgspec.Struct, frozen=True, tag="risk", tag_field="type"):
    state: RiskStateView


class AlertMeta(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What an `alert` event says besides its line of text. ``kind`` says which fields it carries (the others are
    left out of the JSON):

    - a fire (``crossed``, ``approaching``): ``alert_id``, ``trigger_id``, ``symbol``, ``price`` (what fired it),
      ``level``, ``condition``, ``timeframe``, ``late``, ``fired_at``, ``note``, ``actions`` (the next-best-action
      chips), and ``rationale`` once the LLM's note arrived;
    - the rationale that follows a fire (``update`` = ``rationale``): the fire's ids, symbol and kind, ``rationale``;
    - ``expired``: ``alert_id``, ``symbol``; ``risk``: ``status``, ``previous``, ``reasons``, ``usage``;
      ``order_unknown``: ``intent_id``, ``symbol``; ``news``: ``news_id``, ``title``, ``source``, ``url``,
      ``published_at``, ``symbols``, ``publisher``.

    ``redelivered``: the delivery outbox sent it again because its first publish failed.
    """

    alert_id: str | None = None
    trigger_id: str | None = None
    symbol: str | None = None
    price: str | None = None
    level: str | None = None
    condition: str | None = None
    kind: str
    timeframe: str | None = None
    late: bool | None = None
    fired_at: str | None = None
    note: str | None = None
    actions: tuple[AlertChip, ...] | None = None
    update: Literal["rationale"] | None = None
    rationale: str | None = None
    status: str | None = None
    previous: str | None = None
    reasons: tuple[str, ...] | None = None
    usage: tuple[str, ...] | None = None
    intent_id: str | None = None
    news_id: str | None = None
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published_at: str | None = None
    symbols: tuple[str, ...] | None = None
    publisher: str | None = None
    redelivered: bool | None = None

    @classmethod
    def stored(cls, raw: Mapping[str, Any]) -> AlertMeta:
        """The meta of a stored event (a trigger row's or an outbox row's payload): a field it lacks is None, and a
        chip this version does not know is skipped (`stored_chips`), so an old row still reads."""
        actions = raw.get("actions")
        meta = msgspec.convert({**raw, "actions": None}, AlertMeta)
        return meta if actions is None else msgspec.structs.replace(meta, actions=stored_chips(actions))


class AlertEvent(msgspec.Struct, frozen=True, tag="alert", tag_field="type"):
    level: Literal["info", "warning", "critical"]
    msg: str
    meta: AlertMeta | None = None


def stored_payload(event: AlertEvent) -> dict[str, Any]:
    """The JSON a trigger or outbox row keeps of an `alert` event (`AlertMeta.stored` reads its meta back)."""
    return {"level": event.level, "msg": event.msg,
            "meta": None if event.meta is None else msgspec.to_builtins(event.meta)}


class PositionsEvent(msgspec.Struct, frozen=True, tag="positions", tag_field="type"):
    items: list[PositionItem]


class OrdersEvent(msgspec.Struct, frozen=True, tag="orders", tag_field="type"):
    items: list[BlotterItem]


class PriceEvent(msgspec.Struct, frozen=True, tag="price", tag_field="type"):
    symbol: str
    last: str
    bid: str | None = None
    ask: str | None = None
    change: str | None = None
    change_pct: str | None = None
    as_of: str | None = None


class PicksEvent(msgspec.Struct, frozen=True, tag="picks", tag_field="type"):
    """Picks that changed (new, re-scored, triggered, invalidated, expired), each a full pick."""

    items: list[PickView]


class StatusEvent(msgspec.Struct, frozen=True, tag="status", tag_field="type"):
    integrations: dict[str, Any]


class NewsSentimentTag(msgspec.Struct, frozen=True):
    symbol: str
    value: str
    reasoning: str | None = None


class NewsEvent(msgspec.Struct, frozen=True, tag="news", tag_field="type"):
    """A newly stored item about a watched symbol, as `GET /api/v1/news` lists it."""

    id: str
    source: str
    title: str
    url: str
    published_at: str
    symbols: list[str]
    sentiment: list[NewsSentimentTag] = msgspec.field(default_factory=list)
    summary: str | None = None


class HealthEvent(msgspec.Struct, frozen=True, tag="health", tag_field="type", omit_defaults=True):
    """A seed KPI entered (``breach``) or left (``ok``) breach of its goal; ``channel`` for alert delivery."""

    kpi: str
    status: Literal["breach", "ok"]
    value: float | None
    goal: float
    msg: str
    channel: str | None = None


class MetricsEvent(msgspec.Struct, frozen=True, tag="metrics", tag_field="type"):
    """One process's KPI metrics over its window, so that every process reports the KPIs another one measures (in
    a split deployment the engine measures the feed and alert delivery, the API its requests). ``reading`` is a
    `Reading` as msgpack (`pack_reading`): JSON has neither the ``+Inf`` bucket bound nor tuple keys.
    ``freshness`` comes only from the process that runs the market data stream."""

    process: str
    roles: list[str]
    reading: bytes
    freshness: list[Freshness] | None = None


Event = (RiskEvent | AlertEvent | PositionsEvent | OrdersEvent | PriceEvent | StatusEvent | NewsEvent
         | PicksEvent | HealthEvent | MetricsEvent)
EventType = Literal["risk", "alert", "positions", "orders", "price", "status", "news", "picks", "health", "metrics"]
WS_EVENT_TYPES: tuple[EventType, ...] = ("risk", "alert", "positions", "orders", "price", "status", "news", "picks",
                                         "health")
EVENT_TYPES: tuple[EventType, ...] = (*WS_EVENT_TYPES, "metrics")


def event_time(at: datetime) -> str:
    """An event's ``ts`` as `/ws` stamps it: ISO-8601 UTC to the millisecond, ``Z``."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Event)


def event_type(event: Event) -> EventType:
    tag = type(event).__struct_config__.tag
    assert isinstance(tag, str)
    return tag  # type: ignore[return-value]


def encode_event(event: Event) -> bytes:
    return _encoder.encode(event)


def decode_event(raw: bytes | str) -> Event:
    return _decoder.decode(raw)


_reading_decoder = msgspec.msgpack.Decoder(Reading)


def pack_reading(reading: Reading) -> bytes:
    return msgspec.msgpack.encode(reading)


def unpack_reading(raw: bytes) -> Reading:
    return _reading_decoder.decode(raw)
