"""news_items, news_symbols

Stored news from Polygon and curated feeds, deduplicated by canonical link and by headline + minute, with the
symbols each item is about.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "news_items",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("url_key", sa.String(length=40), nullable=False),
        sa.Column("title_key", sa.String(length=40), nullable=False),
        sa.Column("published_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("publisher", sa.String(length=200), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("sentiment", sa.JSON(), nullable=False),
        sa.Column("created_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_news_items")),
        sa.UniqueConstraint("url_key", name=op.f("uq_news_items_url_key")),
        sa.UniqueConstraint("title_key", name=op.f("uq_news_items_title_key")),
    )
    op.create_index("ix_news_items_published_id", "news_items", ["published_at", "id"], unique=False)
    op.create_table(
        "news_symbols",
        sa.Column("news_id", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("published_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["news_id"], ["news_items.id"], name=op.f("fk_news_symbols_news_id_news_items"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("news_id", "symbol", name=op.f("pk_news_symbols")),
    )
    op.create_index("ix_news_symbols_symbol_published", "news_symbols", ["symbol", "published_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_news_symbols_symbol_published", table_name="news_symbols")
    op.drop_table("news_symbols")
    op.drop_index("ix_news_items_published_id", table_name="news_items")
    op.drop_table("news_items")
