"""`POST /webhooks/whereby`: the signature checked on the received bytes, then a job."""

from __future__ import annotations

import json
import logging

from aiohttp import web

from bot.services import Services
from handlers.webhooks import Delivery
from handlers.whereby.events import ACTED_ON, JOB_EVENT, EventJob
from providers.errors import InvalidSignature
from providers.whereby import SIGNATURE_HEADER, parse_webhook

log = logging.getLogger(__name__)


def parse_whereby_delivery(
    services: Services, request: web.Request, body: bytes
) -> Delivery | None:
    """Verify and parse one delivery; None for event types Debrief does not act on."""
    secret = services.settings.secret("whereby_webhook_secret")
    if secret is None:
        raise InvalidSignature("Whereby webhooks are not configured (WHEREBY_WEBHOOK_SECRET)")
    event = parse_webhook(
        body,
        request.headers.get(SIGNATURE_HEADER),
        secret,
        clock=lambda: services.clock().timestamp(),
    )
    if event.type not in ACTED_ON:
        log.info("whereby webhook %s (%s): not an event Debrief acts on", event.type, event.id)
        return None
    job = EventJob(event=json.loads(body), received_at=services.clock())
    return Delivery(
        event_id=event.id,
        kind=event.type,
        job_kind=JOB_EVENT,
        payload=job.model_dump(mode="json"),
    )
