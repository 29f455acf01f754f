"""Webhook intake shared by every provider: bounded body, verification before parsing, then the
inbox row and the job in one transaction, and a 2xx before any provider or Slack call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.services import SERVICES, Services
from bot.store.db import insert_ignore, transaction
from bot.store.models import InboxEvent
from providers.errors import WebhookError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """An authentic, parsed webhook: its unique id and the job that will act on it."""

    event_id: str
    kind: str
    job_kind: str
    payload: dict[str, Any]


#: Verifies and parses a delivery; returns None for events Debrief does not act on.
Parser = Callable[[Services, web.Request, bytes], Delivery | None]


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request body, refusing (413) more than ``limit`` bytes without reading them all."""
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    chunks, size = [], 0
    try:
        async for chunk in request.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
            chunks.append(chunk)
    except web.RequestPayloadError as exc:
        # A body that does not decode (a Content-Encoding it is not in) is the sender's fault.
        raise web.HTTPBadRequest(text="the body could not be decoded") from exc
    return b"".join(chunks)


async def accept(services: Services, provider: str, delivery: Delivery) -> bool:
    """Record the delivery and enqueue its job atomically; False for a duplicate."""
    async with transaction(services.sessions) as session:
        fresh = await insert_ignore(
            session,
            InboxEvent,
            {
                "provider": provider,
                "event_id": delivery.event_id,
                "kind": delivery.kind,
                "received_at": services.clock(),
            },
        )
        if fresh:
            await services.queue.enqueue(session, delivery.job_kind, delivery.payload)
    return fresh


def webhook_handler(provider: str, parse: Parser) -> Callable[[web.Request], Any]:
    """An aiohttp handler for ``POST /webhooks/<provider>``."""

    async def handle(request: web.Request) -> web.Response:
        services = request.app[SERVICES]
        started = time.perf_counter()
        try:
            body = await read_body(request, services.settings.max_webhook_bytes)
            delivery = parse(services, request, body)
        except WebhookError as exc:
            services.metrics.inc("debrief_webhooks_total", provider=provider, outcome="refused")
            log.warning("%s webhook refused (%d): %s", provider, exc.status, exc.reason)
            return web.json_response({"error": exc.reason}, status=exc.status)
        if delivery is None:
            outcome = "ignored"
        else:
            outcome = "accepted" if await accept(services, provider, delivery) else "duplicate"
        services.metrics.inc(
            "debrief_webhooks_total",
            help="Webhook deliveries by outcome",
            provider=provider,
            outcome=outcome,
        )
        services.metrics.observe(
            "debrief_webhook_seconds",
            time.perf_counter() - started,
            help="Time to answer a webhook",
            provider=provider,
        )
        return web.json_response({"status": outcome})

    return handle
