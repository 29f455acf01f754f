"""`POST /webhooks/attendee`: verified on the received bytes, then handed to a job."""

from __future__ import annotations

from aiohttp import web

from bot.offload import in_worker_process
from bot.services import Services
from handlers.attendee.jobs import JOB_EVENT
from handlers.calendar.kinds import JOB_WEBHOOK as JOB_CALENDAR
from handlers.webhooks import Delivery
from providers.attendee.calendars import CalendarWebhook
from providers.attendee.webhooks import (
    SIGNATURE_HEADER,
    check_header,
    parse_webhook_object,
    verify_signature,
)
from providers.errors import InvalidSignature
from providers.webhooks import validate_payload

CALENDAR_TRIGGERS = "calendar."


def screen_attendee_delivery(services: Services, request: web.Request) -> None:
    """Refuse, before reading the body, a delivery that carries nothing like a signature."""
    secret = services.settings.secret("attendee_webhook_secret")
    if secret is None:
        raise InvalidSignature("Attendee webhooks are not configured (ATTENDEE_WEBHOOK_SECRET)")
    check_header(request.headers.get(SIGNATURE_HEADER), secret)


async def verify_attendee_delivery(services: Services, request: web.Request, body: bytes) -> None:
    """Verify a big body in a worker process: Attendee signs its canonical JSON, so verifying
    means parsing, which a forged body must not make the event loop wait for."""
    settings = services.settings
    if len(body) <= settings.inline_parse_bytes:
        return  # parse_attendee_delivery verifies it, as cheaply as it can be done here
    secret = settings.secret("attendee_webhook_secret") or ""
    signature = request.headers.get(SIGNATURE_HEADER)
    await in_worker_process(settings, len(body), verify_signature, body, signature, secret)


def parse_attendee_delivery(services: Services, request: web.Request, body: bytes) -> Delivery:
    secret = services.settings.secret("attendee_webhook_secret")
    if secret is None:
        raise InvalidSignature("Attendee webhooks are not configured (ATTENDEE_WEBHOOK_SECRET)")
    envelope, received = parse_webhook_object(body, request.headers.get(SIGNATURE_HEADER), secret)
    # A calendar's deliveries name a calendar, not a bot: the calendar autopilot's to follow.
    calendar = envelope.trigger.startswith(CALENDAR_TRIGGERS)
    if calendar:
        validate_payload(
            CalendarWebhook, received, lambda reason: f"not an Attendee calendar webhook: {reason}"
        )
    return Delivery(
        event_id=envelope.idempotency_key,
        kind=envelope.trigger,
        job_kind=JOB_CALENDAR if calendar else JOB_EVENT,
        payload={"envelope": received},
    )
