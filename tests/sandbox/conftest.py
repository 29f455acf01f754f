"""What the stand-in tests share: a webhook receiver standing in for Debrief's endpoints, and
Attendee's stand-in with a client of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from aiohttp import web

from providers.attendee import AttendeeClient
from providers.errors import WebhookError
from sandbox.attendee import AttendeeStandIn
from sandbox.server import RecordedCall


@dataclass
class Received(RecordedCall):
    """One request the receiver answered; ``error`` says why its check refused it, if it did."""

    error: str = ""


Check = Callable[[Received], object]


@dataclass
class _Answer:
    status: int
    headers: Mapping[str, str]
    drop: bool = False


class WebhookReceiver:
    """A webhook endpoint on an ephemeral loopback port that records every request it answers.

    It accepts POSTs to any path and answers 200 unless told otherwise: ``answer`` and ``fail``
    queue statuses for the next requests, ``drop`` closes connections unanswered, ``delay`` holds
    each answer back, and ``check`` (e.g. a provider's signature check) refuses a request by
    raising: a ``WebhookError`` is answered with its own status, anything else with 500.
    A request is recorded once it is answered (a dropped one with status 0).
    """

    def __init__(self, path: str = "/hook", *, check: Check | None = None) -> None:
        self.path = path
        self.check = check
        self.delay = 0.0
        self.requests: list[Received] = []
        self.base_url = ""
        self._answers: list[_Answer] = []
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The URL of ``path``, the endpoint the stand-ins are usually given."""
        return self.url_for(self.path)

    def url_for(self, path: str) -> str:
        """The URL of another path on this receiver."""
        return f"{self.base_url}{path}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> WebhookReceiver:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def answer(self, *statuses: int, headers: Mapping[str, str] | None = None) -> None:
        """Answer the next requests with ``statuses`` in turn (with ``headers``), then as usual.

        A queued answer stands for the endpoint misbehaving before it verifies anything, so
        ``check`` does not run on those requests.
        """
        self._answers.extend(_Answer(status, headers or {}) for status in statuses)

    def fail(
        self, times: int = 1, status: int = 500, headers: Mapping[str, str] | None = None
    ) -> None:
        """Answer the next ``times`` requests with ``status``."""
        self.answer(*[status] * times, headers=headers)

    def drop(self, times: int = 1) -> None:
        """Close the connection of the next ``times`` requests without answering."""
        self._answers.extend(_Answer(0, {}, drop=True) for _ in range(times))

    def requests_to(self, path: str) -> list[Received]:
        """The requests to exactly ``path`` (without its query)."""
        return [r for r in self.requests if r.path == path]

    def accepted(self, path: str | None = None) -> list[Received]:
        """The requests answered with a 2xx, to ``path`` only if given."""
        answered = self.requests if path is None else self.requests_to(path)
        return [r for r in answered if 200 <= r.status < 300]

    def refused(self) -> list[Received]:
        """The requests ``check`` refused."""
        return [r for r in self.requests if r.error]

    async def wait_for(self, count: int, within: float = 5.0) -> list[Received]:
        """Wait until ``count`` requests have been answered; TimeoutError after ``within`` s."""
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= count)
        return self.requests

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        received = Received(
            request.method,
            request.path,
            dict(request.query),
            dict(request.headers),
            await request.read(),
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        answer = self._answers.pop(0) if self._answers else None
        if answer is not None and answer.drop:
            await self._record(received)
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError
        if answer is not None:
            response = web.json_response({}, status=answer.status, headers=answer.headers)
        else:
            response = self._checked(received) or web.json_response({"ok": True})
        received.status = response.status
        await self._record(received)
        return response

    def _checked(self, received: Received) -> web.Response | None:
        if self.check is None:
            return None
        try:
            self.check(received)
        except WebhookError as exc:
            received.error = exc.reason
            return web.json_response({"error": exc.reason}, status=exc.status)
        except Exception as exc:  # a check that breaks must show, not pass as accepted
            received.error = repr(exc)
            return web.json_response({"error": repr(exc)}, status=500)
        return None

    async def _record(self, received: Received) -> None:
        async with self._arrived:
            self.requests.append(received)
            self._arrived.notify_all()


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    """A started :class:`WebhookReceiver` whose ``url`` is ``/hook``."""
    async with WebhookReceiver() as hook:
        yield hook


# The Attendee stand-in's tests (test_attendee_standin, test_attendee_calendars): each module
# gives its own ``clock``, the stand-in's time.
@pytest.fixture
def options() -> dict[str, Any]:
    """Stand-in options; tests override this fixture's result with ``@pytest.mark.parametrize``."""
    return {}


@pytest.fixture
async def attendee(
    receiver: WebhookReceiver, clock: Callable[[], datetime], options: dict[str, Any]
) -> AsyncIterator[AttendeeStandIn]:
    standin = AttendeeStandIn(
        **{"step_delay": 0, "auto_join_delay": 0, "webhook_backoff": 0.01, **options},
        clock=clock,
    )
    await standin.start()
    standin.configure_webhook(receiver.url)
    try:
        yield standin
    finally:
        await standin.stop()


@pytest.fixture
def client(http: httpx.AsyncClient, attendee: AttendeeStandIn) -> AttendeeClient:
    return AttendeeClient(http, api_key=attendee.api_key, base_url=attendee.url)
