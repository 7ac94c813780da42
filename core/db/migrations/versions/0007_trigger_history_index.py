"""index the alert history's order

`GET /alerts/history` pages every fire newest first by (triggered_at, id); the index lets each page read its rows
in that order instead of sorting the whole trigger table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 23:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_alert_triggers_triggered_at_id", "alert_triggers", ["triggered_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_alert_triggers_triggered_at_id", table_name="alert_triggers")
