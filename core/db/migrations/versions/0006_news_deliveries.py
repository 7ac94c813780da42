"""news deliveries and shared news source states

The `alert_deliveries` outbox also carries news items: a row points at an alert trigger or at a news item
(exactly one), and a news item is queued at most once per channel. `news_sources` holds each news source's
state as the fetching process last saw it, so every process can say which source is failing or not entitled.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db.base import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_SUBJECT = "(trigger_id IS NULL) <> (news_id IS NULL)"


def upgrade() -> None:
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.alter_column("trigger_id", existing_type=sa.String(length=32), nullable=True)
        batch_op.add_column(sa.Column("news_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(op.f("fk_alert_deliveries_news_id_news_items"), "news_items", ["news_id"],
                                    ["id"], ondelete="CASCADE")
        batch_op.create_unique_constraint(op.f("uq_alert_deliveries_news_id_channel"), ["news_id", "channel"])
        batch_op.create_check_constraint("one_subject", ONE_SUBJECT)
    op.create_table(
        "news_sources",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("how_to_enable", sa.Text(), nullable=False),
        sa.Column("last_fetch_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_news_sources")),
    )


def downgrade() -> None:
    op.drop_table("news_sources")
    op.execute("DELETE FROM alert_deliveries WHERE news_id IS NOT NULL")
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alert_deliveries_one_subject"), type_="check")
        batch_op.drop_constraint(op.f("uq_alert_deliveries_news_id_channel"), type_="unique")
        batch_op.drop_constraint(op.f("fk_alert_deliveries_news_id_news_items"), type_="foreignkey")
        batch_op.drop_column("news_id")
        batch_op.alter_column("trigger_id", existing_type=sa.String(length=32), nullable=False)
