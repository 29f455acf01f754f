"""Attendee as a plug-in: its descriptor, the one thing the core knows of it."""

from __future__ import annotations

import httpx

from bot.budgets import SharedBudgets
from bot.config import Settings
from bot.plugins import Probe, Provider, Toggle
from handlers.attendee import ACTIONS, register, tables
from handlers.attendee.settings import AttendeeSettings, attendee_settings
from handlers.calendar import schedule
from providers.attendee import AttendeeClient
from providers.attendee.client import DEFAULT_POSTS_PER_MINUTE, attendee_rate_limiter
from providers.budget import WindowBudget

#: What a person using it is told while it is not configured: the same words the core said
#: before providers were plug-ins (``Services.require_*``), setting names included.
NOT_SET_UP = (
    "Attendee is not set up on this Debrief: an admin needs to set `ATTENDEE_API_KEY` "
    "and `ATTENDEE_WEBHOOK_SECRET` (see `debrief doctor`)."
)


def attendee_budget(budgets: SharedBudgets) -> WindowBudget:
    """The Attendee project's POSTs: 3000 a minute (other requests cost nothing)."""
    ledger = budgets.ledger("attendee", DEFAULT_POSTS_PER_MINUTE)
    return attendee_rate_limiter(
        DEFAULT_POSTS_PER_MINUTE, ledger=ledger, clock=budgets.clock, sleep=budgets.sleep
    )


def build_client(
    settings: Settings, http: httpx.AsyncClient, budgets: SharedBudgets
) -> AttendeeClient | None:
    own = attendee_settings(settings)
    key = settings.secret("attendee_api_key")
    if not key:
        return None
    return AttendeeClient(
        http, api_key=key, base_url=own.attendee_api_url, limiter=attendee_budget(budgets)
    )


def probe(settings: Settings, http: httpx.AsyncClient) -> tuple[str, Probe] | None:
    key = settings.secret("attendee_api_key")
    if not key:
        return None
    client = AttendeeClient(
        http, api_key=key, base_url=attendee_settings(settings).attendee_api_url
    )
    return "ATTENDEE_API_KEY", client.list_bots


PROVIDER: Provider[AttendeeClient, AttendeeSettings] = Provider(
    name="attendee",
    display_name="Attendee",
    settings=AttendeeSettings,
    client=AttendeeClient,
    build_client=build_client,
    not_set_up=NOT_SET_UP,
    register=register,
    schedule=schedule,
    webhook_limit="max_attendee_webhook_bytes",
    toggles=(Toggle("Attendee notetakers", ("ATTENDEE_API_KEY", "ATTENDEE_WEBHOOK_SECRET")),),
    probe=probe,
    actions=ACTIONS,
    tables=tables,
    stand_in="sandbox.attendee:AttendeePlugin",
)
