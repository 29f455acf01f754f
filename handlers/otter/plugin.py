"""Otter.ai as a plug-in: its descriptor, the one thing the core knows of it."""

from __future__ import annotations

import httpx

from bot.budgets import SharedBudgets
from bot.config import Settings
from bot.plugins import FolderRule, Probe, Provider, Toggle
from handlers.otter import ACTIONS, register, schedule
from handlers.otter.settings import OtterSettings, otter_settings
from providers.budget import WindowBudget
from providers.otter import OtterClient
from providers.otter.client import REQUESTS_PER_SECOND, otter_rate_limiter

#: What a person using it is told while it is not configured: the same words the core said
#: before providers were plug-ins (``Services.require_*``), setting names included.
NOT_SET_UP = (
    "Otter.ai is not set up on this Debrief: an admin needs to set `OTTER_API_KEY` "
    "(see `debrief doctor`)."
)


def otter_budget(budgets: SharedBudgets) -> WindowBudget:
    """Otter's 10 requests a second, for its one API key."""
    ledger = budgets.ledger("otter", REQUESTS_PER_SECOND)
    return otter_rate_limiter(ledger=ledger, clock=budgets.clock, sleep=budgets.sleep)


def build_client(
    settings: Settings, http: httpx.AsyncClient, budgets: SharedBudgets
) -> OtterClient | None:
    key = settings.secret("otter_api_key")
    if not key:
        return None
    return OtterClient(
        http,
        api_key=key,
        base_url=otter_settings(settings).otter_api_url,
        limiter=otter_budget(budgets),
    )


def probe(settings: Settings, http: httpx.AsyncClient) -> tuple[str, Probe] | None:
    key = settings.secret("otter_api_key")
    if not key:
        return None
    client = OtterClient(http, api_key=key, base_url=otter_settings(settings).otter_api_url)
    return "OTTER_API_KEY", client.list_channels


PROVIDER: Provider[OtterClient, OtterSettings] = Provider(
    name="otter",
    display_name="Otter.ai",
    settings=OtterSettings,
    client=OtterClient,
    build_client=build_client,
    not_set_up=NOT_SET_UP,
    register=register,
    schedule=schedule,
    webhook_limit="max_otter_webhook_bytes",
    toggles=(Toggle("Otter.ai summaries", ("OTTER_API_KEY",), ("OTTER_WEBHOOK_SECRET",)),),
    probe=probe,
    actions=ACTIONS,
    # Otter files conversations in channels of its own: `/debrief route otter-channel:<name>`.
    folder_rule=FolderRule(
        "otter-channel", "Otter.ai channel name", "Otter.ai conversations in the channel"
    ),
    stand_in="sandbox.otter:OtterPlugin",
)
