"""Webhook intake shared by every provider: bounded body, verification before parsing, then the
inbox row and the job in one transaction, and a 2xx before any provider or Slack call.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from aiohttp import web
from sqlalchemy import String, Table

from bot.offload import Busy, off_loop
from bot.services import SERVICES, Services
from bot.store.models import InboxEvent
from providers.errors import WebhookError

log = logging.getLogger(__name__)
INBOX = cast(Table, InboxEvent.__table__)
INBOX_KEY = tuple(column.name for column in INBOX.primary_key)


@dataclass(frozen=True)
class Delivery:
    """An authentic, parsed webhook: its unique id and the job that will act on it."""

    event_id: str
    kind: str
    job_kind: str
    payload: dict[str, Any]


#: Verifies and parses a delivery; returns None for events Debrief does not act on. It may run
#: in a worker thread (a big body): it reads the request's headers and query only.
Parser = Callable[[Services, web.Request, bytes], Delivery | None]
#: Refuses (``InvalidSignature``) what the headers alone show cannot be authentic, before the
#: body is read at all.
Screen = Callable[[Services, web.Request], None]
#: Verifies a big body where verifying costs the GIL (``bot.offload.in_worker_process``), before
#: ``parse`` is given it.
Verifier = Callable[[Services, web.Request, bytes], Awaitable[None]]


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request body, refusing (413) more than ``limit`` bytes without reading them all."""
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    if request.content_length is not None and not request.headers.get("Content-Encoding"):
        # The usual case: the length is known and within the limit, so read it in one go.
        try:
            return await request.read()
        except web.RequestPayloadError as exc:
            raise web.HTTPBadRequest(text="the body could not be read") from exc
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


#: The most deliveries one transaction records (4 inbox and 10 job columns a row stay far below
#: SQLite's and asyncpg's bound-parameter limits).
MAX_BATCH = 256


def _length(column: str) -> int:
    length = cast(String, INBOX.c[column].type).length
    assert length is not None, f"inbox.{column} has a length"
    return length


#: How long an event id and a kind the inbox stores (its columns' lengths).
EVENT_ID_LENGTH = _length("event_id")
KIND_LENGTH = _length("kind")


def _storable(text: str) -> bool:
    """Whether both databases store ``text`` as it is: PostgreSQL refuses a NUL, and neither
    can encode a lone surrogate."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def inbox_key(event_id: str) -> str:
    """What the inbox stores for a provider's event id: the id itself where it fits the column
    and can be stored as it is, else its SHA-256 in hex. Never a truncation, which would make
    two ids one."""
    if len(event_id) <= EVENT_ID_LENGTH and _storable(event_id):
        return event_id
    return hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()


def inbox_kind(kind: str) -> str:
    """What the inbox stores for a delivery's kind (for people reading it): cut to fit."""
    if not _storable(kind):
        kind = kind.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    return kind[:KIND_LENGTH]


@dataclass
class _Waiting:
    key: tuple[str, str]  # provider, inbox_key(event id)
    delivery: Delivery
    job: dict[str, Any]
    accepted: asyncio.Future[bool]


