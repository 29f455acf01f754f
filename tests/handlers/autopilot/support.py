"""Helpers of the calendar autopilot's tests: the app (no workers, a still clock) against the
Slack stand-in and a small stand-in of Attendee's calendar API, built from the recorded answers
under ``tests/payloads/attendee/calendar/`` and following the rules found in Attendee's code
(README there): a bot made with ``calendar_event_id`` takes the event's link and start, a past
start or a missing link is refused with Attendee's own words, one unfinished bot per
``deduplication_key``, and a changed event moves or deletes its scheduled bots.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import Options, create_web_app
from bot.services import SERVICES
from providers.attendee.webhooks import sign
from sandbox.slack import SlackStandIn
from tests.conftest import PAYLOADS, make_settings
from tests.handlers.action_items.support import Clock
from tests.handlers.digest.support import Rig

CALENDAR = PAYLOADS / "attendee" / "calendar"
GOOGLE = "cal_afubUkkN7eDpigjE"
MICROSOFT = "cal_2XESl2utJqInA33C"
OWNER = "U0ADA"
TEAM = "T0SANDBOX"
#: The recorded run's clock: after Google sync 1, before the events of 8 December.
NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
SECRET = json.loads((CALENDAR / "webhooks" / "01_calendar-events_update.json").read_text())[
    "secret_b64"
]


def api(name: str) -> Any:
    return json.loads((CALENDAR / "api" / f"{name}.json").read_text())


def webhook(number: int) -> dict[str, Any]:
    """A recorded delivery (headers, raw body, parsed JSON) of ``webhooks/NN_*.json``."""
    (path,) = (CALENDAR / "webhooks").glob(f"{number:02d}_*.json")
    return dict(json.loads(path.read_text()))


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    json: Any


@dataclass
class CalendarAttendee:
    """Attendee's calendars, events and bots, as far as the autopilot uses them."""

    clock: Clock
    calendars: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    bots: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    page_size: int = 3

    def own(self, calendar_id: str, answer: str, user: str = OWNER) -> None:
        """Serve a recorded calendar whose metadata names a Slack user."""
        calendar = api(answer)
        calendar["metadata"] = {**calendar["metadata"], "slack_team_id": TEAM}
        calendar["metadata"]["slack_user_id"] = user
        self.calendars[calendar_id] = calendar

    def sync(self, answer: str) -> None:
        """Take in a recorded event list as Attendee's sync would: a moved event moves its
        scheduled bots, a cancelled one deletes them."""
        for event in api(answer)["results"]:
            self.events[event["id"]] = event
            for bot_id, bot in list(self.bots.items()):
                if bot["_event"] != event["id"] or bot["state"] != "scheduled":
                    continue
                if event["is_deleted"]:
                    del self.bots[bot_id]
                else:
                    bot["join_at"], bot["meeting_url"] = event["start_time"], event["meeting_url"]

    def posted(self, path: str = "/api/v1/bots") -> list[Any]:
        return [c.json for c in self.calls if c.method == "POST" and c.path == path]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v1/calendars", self._calendars)
        app.router.add_get("/api/v1/calendars/{id}", self._calendar)
        app.router.add_delete("/api/v1/calendars/{id}", self._delete_calendar)
        app.router.add_get("/api/v1/calendar_events", self._events)
        app.router.add_post("/api/v1/bots", self._create_bot)
        app.router.add_get("/api/v1/bots", self._bots)
        app.router.add_delete("/api/v1/bots/{id}", self._delete_bot)

        @web.middleware
        async def record(request: web.Request, handler: Any) -> web.StreamResponse:
            body = await request.json() if request.can_read_body else None
            self.calls.append(Call(request.method, request.path, dict(request.query), body))
            response: web.StreamResponse = await handler(request)
            return response

        app.middlewares.append(record)
        return app

    async def _calendars(self, request: web.Request) -> web.Response:
        results = [c for c in self.calendars.values()]
        return web.json_response({"next": None, "previous": None, "results": results})

    async def _calendar(self, request: web.Request) -> web.Response:
        calendar = self.calendars.get(request.match_info["id"])
        if calendar is None:
            return web.json_response({"detail": "Not found."}, status=404)
        return web.json_response(calendar)

    async def _delete_calendar(self, request: web.Request) -> web.Response:
        if self.calendars.pop(request.match_info["id"], None) is None:
            return web.json_response({"detail": "Not found."}, status=404)
        return web.Response(status=200)

    async def _events(self, request: web.Request) -> web.Response:
        query = request.query
        found = sorted(self.events.values(), key=lambda e: e["start_time"])
        if "calendar_id" in query:
            found = [e for e in found if e["calendar_id"] == query["calendar_id"]]
        if "event_id" in query:
            found = [e for e in found if e["id"] == query["event_id"]]
        if "updated_after" in query:
            after = parse_time(query["updated_after"])
            found = [e for e in found if parse_time(e["updated_at"]) >= after]
        start = int(query.get("cursor", "0"))
        page = found[start : start + self.page_size]
        more = start + self.page_size < len(found)
        url = f"{request.url.with_query({**query, 'cursor': str(start + self.page_size)})}"
        for event in page:
            event["bots"] = [
                {"id": b["id"], "state": b["state"]}
                for b in self.bots.values()
                if b["_event"] == event["id"]
            ]
        return web.json_response({"next": url if more else None, "previous": None, "results": page})

    async def _create_bot(self, request: web.Request) -> web.Response:
        body = await request.json()
        event = self.events.get(body.get("calendar_event_id", ""))
        if event is None:
            return web.json_response({"calendar_event_id": ["not found"]}, status=400)
        if not event["meeting_url"]:
            return web.json_response(api("bot_create_from_event_err_no_meeting_url"), status=400)
        if parse_time(event["start_time"]) <= self.clock():
            return web.json_response(api("bot_create_from_event_err_past_event"), status=400)
        key = body.get("deduplication_key")
        if key and any(b["deduplication_key"] == key for b in self.bots.values()):
            return web.json_response(api("bot_create_from_event_err_dedup_in_use"), status=400)
        bot = copy.deepcopy(api("bot_create_from_event_with_dedup"))
        bot.update(
            id=f"bot_test{len(self.posted()):04d}",
            metadata=body.get("metadata"),
            meeting_url=event["meeting_url"],
            join_at=event["start_time"],
            deduplication_key=key,
            _event=event["id"],
        )
        self.bots[bot["id"]] = bot
        return web.json_response(_public(bot), status=201)

    async def _bots(self, request: web.Request) -> web.Response:
        key = request.query.get("deduplication_key")
        found = [_public(b) for b in self.bots.values() if key in (None, b["deduplication_key"])]
        return web.json_response({"next": None, "previous": None, "results": found})

    async def _delete_bot(self, request: web.Request) -> web.Response:
        if self.bots.pop(request.match_info["id"], None) is None:
            return web.json_response({"error": "Bot not found"}, status=404)
        return web.Response(status=200)


