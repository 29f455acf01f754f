"""`POST /webhooks/otter`: authenticated on the received bytes, then handed to a job."""

from __future__ import annotations

import json
import logging

from aiohttp import web

from bot.services import Services
from handlers.otter.jobs import JOB_WEBHOOK
from handlers.webhooks import Delivery
from providers.errors import InvalidSignature
from providers.otter import parse_webhook, verify_request

log = logging.getLogger(__name__)


def parse_otter_delivery(services: Services, request: web.Request, body: bytes) -> Delivery | None:
    """Verify and parse one delivery; None for events Debrief does not act on."""
    secret = services.settings.secret("otter_webhook_secret")
    if secret is None:
        raise InvalidSignature("Otter webhooks are not configured (OTTER_WEBHOOK_SECRET)")
    # Otter's admin picks HMAC or a Bearer credential; the one secret serves as either.
    verify_request(body, request.headers, hmac_secret=secret, bearer_token=secret)
    webhook = parse_webhook(body)
    if not webhook.is_known_event:
        log.info(
            "otter webhook %r for %s: not an event Debrief acts on",
            webhook.raw_event,
            webhook.data.id,
        )
        return None
    return Delivery(
        event_id=webhook.delivery_key,
        kind=webhook.event,
        job_kind=JOB_WEBHOOK,
        payload={"body": json.loads(body)},
    )