class Intake:
    """Records deliveries in the inbox and enqueues their jobs, many per transaction.

    A commit costs far more than a row. Deliveries that arrive while one batch commits wait
    and go together in the next, so under load each transaction carries many, and when idle a
    delivery goes alone at once (no timer, no added wait). Nobody is answered before their
    delivery is committed. When a batch fails, its deliveries are tried one by one, so one bad
    row fails its own request only and the others are still recorded.
    """

    def __init__(self) -> None:
        self._waiting: list[_Waiting] = []
        self._flushing: asyncio.Task[None] | None = None

    async def accept(self, services: Services, provider: str, delivery: Delivery) -> bool:
        """Record ``delivery`` and enqueue its job atomically; False for a duplicate."""
        # A payload no job could read fails its own request, before it can join a batch.
        job = services.queue.job_values(delivery.job_kind, delivery.payload)
        key = (provider, inbox_key(delivery.event_id))
        waiting = _Waiting(key, delivery, job, asyncio.get_running_loop().create_future())
        self._waiting.append(waiting)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush(services))
        # A request that goes away cancels only its own future: the batch is the flush's.
        return await waiting.accepted

    async def _flush(self, services: Services) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                results = await self._record(services, batch)
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0], exc)
                    continue
                log.warning("a batch of %d deliveries failed (%s); one by one", len(batch), exc)
                for waiting in batch:
                    try:
                        (result,) = await self._record(services, [waiting])
                    except Exception as single:
                        _settle(waiting, single)
                    else:
                        _settle(waiting, result)
                continue
            for waiting, result in zip(batch, results, strict=True):
                _settle(waiting, result)

    async def _record(self, services: Services, batch: list[_Waiting]) -> list[bool]:
        """One transaction: the batch's inbox rows, and a job for each delivery not seen before."""
        now = services.clock()
        first: dict[tuple[str, str], _Waiting] = {}
        for waiting in batch:
            first.setdefault(waiting.key, waiting)
        rows = [
            {"provider": p, "event_id": e, "kind": inbox_kind(w.delivery.kind), "received_at": now}
            for (p, e), w in first.items()
        ]
        jobs = [w.job for w in first.values()]
        inserted = await services.queue.enqueue_with(INBOX, rows, INBOX_KEY, jobs)
        return [w.key in inserted and first[w.key] is w for w in batch]


def _settle(waiting: _Waiting, outcome: bool | Exception) -> None:
    if waiting.accepted.done():
        return
    if isinstance(outcome, Exception):
        waiting.accepted.set_exception(outcome)
    else:
        waiting.accepted.set_result(outcome)


#: One intake per database a process writes to, keyed by its session factory (tests build many
#: apps in one process; an intake holds no reference to its key, so it goes with it).
_INTAKES: weakref.WeakKeyDictionary[Any, Intake] = weakref.WeakKeyDictionary()


async def accept(services: Services, provider: str, delivery: Delivery) -> bool:
    """Record the delivery and enqueue its job atomically; False for a duplicate."""
    found = _INTAKES.get(services.sessions)
    if found is None:
        found = _INTAKES[services.sessions] = Intake()
    return await found.accept(services, provider, delivery)


#: The bodies of the 2xx answers, encoded once.
_ANSWERS = {
    outcome: json.dumps({"status": outcome}).encode()
    for outcome in ("accepted", "duplicate", "ignored")
}


def webhook_handler(
    provider: str, parse: Parser, screen: Screen | None = None, verify: Verifier | None = None
) -> Callable[[web.Request], Any]:
    """An aiohttp handler for ``POST /webhooks/<provider>``.

    What it costs a sender who cannot authenticate, in order: ``screen`` on the headers; the
    body read up to the provider's limit (413 beyond it); ``verify`` in a worker process for a
    big body whose signature needs it parsed (Attendee's); ``parse``, which verifies on the raw
    bytes before it decodes anything, in a bounded worker thread when the body is big.
    """

    async def handle(request: web.Request) -> web.Response:
        services = request.app[SERVICES]
        settings = services.settings
        try:
            if screen is not None:
                screen(services, request)
            body = await read_body(request, settings.body_limits()[provider])
            if verify is not None:
                await verify(services, request, body)
            delivery = await off_loop(settings, len(body), parse, services, request, body)
        except WebhookError as exc:
            services.metrics.inc("debrief_webhooks_total", provider=provider, outcome="refused")
            log.warning("%s webhook refused (%d): %s", provider, exc.status, exc.reason)
            return web.json_response({"error": exc.reason}, status=exc.status)
        except Busy as exc:
            services.metrics.inc("debrief_webhooks_total", provider=provider, outcome="busy")
            log.warning("%s webhook refused (429): %s", provider, exc)
            return web.json_response({"error": str(exc)}, status=429, headers={"Retry-After": "5"})
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
        # Its time is in debrief_http_seconds{path="/webhooks/<provider>"} (bot/app.py).
        return web.Response(body=_ANSWERS[outcome], content_type="application/json")

    return handle
