"""Repositories: every SQL statement of the product lives in this package, one module per aggregate.

They never commit; the service's unit of work (core.db.session.Database.uow) does.
"""

from core.db.repositories.alerts import AlertRepository, DeliveryRepository
from core.db.repositories.coach import CoachRepository
from core.db.repositories.journal import JournalRepository
from core.db.repositories.orders import OrderIntentRepository, OrderRepository
from core.db.repositories.picks import PicksRepository
from core.db.repositories.settings import SettingsRepository

__all__ = ["AlertRepository", "CoachRepository", "DeliveryRepository", "JournalRepository", "OrderIntentRepository",
           "OrderRepository", "PicksRepository", "SettingsRepository"]
