"""Repositories: every SQL statement of the product lives in this package, one module per aggregate.

They never commit; the service's unit of work (core.db.session.Database.uow) does.
"""

from core.db.repositories.journal import JournalRepository
from core.db.repositories.settings import SettingsRepository

__all__ = ["JournalRepository", "SettingsRepository"]
