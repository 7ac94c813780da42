"""picks

Every pick the scanner made, as it last was, with its after-the-fact score (MFE/MAE in R, 1R before the stop).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 17:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db.base import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "picks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("setup", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("session", sa.String(length=10), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("as_of", UTCDateTime(timezone=True), nullable=False),
        sa.Column("triggered_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("mfe_r", sa.Float(), nullable=False),
        sa.Column("mae_r", sa.Float(), nullable=False),
        sa.Column("reached_1r", sa.Boolean(), nullable=True),
        sa.Column("result_r", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_picks")),
    )
    op.create_index(op.f("ix_picks_symbol"), "picks", ["symbol"], unique=False)
    op.create_index("ix_picks_status_score", "picks", ["status", "score"], unique=False)
    op.create_index("ix_picks_setup", "picks", ["setup"], unique=False)
    op.create_index("ix_picks_created_at", "picks", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_picks_created_at", table_name="picks")
    op.drop_index("ix_picks_setup", table_name="picks")
    op.drop_index("ix_picks_status_score", table_name="picks")
    op.drop_index(op.f("ix_picks_symbol"), table_name="picks")
    op.drop_table("picks")
