"""Alembic environment: always given a live connection by core.db.migrate (async engines, any backend)."""

from alembic import context

from core.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations through `tradeassist db upgrade` (core.db.migrate), not the alembic CLI"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
