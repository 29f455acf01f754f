"""How every provider stand-in sends its signed webhooks to the app: one mechanism, one record.

A stand-in builds the request its provider would send (the body, and headers carrying its own
signature scheme) and hands it to its :class:`Deliveries`, which sends it from a background
worker, one at a time in the order handed over, so that an API answer never waits for a webhook.
On the way a test or the sandbox page can hold deliveries back and release them in another
order, send the next ones twice (the same body and signature: a provider's redelivery), fail
one by hand or send a failed one again. A delivery the app does not accept (no answer, a
timeout, a 5xx; any non-2xx where the provider retries those too) is retried with a doubling
backoff, up to ``attempts`` times, and then marked failed.

The worker's HTTP session is opened by :meth:`Deliveries.start` and closed by
:meth:`Deliveries.stop`, never lazily: a webhook handed over after ``stop`` is dropped with a
log line (as is one handed over before ``start``) instead of bringing the worker, and a
session nobody closes, back to life.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import aiohttp

log = logging.getLogger(__name__)

#: ``held``: kept back until released; ``queued``: waiting for the worker (or for its next
#: attempt); ``sent``: the app answered 2xx; ``failed``: given up on.
DeliveryState = Literal["held", "queued", "sent", "failed"]
ReleaseOrder = Literal["fifo", "reversed", "shuffled"]
#: Headers for a body, made afresh before every attempt (a signature over a timestamp).
Signer = Callable[[bytes], dict[str, str]]

RELEASE_ORDERS: tuple[ReleaseOrder, ...] = ("fifo", "reversed", "shuffled")
#: Characters of the app's answer kept on a delivery.
RESPONSE_CHARS = 64 * 1024


@dataclass
class Delivery:
    """One webhook a stand-in sent (or holds, or gave up on) and how the app answered it."""

    id: str
    provider: str
    url: str
    headers: dict[str, str]
    body: bytes
    #: Where the delivery is (see :data:`DeliveryState`).
    state: DeliveryState = "queued"
    #: Attempts made so far.
    attempts: int = 0
    #: Why the last attempt got no answer (``TimeoutError``, a refused connection), if it got none.
    error: str | None = None
    #: The HTTP status the app answered the last attempt with; None while there is none.
    status: int | None = None
    #: The body of that answer.
    response: str = field(default="", repr=False)
    #: What the stand-in finds its deliveries by (a trigger, an event type, a bot id).
    meta: dict[str, Any] = field(default_factory=dict)
    sign: Signer | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """The app accepted it (2xx)."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def json(self) -> Any:
        """The delivered body, decoded."""
        return json.loads(self.body)


