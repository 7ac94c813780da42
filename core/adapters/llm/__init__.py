"""The coach's LLM adapters: OpenAICompatLLM (native tool calls) and ChatDataLLM (prompted JSON protocol)."""

from __future__ import annotations

from typing import Any

from core.adapters.llm._common import LLMAdapter, RetryPolicy
from core.adapters.llm.chatdata import ChatDataLLM
from core.adapters.llm.openai_compat import OpenAICompatLLM
from core.settings import Settings

__all__ = ["ChatDataLLM", "LLMAdapter", "OpenAICompatLLM", "RetryPolicy", "build_llm"]


def build_llm(settings: Settings, **options: Any) -> LLMAdapter:
    """The adapter LLM_PROVIDER names; IntegrationDisabled (with how to enable it) when credentials are missing.
    ``options`` (timeout, retry) go to the adapter's constructor."""
    if settings.llm.provider == "chatdata":
        return ChatDataLLM.from_settings(settings, **options)
    return OpenAICompatLLM.from_settings(settings.llm, **options)
