"""Tables. Later issues add columns through migrations, never through `create_all`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, JSONDoc, new_id, utcnow


class AppSetting(Base):
    """One tunable (risk limits, watchlist, ...) as a JSON value; absent keys fall back to defaults."""

    __tablename__ = "app_settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONDoc)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(128))


class JournalEntry(Base):
    __tablename__ = "journal_entries"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    symbol: Mapped[str | None] = mapped_column(String(32))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    plan: Mapped[dict[str, Any] | None]
    rationale: Mapped[str | None] = mapped_column(Text)
    order_id: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_journal_entries_created_id", "created_at", "id"),
        Index("ix_journal_entries_symbol", "symbol"),
    )


class AlertRow(Base):
    __tablename__ = "alerts"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    symbol: Mapped[str] = mapped_column(String(32), index=True)
    condition: Mapped[str] = mapped_column(String(16))
    level: Mapped[Decimal]
    threshold_pct: Mapped[Decimal | None]
    timeframe: Mapped[str] = mapped_column(String(8))
    repeat: Mapped[str] = mapped_column(String(8))
    cooldown_sec: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime | None]
    channels: Mapped[list[Any]] = mapped_column(default=list)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    armed: Mapped[bool] = mapped_column(default=True)
    already_true: Mapped[bool] = mapped_column(default=False)
    snoozed_until: Mapped[datetime | None]
    first_triggered_at: Mapped[datetime | None]
    last_triggered_at: Mapped[datetime | None]
    approach_armed: Mapped[bool] = mapped_column(default=False)  # 0002
    last_approached_at: Mapped[datetime | None]  # 0002
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AlertTrigger(Base):
    __tablename__ = "alert_triggers"
    __table_args__ = (Index("ix_alert_triggers_triggered_at_id", "triggered_at", "id"),)  # the history's keyset
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(96), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    price: Mapped[Decimal]
    late: Mapped[bool] = mapped_column(default=False)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    triggered_at: Mapped[datetime] = mapped_column(default=utcnow)
    rationale: Mapped[str | None] = mapped_column(Text)  # 0003: the LLM's note, added after the first delivery


class AlertDelivery(Base):
    """Outbox: one row per (trigger, channel) or (news item, channel), exactly one of the two; a worker delivers
    it and marks it, retrying with backoff."""

    __tablename__ = "alert_deliveries"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    trigger_id: Mapped[str | None] = mapped_column(ForeignKey("alert_triggers.id", ondelete="CASCADE"))
    news_id: Mapped[str | None] = mapped_column(ForeignKey("news_items.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    latency_ms: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("trigger_id", "channel"),
        UniqueConstraint("news_id", "channel"),
        CheckConstraint("(trigger_id IS NULL) <> (news_id IS NULL)", name="one_subject"),
        Index("ix_alert_deliveries_due", "channel", "status", "next_attempt_at"),
    )


class OrderIntentRow(Base):
    """An order a human has not confirmed yet (or has): written before anything is sent to the broker."""

    __tablename__ = "order_intents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    action: Mapped[str] = mapped_column(String(16), default="place")
    actor: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="PENDING", index=True)
    order: Mapped[dict[str, Any]]
    order_hash: Mapped[str] = mapped_column(String(64))
    target_order_id: Mapped[str | None] = mapped_column(String(64))
    preview: Mapped[dict[str, Any] | None]
    risk: Mapped[dict[str, Any] | None]
    reference_price: Mapped[Decimal | None]
    rationale: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(32))
    broker_order_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OrderRow(Base):
    """The broker's echo of an order, ours (tag = intent id) or manual (placed elsewhere)."""

    __tablename__ = "orders"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    intent_id: Mapped[str | None] = mapped_column(ForeignKey("order_intents.id"), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[Decimal]
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24))
    tag: Mapped[str | None] = mapped_column(String(255))
    manual: Mapped[bool] = mapped_column(default=False)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CoachConversation(Base):
    __tablename__ = "coach_conversations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    external_ref: Mapped[str | None] = mapped_column(String(128), unique=True)
    actor: Mapped[str | None] = mapped_column(String(128))
    title: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CoachMessage(Base):
    __tablename__ = "coach_messages"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("coach_conversations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NewsRow(Base):
    """One article as its source published it. `url_key` (canonical link) and `title_key` (headline + minute)
    are unique: the same story from two sources is stored once."""

    __tablename__ = "news_items"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    source: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    url_key: Mapped[str] = mapped_column(String(40), unique=True)
    title_key: Mapped[str] = mapped_column(String(40), unique=True)
    published_at: Mapped[datetime]
    publisher: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(Text)
    sentiment: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_news_items_published_id", "published_at", "id"),)


class NewsSymbolRow(Base):
    """The symbols an item is about (the source's tickers and the watchlist symbols it mentions)."""

    __tablename__ = "news_symbols"
    news_id: Mapped[str] = mapped_column(ForeignKey("news_items.id", ondelete="CASCADE"), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    published_at: Mapped[datetime]

    __table_args__ = (Index("ix_news_symbols_symbol_published", "symbol", "published_at"),)


class NewsSourceRow(Base):
    """A news source's state as the fetching process last saw it, for every process to show."""

    __tablename__ = "news_sources"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    how_to_enable: Mapped[str] = mapped_column(Text)
    last_fetch_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PickRow(Base):
    """One pick as it last was (`payload` is what the API shows) and its after-the-fact score."""

    __tablename__ = "picks"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), index=True)
    setup: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    session: Mapped[str] = mapped_column(String(10))
    score: Mapped[float] = mapped_column(Float)
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    as_of: Mapped[datetime]
    triggered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    mfe_r: Mapped[float] = mapped_column(Float, default=0.0)
    mae_r: Mapped[float] = mapped_column(Float, default=0.0)
    reached_1r: Mapped[bool | None]
    result_r: Mapped[float | None] = mapped_column(Float)
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_picks_status_score", "status", "score"),
        Index("ix_picks_setup", "setup"),
        Index("ix_picks_created_at", "created_at"),
    )
