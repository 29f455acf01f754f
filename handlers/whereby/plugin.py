"""Whereby as a plug-in: its descriptor, the one thing the core knows of it."""

from __future__ import annotations

import httpx

from bot.budgets import SharedBudgets
from bot.config import Settings
from bot.plugins import Probe, Provider, Toggle
from handlers.whereby import ACTIONS, register, schedule, tables
from handlers.whereby.settings import WherebySettings, whereby_settings
from providers.whereby import WherebyClient
from providers.whereby.budget import PointBudget

#: What a person using it is told while it is not configured: the same words the core said
#: before providers were plug-ins (``Services.require_*``), setting names included.
NOT_SET_UP = (
    "Whereby is not set up on this Debrief: an admin needs to set `WHEREBY_API_KEY` "
    "(see `debrief doctor`)."
)


def whereby_budget(budgets: SharedBudgets, points_per_minute: float) -> PointBudget:
    """The organisation's point budget, shared by all its keys."""
    ledger = budgets.ledger("whereby", points_per_minute)
    return PointBudget(points_per_minute, ledger=ledger, clock=budgets.clock, sleep=budgets.sleep)


def build_client(
    settings: Settings, http: httpx.AsyncClient, budgets: SharedBudgets
) -> WherebyClient | None:
    key = settings.secret("whereby_api_key")
    if not key:
        return None
    own = whereby_settings(settings)
    return WherebyClient(
        http,
        api_key=key,
        base_url=own.whereby_api_url,
        limiter=whereby_budget(budgets, own.whereby_points_per_minute),
    )


def probe(settings: Settings, http: httpx.AsyncClient) -> tuple[str, Probe] | None:
    key = settings.secret("whereby_api_key")
    if not key:
        return None
    client = WherebyClient(http, api_key=key, base_url=whereby_settings(settings).whereby_api_url)
    return "WHEREBY_API_KEY", client.list_meetings


PROVIDER: Provider[WherebyClient, WherebySettings] = Provider(
    name="whereby",
    display_name="Whereby",
    settings=WherebySettings,
    client=WherebyClient,
    build_client=build_client,
    not_set_up=NOT_SET_UP,
    register=register,
    schedule=schedule,
    webhook_limit="max_whereby_webhook_bytes",
    toggles=(Toggle("Whereby rooms", ("WHEREBY_API_KEY",), ("WHEREBY_WEBHOOK_SECRET",)),),
    probe=probe,
    actions=ACTIONS,
    tables=tables,
    stand_in="sandbox.whereby:WherebyPlugin",
)
