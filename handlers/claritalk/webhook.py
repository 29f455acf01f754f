"""`POST /webhooks/claritalk?token=…`: authenticated on the received bytes, then handed to a job."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.services import Services
from handlers.claritalk.jobs import JOB_WEBHOOK
from handlers.webhooks import Delivery
from providers.claritalk import EVENTS, verify_request
from providers.claritalk.webhooks import parse_event, screen_request
from providers.webhooks import json_object

log = logging.getLogger(__name__)


def screen_claritalk_delivery(services: Services, request: web.Request) -> None:
    """Refuse, before reading a body of up to 25 MB, a delivery with a wrong or no URL token and
    no signature to check."""
    settings = services.settings
    screen_request(
        request.query.get("token"),
        request.headers,
        token_secret=settings.secret("claritalk_webhook_secret"),
        hmac_secret=settings.secret("claritalk_webhook_hmac_secret"),
    )


def parse_claritalk_delivery(
    services: Services, request: web.Request, body: bytes
) -> Delivery | None:
    """Verify (URL token, or HMAC header when configured) and parse; None for unknown events."""
    settings = services.settings
    verify_request(
        request.query.get("token"),
        request.headers,
        body,
        token_secret=settings.secret("claritalk_webhook_secret"),
        hmac_secret=settings.secret("claritalk_webhook_hmac_secret"),
    )
    raw = json_object(body)  # decoded once: the body can be 25 MB (a PDF in base64)
    event = parse_event(raw)
    if event.event not in EVENTS:
        log.info("claritalk webhook %r: not an event Debrief acts on", event.event[:100])
        return None
    return Delivery(
        event_id=event.idempotency_key,
        kind=event.event,
        job_kind=JOB_WEBHOOK,
        payload={"body": raw},
    )
