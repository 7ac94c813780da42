"""Tradier brokerage adapter: REST client (broker), wire parsing (wire), order forms (forms), rate budget."""

from core.adapters.tradier.broker import TradierBroker
from core.errors import OrderOutcomeUnknown

__all__ = ["OrderOutcomeUnknown", "TradierBroker"]
