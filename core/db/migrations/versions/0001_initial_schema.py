"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 13:45:20.729096
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("condition", sa.String(length=16), nullable=False),
        sa.Column("level", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("threshold_pct", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("timeframe", sa.String(length=8), nullable=False),
        sa.Column("repeat", sa.String(length=8), nullable=False),
        sa.Column("cooldown_sec", sa.Integer(), nullable=False),
        sa.Column("expires_at", core.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("armed", sa.Boolean(), nullable=False),
        sa.Column("already_true", sa.Boolean(), nullable=False),
        sa.Column("snoozed_until", core.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_triggered_at", core.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_triggered_at", core.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_symbol"), ["symbol"], unique=False)

    op.create_table(
        "app_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_settings")),
    )
    op.create_table(
        "coach_conversations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("external_ref", sa.String(length=128), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("created_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coach_conversations")),
        sa.UniqueConstraint("external_ref", name=op.f("uq_coach_conversations_external_ref")),
    )
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("created_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
    )
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.create_index("ix_journal_entries_created_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_journal_entries_symbol", ["symbol"], unique=False)

    op.create_table(
        "order_intents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("order", sa.JSON(), nullable=False),
        sa.Column("order_hash", sa.String(length=64), nullable=False),
        sa.Column("target_order_id", sa.String(length=64), nullable=True),
        sa.Column("preview", sa.JSON(), nullable=True),
        sa.Column("risk", sa.JSON(), nullable=True),
        sa.Column("reference_price", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=True),
        sa.Column("broker_order_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_intents")),
    )
    with op.batch_alter_table("order_intents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_intents_status"), ["status"], unique=False)

    op.create_table(
        "alert_triggers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("alert_id", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.String(length=96), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("price", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("triggered_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_triggers_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_triggers")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_alert_triggers_dedupe_key")),
    )
    with op.batch_alter_table("alert_triggers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_triggers_alert_id"), ["alert_id"], unique=False)

    op.create_table(
        "coach_messages",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("created_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["coach_conversations.id"],
            name=op.f("fk_coach_messages_conversation_id_coach_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coach_messages")),
    )
    with op.batch_alter_table("coach_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coach_messages_conversation_id"), ["conversation_id"], unique=False
        )

    op.create_table(
        "orders",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("intent_id", sa.String(length=32), nullable=True),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("tag", sa.String(length=255), nullable=True),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["intent_id"], ["order_intents.id"], name=op.f("fk_orders_intent_id_order_intents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_intent_id"), ["intent_id"], unique=False)

    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("trigger_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", core.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("latency_ms", sa.Double(), nullable=True),
        sa.Column("created_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["trigger_id"],
            ["alert_triggers.id"],
            name=op.f("fk_alert_deliveries_trigger_id_alert_triggers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
        sa.UniqueConstraint("trigger_id", "channel", name=op.f("uq_alert_deliveries_trigger_id_channel")),
    )
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_alert_deliveries_due", ["channel", "status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_deliveries_due")

    op.drop_table("alert_deliveries")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_intent_id"))

    op.drop_table("orders")
    with op.batch_alter_table("coach_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coach_messages_conversation_id"))

    op.drop_table("coach_messages")
    with op.batch_alter_table("alert_triggers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_triggers_alert_id"))

    op.drop_table("alert_triggers")
    with op.batch_alter_table("order_intents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_intents_status"))

    op.drop_table("order_intents")
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_entries_symbol")
        batch_op.drop_index("ix_journal_entries_created_id")

    op.drop_table("journal_entries")
    op.drop_table("coach_conversations")
    op.drop_table("app_settings")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_symbol"))
        batch_op.drop_index(batch_op.f("ix_alerts_status"))

    op.drop_table("alerts")
