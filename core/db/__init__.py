"""Persistence: SQLAlchemy 2 async models, repositories (all SQL), sessions, Alembic migrations."""
