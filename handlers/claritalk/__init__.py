"""Claritalk: accounts connected from Slack (OAuth, tokens encrypted at rest and kept alive),
`POST /webhooks/claritalk` turning processed meetings into digests with their PDF report, and
status lines on those digests.

Debrief's own access (registering the webhook) is a Personal Access Token (``CLARITALK_TOKEN``)
or the service account (``CLARITALK_CLIENT_ID``/``CLARITALK_CLIENT_SECRET``, client credentials);
end users connect their own accounts with the same OAuth client through the authorization code.
"""

from __future__ import annotations

from bot.config import Settings
from handlers.claritalk import jobs, listeners, oauth
from handlers.claritalk.access import (
    CALLBACK_PATH,
    CONNECT_PATH,
    WEBHOOK_PATH,
    build_client,
    webhook_url,
)
from handlers.claritalk.admin import register_webhook
from handlers.claritalk.connections import JOB_NOTIFY, NotifyJob, job_notify
from handlers.claritalk.mapping import to_meeting
from handlers.claritalk.settings import claritalk_settings
from handlers.claritalk.webhook import parse_claritalk_delivery, screen_claritalk_delivery
from handlers.webhooks import webhook_handler
from handlers.wiring import Wiring

__all__ = [
    "ACTIONS",
    "CALLBACK_PATH",
    "CONNECT_PATH",
    "WEBHOOK_PATH",
    "build_client",
    "register",
    "register_webhook",
    "schedule",
    "to_meeting",
    "webhook_url",
]

ACTIONS: tuple[str, ...] = ()


def register(wiring: Wiring) -> None:
    wiring.commands.add(
        "claritalk",
        listeners.USAGE,
        "Connect your Claritalk account to Debrief (or check or forget it)",
        listeners.handle_claritalk,
    )
    # A delivery can carry a 25 MB PDF in base64: once handled, it is in claritalk_reports (and
    # dropped there once shared), and the done job need not keep a second copy for a week.
    wiring.jobs.add(jobs.JOB_WEBHOOK, jobs.job_handle_webhook, jobs.WebhookJob, forget_payload=True)
    wiring.jobs.add(jobs.JOB_STATUS, jobs.job_status, jobs.StatusJob, on_dead=jobs.tell_requester)
    wiring.jobs.add(JOB_NOTIFY, job_notify, NotifyJob)
    # Few attempts: the next run, minutes later, does the same again.
    wiring.jobs.add(jobs.JOB_MAINTAIN, jobs.job_maintain, jobs.MaintainJob, max_attempts=2)

    wiring.routes.post(WEBHOOK_PATH)(
        webhook_handler("claritalk", parse_claritalk_delivery, screen_claritalk_delivery)
    )
    wiring.routes.get(CONNECT_PATH)(oauth.handle_connect)
    wiring.routes.post(CONNECT_PATH)(oauth.handle_continue)
    wiring.routes.get(CALLBACK_PATH)(oauth.handle_callback)


def schedule(settings: Settings) -> list[tuple[str, float]]:
    """The upkeep, whenever Claritalk is configured at all."""
    configured = (
        claritalk_settings(settings).claritalk_client_id
        or settings.secret("claritalk_webhook_secret")
        or settings.secret("claritalk_webhook_hmac_secret")
    )
    return [(jobs.JOB_MAINTAIN, jobs.MAINTAIN_SECONDS)] if configured else []
