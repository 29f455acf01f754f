"""Claritalk as a plug-in: its descriptor, the one thing the core knows of it."""

from __future__ import annotations

import sys
from typing import TextIO

import httpx

from bot.budgets import SharedBudgets
from bot.config import Settings
from bot.errors import UserFacingError
from bot.plugins import CliCommand, Probe, Provider, Toggle
from handlers.claritalk import ACTIONS, register, schedule, tables
from handlers.claritalk.access import build_client as build_own_client
from handlers.claritalk.access import redacted, webhook_url
from handlers.claritalk.admin import register_webhook
from handlers.claritalk.messages import explain
from handlers.claritalk.settings import ClaritalkSettings
from providers.budget import WindowBudget
from providers.claritalk import ClaritalkClient
from providers.claritalk.client import (
    REQUESTS_PER_MINUTE,
    UPLOADS_PER_MINUTE,
    claritalk_rate_limiter,
)
from providers.errors import ProviderError
from providers.http import build_http_client

#: What a person using it is told while it is not configured: the same words the core said
#: before providers were plug-ins (``Services.require_*``), setting names included.
NOT_SET_UP = (
    "Claritalk is not set up on this Debrief: an admin needs to set `CLARITALK_TOKEN`, "
    "or `CLARITALK_CLIENT_ID` and `CLARITALK_CLIENT_SECRET` (see `debrief doctor`)."
)


def claritalk_budget(budgets: SharedBudgets) -> WindowBudget:
    """Debrief's own Claritalk access: 480 requests a minute."""
    ledger = budgets.ledger("claritalk", REQUESTS_PER_MINUTE)
    return claritalk_rate_limiter(
        REQUESTS_PER_MINUTE, ledger=ledger, clock=budgets.clock, sleep=budgets.sleep
    )


def claritalk_upload_budget(budgets: SharedBudgets) -> WindowBudget:
    """Debrief's own Claritalk uploads: 50 a minute (they count in the 480 as well)."""
    ledger = budgets.ledger("claritalk.uploads", UPLOADS_PER_MINUTE)
    return claritalk_rate_limiter(
        UPLOADS_PER_MINUTE, ledger=ledger, clock=budgets.clock, sleep=budgets.sleep
    )


def build_client(
    settings: Settings, http: httpx.AsyncClient, budgets: SharedBudgets
) -> ClaritalkClient | None:
    """A Personal Access Token, else the service account; None when neither is configured."""
    return build_own_client(
        settings,
        http,
        limiter=claritalk_budget(budgets),
        upload_limiter=claritalk_upload_budget(budgets),
    )


def probe(settings: Settings, http: httpx.AsyncClient) -> tuple[str, Probe] | None:
    client = build_own_client(settings, http)
    if client is None:
        return None
    credential = (
        "CLARITALK_TOKEN"
        if settings.secret("claritalk_token")
        else "CLARITALK_CLIENT_ID and CLARITALK_CLIENT_SECRET"
    )
    return credential, client.current_user


async def claritalk_register_webhook(settings: Settings, out: TextIO = sys.stdout) -> int:
    """Register PUBLIC_URL/webhooks/claritalk?token=<CLARITALK_WEBHOOK_SECRET> with Claritalk."""
    async with build_http_client() as http:
        client = build_own_client(settings, http)
        if client is None:
            print(
                "set CLARITALK_TOKEN, or CLARITALK_CLIENT_ID and CLARITALK_CLIENT_SECRET, first",
                file=out,
            )
            return 1
        try:
            await register_webhook(client, settings)
        except UserFacingError as exc:
            print(exc.message, file=out)
            return 1
        except ProviderError as exc:
            print(explain(exc, personal=False), file=out)
            return 1
    print(f"registered {redacted(webhook_url(settings))}?token=… with Claritalk", file=out)
    return 0


async def _register_webhook_command(settings: Settings) -> int:
    return await claritalk_register_webhook(settings)


PROVIDER: Provider[ClaritalkClient, ClaritalkSettings] = Provider(
    name="claritalk",
    display_name="Claritalk",
    settings=ClaritalkSettings,
    client=ClaritalkClient,
    build_client=build_client,
    not_set_up=NOT_SET_UP,
    register=register,
    schedule=schedule,
    webhook_limit="max_claritalk_webhook_bytes",
    large_webhooks=True,
    toggles=(
        Toggle(
            "Claritalk",
            ("CLARITALK_WEBHOOK_SECRET",),
            (
                "CLARITALK_TOKEN",
                "CLARITALK_CLIENT_ID",
                "CLARITALK_CLIENT_SECRET",
                "CLARITALK_WEBHOOK_HMAC_SECRET",
            ),
        ),
    ),
    probe=probe,
    actions=ACTIONS,
    tables=tables,
    commands=(
        CliCommand(
            "claritalk",
            "Claritalk set-up",
            "register-webhook",
            "register PUBLIC_URL/webhooks/claritalk with Claritalk",
            _register_webhook_command,
        ),
    ),
    stand_in="sandbox.claritalk:ClaritalkPlugin",
)
