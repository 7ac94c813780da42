"""alert_triggers: rationale

The optional LLM rationale of a fire, sent after the first delivery as an update event and kept on the trigger.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert_triggers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rationale", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_triggers", schema=None) as batch_op:
        batch_op.drop_column("rationale")