def _public(bot: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in bot.items() if not k.startswith("_")}


@dataclass
class CalendarRig:
    rig: Rig
    attendee: CalendarAttendee
    clock: Clock

    @property
    def slack(self) -> SlackStandIn:
        return self.rig.slack

    async def deliver(self, delivery: dict[str, Any]) -> web.Response:
        """POST a delivery to ``/webhooks/attendee`` exactly as it was received."""
        headers = {
            "Content-Type": "application/json",
            "X-Webhook-Signature": delivery["headers"]["X-Webhook-Signature"],
        }
        response: web.Response = await self.rig.client.post(
            "/webhooks/attendee", data=delivery["raw_body"].encode(), headers=headers
        )
        return response

    async def deliver_new(self, envelope: dict[str, Any]) -> web.Response:
        """POST an envelope signed with the recorded secret (a delivery the run did not make)."""
        body = json.dumps(envelope).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Webhook-Signature": sign(envelope, SECRET),
        }
        response: web.Response = await self.rig.client.post(
            "/webhooks/attendee", data=body, headers=headers
        )
        return response

    async def until(self, check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
        """Run jobs until ``check()`` holds: Bolt may finish a listener after acknowledging."""
        async with asyncio.timeout(within):
            while True:
                await self.settle()
                if await check():
                    return
                await asyncio.sleep(0.02)

    async def settle(self) -> None:
        for _ in range(20):
            await self.rig.make_due()
            if not await self.rig.drain():
                return
        raise AssertionError("jobs kept coming")


@asynccontextmanager
async def calendar_rig(database_url: str, **settings: Any) -> AsyncIterator[CalendarRig]:
    clock = Clock(NOW)
    attendee = CalendarAttendee(clock)
    async with contextlib.AsyncExitStack() as stack:
        server = TestServer(attendee.app())
        await server.start_server()
        stack.push_async_callback(server.close)
        slack = await stack.enter_async_context(
            SlackStandIn(signing_secret="test-signing-secret-0000")
        )
        values: dict[str, Any] = {
            "database_url": database_url,
            "slack_api_url": slack.api_url,
            "slack_bot_token": slack.bot_token,
            "attendee_api_key": "test-key",
            "attendee_webhook_secret": SECRET,
            "attendee_api_url": str(server.make_url("")).rstrip("/"),
            "digest_channel": "C0DIGESTS",
        }
        values.update(settings)
        options = Options(workers=0, scheduler=False, migrate=True, clock=clock)
        app = await create_web_app(make_settings(**values), options)
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        stack.push_async_callback(client.close)
        yield CalendarRig(Rig(slack, app[SERVICES], app, client), attendee, clock)
