"""Which understanding engine a Debrief runs: the model one when an endpoint is configured."""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

from providers.budget import BudgetLedger
from providers.http import Clock, Sleep
from providers.llm.client import ChatCompletionsClient, llm_rate_limiter
from providers.llm.settings import LLMSettings
from understanding.model import ModelEngine
from understanding.types import Engine

log = logging.getLogger(__name__)

#: The model endpoint's budget in the shared ledger.
BUDGET_NAME = "llm"


class Ledgers(Protocol):
    """Where budgets are kept: ``bot.budgets.SharedBudgets`` (one ledger all processes share)."""

    @property
    def clock(self) -> Clock: ...

    @property
    def sleep(self) -> Sleep: ...

    def ledger(self, name: str, limit: float) -> BudgetLedger: ...


def build_client(
    settings: LLMSettings, http: httpx.AsyncClient, budgets: Ledgers | None = None
) -> ChatCompletionsClient | None:
    """The configured endpoint's client, paced on ``budgets``' shared ledger; ``None`` when
    DEBRIEF_LLM_URL is unset."""
    if not settings.url or not settings.model:
        return None
    rate = settings.requests_per_minute
    limiter = (
        llm_rate_limiter(
            rate,
            ledger=budgets.ledger(BUDGET_NAME, rate),
            clock=budgets.clock,
            sleep=budgets.sleep,
        )
        if budgets is not None
        else llm_rate_limiter(rate)
    )
    return ChatCompletionsClient(
        http,
        base_url=settings.url,
        model=settings.model,
        api_key=settings.key(),
        context_tokens=settings.context_tokens,
        timeout=settings.timeout,
        limiter=limiter,
    )


def build_engine(
    settings: LLMSettings,
    http: httpx.AsyncClient,
    budgets: Ledgers | None,
    fallback: Engine,
) -> Engine:
    """The model engine (falling back to ``fallback``) when DEBRIEF_LLM_URL is set, else
    ``fallback`` itself.

    Args:
        settings: ``bot.config.Settings().llm``.
        http: the shared HTTP client (not closed here).
        budgets: the shared ledgers (``bot.budgets.SharedBudgets``); this process only if None.
        fallback: the embedded engine.
    """
    client = build_client(settings, http, budgets)
    if client is None:
        return fallback
    log.info(
        "understanding: model %s at %s, falling back to %s",
        client.model,
        settings.url,
        fallback.name,
    )
    return ModelEngine(client, fallback)
