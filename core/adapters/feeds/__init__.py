"""Curated RSS/Atom feeds: fetched with httpx using conditional requests, parsed with feedparser."""

from core.adapters.feeds.client import FeedClient

__all__ = ["FeedClient"]