class Deliveries:
    """A stand-in's outgoing webhooks: queued, held, duplicated, retried, failed.

    Args:
        provider: the stand-in's name, on every delivery and log line.
        attempts: attempts per delivery before it is marked failed.
        backoff: seconds before the first retry, doubling after each.
        timeout: seconds one attempt may take.
        retry_client_errors: retry any non-2xx answer (Attendee), not only 5xx and no answer.
        in_order: a delivery being retried holds back the ones after it (Whereby); otherwise it
            is retried on the side and later ones overtake it (Attendee).
    """

    def __init__(
        self,
        provider: str,
        *,
        attempts: int = 1,
        backoff: float = 1.0,
        timeout: float = 10.0,
        retry_client_errors: bool = False,
        in_order: bool = True,
    ) -> None:
        self.provider = provider
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.timeout = timeout
        self.retry_client_errors = retry_client_errors
        self.in_order = in_order
        #: Every delivery sends this many copies (a provider that always repeats itself).
        self.copies = 1
        #: Every delivery handed over, in order; each is updated as it goes.
        self.records: list[Delivery] = []
        #: A copy of a delivery after each of its attempts, in the order the attempts were made.
        self.log: list[Delivery] = []
        self._duplicates = 0
        self._held: list[Delivery] | None = None
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue()
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._waiters: dict[str, asyncio.Future[None]] = {}
        self._worker: asyncio.Task[None] | None = None
        self._aside: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._running = False

    # --- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Open the session and start the worker."""
        if self._running:
            return
        self._running = True
        self._session = aiohttp.ClientSession()
        self._worker = asyncio.create_task(self._work(), name=f"{self.provider}-webhooks")

    async def stop(self) -> None:
        """Stop the worker and close the session; what is still queued is failed, not sent."""
        self._running = False
        tasks = [t for t in (self._worker, *self._aside) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._worker = None
        self._aside.clear()
        while not self._queue.empty():
            self._queue.get_nowait()
        for record in self.records:
            if record.state == "queued":
                self._give_up(record, "the stand-in stopped")
        self._busy = 0
        self._idle.set()
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def idle(self) -> bool:
        """Nothing is queued, being sent or waiting for a retry (held deliveries aside)."""
        return self._busy == 0

    async def settle(self, within: float | None = None) -> None:
        """Wait until :attr:`idle`."""
        async with asyncio.timeout(within):
            await self._idle.wait()

    # --- handing over -----------------------------------------------------------------------

    def submit(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        meta: Mapping[str, Any] | None = None,
        sign: Signer | None = None,
    ) -> list[Delivery]:
        """Queue (or hold) a webhook; returns its deliveries (two when duplicated).

        ``sign``, when given, makes the headers again before every attempt.
        """
        copies = self.copies
        if self._duplicates > 0:
            self._duplicates -= 1
            copies = max(copies, 2)
        made = []
        for _ in range(copies):
            delivery = Delivery(
                uuid.uuid4().hex,
                self.provider,
                url,
                dict(sign(body) if sign is not None else headers),
                body,
                meta=dict(meta or {}),
                sign=sign,
            )
            self.records.append(delivery)
            made.append(delivery)
            if not self._running:
                log.warning("%s stand-in is not running: webhook to %s dropped", self.provider, url)
                self._give_up(delivery, "the stand-in is not running")
            elif self._held is not None:
                delivery.state = "held"
                self._held.append(delivery)
            else:
                self._enqueue(delivery)
        return made

    async def send(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        meta: Mapping[str, Any] | None = None,
        sign: Signer | None = None,
    ) -> Delivery:
        """:meth:`submit`, then wait until it was sent or given up on (unless it is held)."""
        made = self.submit(url, body, headers, meta=meta, sign=sign)
        loop = asyncio.get_running_loop()
        waiting = []
        for delivery in made:
            if delivery.state == "queued":
                waiting.append(self._waiters.setdefault(delivery.id, loop.create_future()))
        if waiting:
            await asyncio.gather(*waiting)
        return made[0]

    # --- the controls -----------------------------------------------------------------------

    def hold(self) -> None:
        """Keep deliveries back until :meth:`release`."""
        if self._held is None:
            self._held = []

    @property
    def held(self) -> int:
        """How many deliveries are held back."""
        return len(self._held or ())

    def release(self, order: str = "fifo", *, seed: int | None = None) -> int:
        """Send the held deliveries in ``order`` (``fifo``, ``reversed``, ``shuffled`` with
        ``seed``) and stop holding; returns how many there were."""
        if order not in RELEASE_ORDERS:
            raise ValueError(f"unknown order {order!r}")
        held, self._held = self._held or [], None
        if order == "reversed":
            held.reverse()
        elif order == "shuffled":
            random.Random(seed).shuffle(held)
        for delivery in held:
            if delivery.state == "held":
                self._enqueue(delivery)
        return len(held)

    def duplicate(self, count: int = 1) -> None:
        """Send each of the next ``count`` webhooks twice, with the same body and signature."""
        self._duplicates += count

    def retry(self, delivery_id: str) -> Delivery:
        """Send a failed delivery again (its attempts start over).

        Raises:
            LookupError: no such delivery.
            ValueError: it has not failed.
        """
        delivery = self._find(delivery_id)
        if delivery.state != "failed":
            raise ValueError(f"delivery {delivery_id} is {delivery.state}, not failed")
        delivery.attempts = 0
        self._enqueue(delivery)
        return delivery

    def fail(self, delivery_id: str, reason: str = "failed by hand") -> Delivery:
        """Give up on a held or queued delivery without sending it (again).

        Raises:
            LookupError: no such delivery.
            ValueError: it was sent or has failed already.
        """
        delivery = self._find(delivery_id)
        if delivery.state not in ("held", "queued"):
            raise ValueError(f"delivery {delivery_id} is {delivery.state} already")
        if self._held is not None and delivery in self._held:
            self._held.remove(delivery)
        self._give_up(delivery, reason)  # a queued one is skipped when the worker reaches it
        return delivery

    # --- the worker -------------------------------------------------------------------------

    def _find(self, delivery_id: str) -> Delivery:
        for delivery in self.records:
            if delivery.id == delivery_id:
                return delivery
        raise LookupError(f"no delivery {delivery_id}")

    def _enqueue(self, delivery: Delivery) -> None:
        delivery.state = "queued"
        self._busy += 1
        self._idle.clear()
        self._queue.put_nowait(delivery)

    def _done_with_one(self) -> None:
        self._busy = max(0, self._busy - 1)
        if self._busy == 0:
            self._idle.set()

    async def _work(self) -> None:
        while True:
            delivery = await self._queue.get()
            try:
                if delivery.state != "queued":
                    continue  # failed by hand while it waited
                if await self._attempt(delivery):
                    continue
                if self.in_order:
                    await self._retry(delivery)
                else:
                    self._busy += 1
                    task = asyncio.create_task(
                        self._retry(delivery, aside=True), name=f"{self.provider}-retry"
                    )
                    self._aside.add(task)
                    task.add_done_callback(self._aside.discard)
            finally:
                self._done_with_one()

    async def _retry(self, delivery: Delivery, *, aside: bool = False) -> None:
        try:
            while True:
                await asyncio.sleep(self.backoff * 2 ** (delivery.attempts - 1))
                if delivery.state != "queued" or await self._attempt(delivery):
                    return
        finally:
            if aside:
                self._done_with_one()

    async def _attempt(self, delivery: Delivery) -> bool:
        """One attempt; whether the delivery is over (sent, or given up on)."""
        session = self._session
        if session is None:
            self._give_up(delivery, "the stand-in is not running")
            return True
        if delivery.sign is not None:
            delivery.headers = delivery.sign(delivery.body)
        delivery.attempts += 1
        try:
            async with (
                asyncio.timeout(self.timeout),
                session.post(
                    delivery.url,
                    data=delivery.body,
                    headers=delivery.headers,
                    allow_redirects=False,
                ) as response,
            ):
                text = (await response.read()).decode(errors="replace")
            delivery.status, delivery.response, delivery.error = response.status, text, None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            delivery.status, delivery.response = None, ""
            delivery.error = type(exc).__name__ + (f": {exc}" if str(exc) else "")
            log.info("%s stand-in: webhook to %s failed (%s)", self.provider, delivery.url, exc)
        self.log.append(replace(delivery, headers=dict(delivery.headers)))
        if delivery.ok:
            self._finish(delivery, "sent")
            return True
        retryable = delivery.status is None or delivery.status >= 500 or self.retry_client_errors
        if retryable and delivery.attempts < self.attempts:
            return False
        self._finish(delivery, "failed")
        return True

    def _give_up(self, delivery: Delivery, reason: str) -> None:
        delivery.error = delivery.error or reason
        self._finish(delivery, "failed")

    def _finish(self, delivery: Delivery, state: DeliveryState) -> None:
        delivery.state = state
        waiter = self._waiters.pop(delivery.id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
