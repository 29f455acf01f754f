"""A local stand-in for Whereby's Embedded REST API and its webhooks.

The API lives under ``<url>/v1`` (point a ``WherebyClient`` at ``standin.api_url``) and answers
as Whereby documents: ``Authorization: Bearer <key>`` on every call, meetings with room URLs,
recordings, transcriptions, summaries (beta) and insights, lists paged with ``{results,
cursor}``.

The point budget is charged exactly as Whereby's reference says: read 1, delete 2, write 3
points, per organisation (every key of the stand-in shares it). The window is a *fixed* one
that opens with the first charged request and lasts ``window`` seconds (60 by default; tests
scale it to seconds), after which the whole budget is back; ``window_mode="sliding"`` counts
the last ``window`` seconds instead. A request whose points do not fit is refused with 429,
``Retry-After`` (whole seconds, rounded up) and ``{"error": "Rate limit exceeded", "data":
{"msLeft": n}}``; refused requests are not charged. Every authenticated answer carries
``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (ISO 8601 with
milliseconds: Whereby documents only "a date"). Unauthenticated requests are not charged.

What happens in rooms is driven from tests (methods, called inside the running event loop) or
from the sandbox page (``/_sandbox/whereby/...``): people join and leave, sessions start and end
(only when told to: Whereby's "two people for a while" heuristic is not imitated), recordings
and transcriptions finish or fail. Transcriptions made from a recording have ``type``
``RECORDING_TRANSCRIPTION``; live ones ``SESSION_TRANSCRIPTION`` (Whereby's enum is garbled,
so this name is a guess). Recordings are answered with the documented fields only; their room
is known from ``recording.finished``. Each sends the webhook Whereby would, signed with
``Whereby-Signature``, in the envelope ``{id, apiVersion, createdAt, type, data}``. Events carry
only the documented ``data`` fields, so a consumer that needs the room of a transcription
must fetch it, as it would have to with Whereby. Deliveries go out one at a time from a
background task (an API answer never waits for them), are retried twice on 5xx or a 5 s
timeout, can be duplicated (:meth:`WherebyStandIn.duplicate_webhooks`) or held back and then
released in another order (:meth:`WherebyStandIn.hold`, :meth:`WherebyStandIn.release`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import random
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web

from providers.whereby.budget import request_cost
from providers.whereby.webhooks import SIGNATURE_HEADER, sign
from sandbox.delivery import Deliveries, Delivery, ReleaseOrder
from sandbox.lock import SandboxLock
from sandbox.plugin import RunningApp, Setup, StandInPlugin
from sandbox.server import Handler, StandIn

Clock = Callable[[], float]
WindowMode = Literal["fixed", "sliding"]

DEFAULT_API_KEY = "whereby-sandbox-key"
SUMMARY_TEMPLATES = (
    "General Narrative",
    "General Bulleted",
    "SOAP",
    "Extended SOAP",
    "Educational Lecture",
    "Educational Tutoring",
)
_HUMAN_SHORT = "abcdefghjkmnpqrstuvwxyz23456789"
_ROOM_LIFETIME_AFTER_END = 3600.0


def iso(timestamp: float) -> str:
    """Unix time as Whereby writes dates: UTC, milliseconds, ``Z``."""
    moment = datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")
    return moment.replace("+00:00", "Z")


def _room_key(room_name: str) -> str:
    return room_name.strip().lstrip("/")


# --- the point budget -----------------------------------------------------------------------


@dataclass
class Charge:
    """The outcome of charging one request against the budget."""

    allowed: bool
    limit: int
    remaining: int
    reset_in: float  # seconds until the whole budget (fixed) or some of it (sliding) is back
    wait: float = 0.0  # for a refusal: seconds until this request would fit


class OrganisationBudget:
    """Whereby's per-organisation point budget, in a fixed or a sliding window."""

    def __init__(
        self, points: int, window: float, mode: WindowMode = "fixed", clock: Clock = time.monotonic
    ) -> None:
        self.points = points
        self.window = window
        self.mode: WindowMode = mode
        self._clock = clock
        self._start: float | None = None
        self._used = 0.0
        self._log: list[tuple[float, float]] = []

    def charge(self, cost: float) -> Charge:
        """Spend ``cost`` points if they fit, else refuse without spending."""
        if self.mode == "sliding":
            return self._charge_sliding(cost)
        now = self._clock()
        if self._start is None or now >= self._start + self.window:
            self._start, self._used = now, 0.0
        reset_in = self._start + self.window - now
        if self._used + cost > self.points:
            return Charge(False, self.points, self._remaining(self._used), reset_in, reset_in)
        self._used += cost
        return Charge(True, self.points, self._remaining(self._used), reset_in)

    def _charge_sliding(self, cost: float) -> Charge:
        now = self._clock()
        self._log = [(at, spent) for at, spent in self._log if at > now - self.window]
        used = sum(spent for _, spent in self._log)
        if used + cost > self.points:
            excess, wait = used + cost - self.points, self.window
            for at, spent in self._log:
                excess -= spent
                if excess <= 0:
                    wait = at + self.window - now
                    break
            reset_in = self._log[0][0] + self.window - now
            return Charge(False, self.points, self._remaining(used), reset_in, wait)
        self._log.append((now, cost))
        reset_in = self._log[0][0] + self.window - now
        return Charge(True, self.points, self._remaining(used + cost), reset_in)

    def _remaining(self, used: float) -> int:
        return max(0, int(self.points - used))

    def state(self) -> dict[str, Any]:
        """The budget as the sandbox page shows it."""
        now = self._clock()
        if self.mode == "sliding":
            used = sum(spent for at, spent in self._log if at > now - self.window)
        elif self._start is not None and now < self._start + self.window:
            used = self._used
        else:
            used = 0.0
        return {
            "points": self.points,
            "window": self.window,
            "mode": self.mode,
            "remaining": self._remaining(used),
        }


# --- rooms and their sessions ---------------------------------------------------------------


@dataclass
class Participant:
    """One person's visit to a session."""

    participant_id: str
    display_name: str
    role_name: str
    joined_at: float
    external_id: str | None = None
    metadata: str | None = None
    left_at: float | None = None
    user_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    device_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def insight(self, room_session_id: str) -> dict[str, Any]:
        return {
            "roomSessionId": room_session_id,
            "participantId": self.participant_id,
            "deviceId": self.device_id,
            "userId": self.user_id,
            "roleName": self.role_name,
            "displayName": self.display_name,
            "joinedAt": iso(self.joined_at),
            "leftAt": iso(self.left_at) if self.left_at is not None else None,
            "externalId": self.external_id,
        }


@dataclass
class Session:
    """A room session: from two people present until it empties."""

    room_session_id: str
    created_at: float
    started: bool = False
    ended_at: float | None = None
    participants: list[Participant] = field(default_factory=list)

    def present(self) -> list[Participant]:
        return [p for p in self.participants if p.left_at is None]


@dataclass
class Room:
    """A meeting's room: its meeting (if created through the API) and its sessions."""

    name: str  # without the leading "/"
    meeting: dict[str, Any] | None
    created_at: float
    end_at: float | None
    sessions: list[Session] = field(default_factory=list)

    @property
    def room_name(self) -> str:
        return f"/{self.name}"

    @property
    def meeting_id(self) -> str | None:
        return None if self.meeting is None else str(self.meeting["meetingId"])

    def current(self) -> Session | None:
        if self.sessions and self.sessions[-1].ended_at is None:
            return self.sessions[-1]
        return None


@dataclass
class SummaryJob:
    """A requested summary and what decides when it is ready."""

    record: dict[str, Any]
    created: float
    gets: int = 0


# --- the stand-in ---------------------------------------------------------------------------


class WherebyStandIn(StandIn):
    """Whereby's REST API and webhooks on a loopback port.

    Args:
        api_keys: keys accepted as ``Bearer``; all share one organisation budget.
        points: the budget per window (Grow 1000, Build 100).
        window: the budget window in seconds.
        window_mode: ``"fixed"`` (Whereby-like, the default) or ``"sliding"``.
        clock: monotonic time for the budget and summary timers.
        wall: unix time for dates, expiry and signatures.
        lock: the sandbox lock (shared by a World's stand-ins); a fresh token by default.
    """

    name = "whereby"
    outbox: Deliveries

    def __init__(
        self,
        *,
        api_keys: tuple[str, ...] = (DEFAULT_API_KEY,),
        points: int = 1000,
        window: float = 60.0,
        window_mode: WindowMode = "fixed",
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
        lock: SandboxLock | None = None,
    ) -> None:
        super().__init__(lock=lock)
        self.app.middlewares.append(self._api_middleware)
        self.api_keys = set(api_keys)
        self.budget = OrganisationBudget(points, window, window_mode, clock)
        self._clock = clock
        self._wall = wall
        self.rooms: dict[str, Room] = {}
        self.meetings: dict[str, Room] = {}
        self.recordings: dict[str, dict[str, Any]] = {}
        self.transcriptions: dict[str, dict[str, Any]] = {}
        self.transcripts: dict[str, str] = {}
        self.summaries: dict[str, SummaryJob] = {}
        self._next_meeting = 1000
        # Summaries: ready after this many GETs or seconds (whichever first), or never.
        self.summary_after_gets: int | None = 2
        self.summary_after_seconds: float | None = None
        self.summary_never = False
        self.summary_fails = False
        self.summary_text = "The team agreed on the launch date and split the follow-up work."
        #: When set, transcriptions created with POST /transcriptions finish by themselves.
        self.transcription_delay: float | None = None
        # Webhooks: one at a time, a retry (on a 5xx or no answer) holding up the next ones.
        self.webhook_url: str | None = None
        self.webhook_secret = ""
        self.outbox = Deliveries("whereby", attempts=3, backoff=0.05, timeout=5.0)
        self.events: list[dict[str, Any]] = []
        self._timers: set[asyncio.TimerHandle] = set()

    @property
    def api_url(self) -> str:
        """The base URL a ``WherebyClient`` should use."""
        return f"{self.url}/v1"

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook delivery, in the order made."""
        return self.outbox.records

    @property
    def webhook_timeout(self) -> float:
        """Seconds one delivery attempt may take."""
        return self.outbox.timeout

    @webhook_timeout.setter
    def webhook_timeout(self, seconds: float) -> None:
        self.outbox.timeout = seconds

    @property
    def webhook_retries(self) -> int:
        """Retries after a first attempt that got a 5xx or no answer."""
        return self.outbox.attempts - 1

    @webhook_retries.setter
    def webhook_retries(self, retries: int) -> None:
        self.outbox.attempts = 1 + max(0, retries)

    @property
    def webhook_backoff(self) -> float:
        """Seconds before the first retry, doubling after each."""
        return self.outbox.backoff

    @webhook_backoff.setter
    def webhook_backoff(self, seconds: float) -> None:
        self.outbox.backoff = seconds

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        await super().stop()

    # --- routes -----------------------------------------------------------------------------

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        api = [
            ("POST", "/v1/meetings", self._create_meeting),
            ("GET", "/v1/meetings", self._list_meetings),
            ("GET", "/v1/meetings/{id}", self._get_meeting),
            ("DELETE", "/v1/meetings/{id}", self._delete_meeting),
            ("GET", "/v1/recordings", self._list_recordings),
            ("GET", "/v1/recordings/{id}", self._get_recording),
            ("DELETE", "/v1/recordings/{id}", self._delete_recording),
            ("GET", "/v1/recordings/{id}/access-link", self._recording_link),
            ("POST", "/v1/transcriptions", self._create_transcription),
            ("GET", "/v1/transcriptions", self._list_transcriptions),
            ("GET", "/v1/transcriptions/{id}", self._get_transcription),
            ("GET", "/v1/transcriptions/{id}/access-link", self._transcription_link),
            ("POST", "/v1/summaries", self._create_summary),
            ("GET", "/v1/summaries", self._list_summaries),
            ("GET", "/v1/summaries/{id}", self._get_summary),
            ("GET", "/v1/insights/rooms", self._insights_rooms),
            ("GET", "/v1/insights/room-sessions", self._insights_room_sessions),
            ("GET", "/v1/insights/participants", self._insights_participants),
        ]
        for method, path, handler in api:
            router.add_route(method, path, handler)
        router.add_get("/files/{kind}/{id}", self._file)
        control = "/_sandbox/whereby"
        router.add_get(f"{control}/state", self._control_state)
        router.add_post(f"{control}/webhook", self._control_webhook)
        router.add_post(f"{control}/webhooks/hold", self._control_hold)
        router.add_post(f"{control}/webhooks/release", self._control_release)
        router.add_post(f"{control}/webhooks/duplicates", self._control_duplicates)
        router.add_post(f"{control}/budget", self._control_budget)
        router.add_post(f"{control}/summaries", self._control_summaries)
        router.add_post(f"{control}/rooms/{{room}}/{{action:.+}}", self._control_room)
        router.add_get("/{room}", self._room_page)

    @web.middleware
    async def _api_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/v1/"):
            return await handler(request)
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or key.strip() not in self.api_keys:
            return _error(401, "Unauthorized")
        charge = self.budget.charge(request_cost(request.method))
        response: web.StreamResponse
        if not charge.allowed:
            response = web.json_response(
                {"error": "Rate limit exceeded", "data": {"msLeft": math.ceil(charge.wait * 1000)}},
                status=429,
                headers={"Retry-After": str(max(1, math.ceil(charge.wait)))},
            )
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                response = _error(exc.status, exc.reason)
        response.headers["X-RateLimit-Limit"] = str(charge.limit)
        response.headers["X-RateLimit-Remaining"] = str(charge.remaining)
        response.headers["X-RateLimit-Reset"] = iso(self._wall() + charge.reset_in)
        return response

    # --- meetings ---------------------------------------------------------------------------

    async def _create_meeting(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        end = _parse_date(body.get("endDate"))
        if end is None:
            return _error(400, "endDate is required and must be an ISO 8601 date")
        now = self._wall()
        if end < now - 1:
            return _error(400, "endDate must be in the future")
        prefix = str(body.get("roomNamePrefix") or "").replace(" ", "")
        if len(prefix) > 39 or prefix != prefix.lower():
            return _error(400, "roomNamePrefix must be lowercase and at most 39 characters")
        if body.get("roomMode", "normal") not in ("normal", "group"):
            return _error(400, "roomMode must be normal or group")
        pattern = body.get("roomNamePattern", "uuid")
        if pattern not in ("uuid", "human-short"):
            return _error(400, "roomNamePattern must be uuid or human-short")
        fields = body.get("fields") or []
        if not isinstance(fields, list) or not set(fields) <= {"hostRoomUrl", "viewerRoomUrl"}:
            return _error(400, "fields may hold hostRoomUrl and viewerRoomUrl")
        meeting = self._new_meeting(prefix, pattern, now, end, body)
        if body.get("templateType") == "viewerMode":
            fields = ["hostRoomUrl", "viewerRoomUrl"]
        return web.json_response(_meeting_view(meeting, fields), status=201)

    def _new_meeting(
        self, prefix: str, pattern: str, now: float, end: float, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        self._next_meeting += 1
        if pattern == "human-short":
            base = "".join(random.choice(_HUMAN_SHORT) for _ in range(6))
        else:
            base = str(uuid.uuid4())
        name = f"{prefix}-{base}" if prefix else base
        room_url = f"{self.url}/{name}"
        meeting: dict[str, Any] = {
            "meetingId": str(self._next_meeting),
            "roomName": f"/{name}",
            "roomUrl": room_url,
            "startDate": iso(now),
            "endDate": iso(end),
            "hostRoomUrl": f"{room_url}?roomKey={secrets.token_urlsafe(12)}",
            "viewerRoomUrl": f"{room_url}?viewerKey={secrets.token_urlsafe(12)}",
            "_options": {k: body[k] for k in ("recording", "liveTranscription") if k in body},
        }
        room = Room(name, meeting, now, end)
        self.rooms[name] = room
        self.meetings[meeting["meetingId"]] = room
        return meeting

    def _live_meeting(self, meeting_id: str) -> Room | None:
        room = self.meetings.get(meeting_id)
        if room is None or room.end_at is None:
            return room
        # Whereby deletes a room an hour after its end date.
        return room if self._wall() <= room.end_at + _ROOM_LIFETIME_AFTER_END else None

    async def _get_meeting(self, request: web.Request) -> web.Response:
        room = self._live_meeting(request.match_info["id"])
        if room is None or room.meeting is None:
            return _error(404, "Meeting not found")
        fields = [f for f in request.query.get("fields", "").split(",") if f]
        return web.json_response(_meeting_view(room.meeting, fields))

    async def _list_meetings(self, request: web.Request) -> web.Response:
        fields = [f for f in request.query.get("fields", "").split(",") if f]
        items = [
            _meeting_view(room.meeting, fields)
            for meeting_id, room in self.meetings.items()
            if room.meeting is not None and self._live_meeting(meeting_id) is not None
        ]
        return _page(request, items, default_limit=50)

    async def _delete_meeting(self, request: web.Request) -> web.Response:
        # Idempotent, as documented: 204 whether or not the meeting (still) exists.
        room = self.meetings.pop(request.match_info["id"], None)
        if room is not None:
            self.rooms.pop(room.name, None)
        return web.Response(status=204)

    # --- recordings -------------------------------------------------------------------------

    async def _list_recordings(self, request: web.Request) -> web.Response:
        wanted = request.query.get("roomName")
        items = [
            r
            for r in self.recordings.values()
            if wanted is None or _room_key(r["_roomName"]) == _room_key(wanted)
        ]
        return _page(request, [_public(r) for r in items], default_limit=50)

    async def _get_recording(self, request: web.Request) -> web.Response:
        recording = self.recordings.get(request.match_info["id"])
        if recording is None:
            return _error(404, "Recording not found")
        return web.json_response(_public(recording))

    async def _delete_recording(self, request: web.Request) -> web.Response:
        self.recordings.pop(request.match_info["id"], None)
        return web.Response(status=204)

    async def _recording_link(self, request: web.Request) -> web.Response:
        if request.match_info["id"] not in self.recordings:
            return _error(404, "Recording not found")
        return self._access_link(request, "recordings")

    def _access_link(self, request: web.Request, kind: str) -> web.Response:
        try:
            valid = int(request.query.get("validForSeconds", "3600"))
        except ValueError:
            valid = 0
        if not 1 <= valid <= 43200:
            return _error(400, "validForSeconds must be between 1 and 43200")
        expires = int((self._wall() + valid) * 1000)
        link = f"{self.url}/files/{kind}/{request.match_info['id']}?expires={expires}"
        return web.json_response({"accessLink": link, "expires": expires})

    async def _file(self, request: web.Request) -> web.Response:
        kind, item = request.match_info["kind"], request.match_info["id"]
        try:
            expired = int(request.query.get("expires", "0")) < self._wall() * 1000
        except ValueError:
            expired = True
        if expired:
            return _error(403, "Access link expired")
        if kind == "transcriptions" and item in self.transcripts:
            return web.Response(text=self.transcripts[item], content_type="text/markdown")
        if kind == "recordings" and item in self.recordings:
            return web.Response(body=b"\x00\x00\x00\x18ftypmp42", content_type="video/mp4")
        return _error(404, "Not found")

    # --- transcriptions ---------------------------------------------------------------------

    async def _create_transcription(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        recording = self.recordings.get(str(body.get("recordingId", "")))
        if recording is None:
            return _error(404, "Recording not found")
        record = self._new_transcription(
            room_name=recording["_roomName"],
            room_session_id=recording["roomSessionId"],
            recording_id=recording["recordingId"],
            kind="RECORDING_TRANSCRIPTION",
        )
        self.emit(
            "transcription.started",
            {"transcriptionId": record["transcriptionId"], "recordingId": recording["recordingId"]},
        )
        if self.transcription_delay is not None:
            self._later(self.transcription_delay, self._complete, record["transcriptionId"])
        return web.json_response({"transcriptionId": record["transcriptionId"]}, status=201)

    async def _list_transcriptions(self, request: web.Request) -> web.Response:
        return _page(request, [_public(t) for t in self.transcriptions.values()], 50)

    async def _get_transcription(self, request: web.Request) -> web.Response:
        record = self.transcriptions.get(request.match_info["id"])
        if record is None:
            return _error(404, "Transcription not found")
        return web.json_response(_public(record))

    async def _transcription_link(self, request: web.Request) -> web.Response:
        record = self.transcriptions.get(request.match_info["id"])
        if record is None:
            return _error(404, "Transcription not found")
        if record["state"] != "ready":
            return _error(404, "Transcription file not available")
        return self._access_link(request, "transcriptions")

    # --- summaries --------------------------------------------------------------------------

    async def _create_summary(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        transcription = self.transcriptions.get(str(body.get("transcriptionId", "")))
        if transcription is None:
            return _error(404, "Transcription not found")
        if transcription["state"] != "ready":
            return _error(400, "Transcription is not ready")
        template = body.get("template", "General Narrative")
        if template not in SUMMARY_TEMPLATES:
            return _error(400, f"Unknown template {template!r}")
        now = self._wall()
        record: dict[str, Any] = {
            "summaryId": str(uuid.uuid4()),
            "transcriptionId": transcription["transcriptionId"],
            "summary": None,
            "roomSessionId": transcription["roomSessionId"],
            "roomName": transcription["roomName"],
            "startDate": transcription["startDate"],
            "endDate": transcription["endDate"],
            "state": "in_progress",
            "createdAt": iso(now),
            "modifiedAt": iso(now),
            "template": template,
        }
        self.summaries[record["summaryId"]] = SummaryJob(record, self._clock())
        return web.json_response({"summaryId": record["summaryId"]}, status=201)

    def _advance_summary(self, job: SummaryJob) -> dict[str, Any]:
        record = job.record
        if record["state"] != "in_progress" or self.summary_never:
            return record
        after_gets, after_seconds = self.summary_after_gets, self.summary_after_seconds
        due = (after_gets is None and after_seconds is None) or (
            (after_gets is not None and job.gets >= after_gets)
            or (after_seconds is not None and self._clock() - job.created >= after_seconds)
        )
        if due:
            record["modifiedAt"] = iso(self._wall())
            if self.summary_fails:
                record["state"] = "failed"
            else:
                record["state"] = "ready"
                record["summary"] = {"summary": self.summary_text}
        return record

    async def _list_summaries(self, request: web.Request) -> web.Response:
        items = [self._advance_summary(job) for job in self.summaries.values()]
        return _page(request, items, 50)

    async def _get_summary(self, request: web.Request) -> web.Response:
        job = self.summaries.get(request.match_info["id"])
        if job is None:
            return _error(404, "Summary not found")
        job.gets += 1
        return web.json_response(self._advance_summary(job))

    def configure_summaries(
        self,
        *,
        after_gets: int | None = 2,
        after_seconds: float | None = None,
        never: bool = False,
        fail: bool = False,
        text: str | None = None,
    ) -> None:
        """Summaries become ready after ``after_gets`` GETs or ``after_seconds`` seconds,
        whichever comes first (both ``None``: at once), or ``never``; ``fail`` makes them
        end ``failed`` instead."""
        self.summary_after_gets = after_gets
        self.summary_after_seconds = after_seconds
        self.summary_never = never
        self.summary_fails = fail
        if text is not None:
            self.summary_text = text

    # --- insights ---------------------------------------------------------------------------

    async def _insights_rooms(self, request: web.Request) -> web.Response:
        exact = request.query.get("roomName[exact]")
        starts = request.query.get("roomName[startsWith]")
        items = []
        for room in self.rooms.values():
            if exact is not None and room.name != _room_key(exact):
                continue
            if starts is not None and not room.name.startswith(_room_key(starts)):
                continue
            items.append(self._room_insight(room))
        return _page(request, items, default_limit=10)

    def _room_insight(self, room: Room) -> dict[str, Any]:
        started = [s.created_at for s in room.sessions if s.started]
        people = [p for s in room.sessions for p in s.participants]
        return {
            "roomName": room.room_name,
            "createdAt": iso(room.created_at),
            "endAt": iso(room.end_at) if room.end_at is not None else None,
            "firstSessionStartedAt": iso(min(started)) if started else None,
            "lastSessionStartedAt": iso(max(started)) if started else None,
            "totalParticipantMinutes": sum(self._minutes(p) for p in people),
            "totalRecorderMinutes": 0,
            "totalStreamerMinutes": 0,
            "totalUniqueParticipants": len({p.user_id for p in people}),
            "totalUniqueRecorders": 0,
            "totalUniqueStreamers": 0,
            "totalSessions": len(started),
        }

    def _minutes(self, participant: Participant) -> int:
        until = participant.left_at if participant.left_at is not None else self._wall()
        return max(1, math.ceil((until - participant.joined_at) / 60))

    async def _insights_room_sessions(self, request: web.Request) -> web.Response:
        wanted = request.query.get("roomName")
        if not wanted:
            return _error(400, "roomName is required")
        room = self.rooms.get(_room_key(wanted))
        if room is None:
            return _page(request, [], default_limit=10)
        session_id = request.query.get("roomSessionId")
        items = [
            {
                "roomSessionId": s.room_session_id,
                "roomName": room.room_name,
                "startedAt": iso(s.created_at),
                "endedAt": iso(s.ended_at) if s.ended_at is not None else None,
                "totalParticipantMinutes": sum(self._minutes(p) for p in s.participants),
                "totalRecorderMinutes": 0,
                "totalStreamerMinutes": 0,
                "totalUniqueParticipants": len({p.user_id for p in s.participants}),
                "totalUniqueRecorders": 0,
                "totalUniqueStreamers": 0,
            }
            for s in room.sessions
            if session_id is None or s.room_session_id == session_id
        ]
        return _page(request, items, default_limit=10)

    async def _insights_participants(self, request: web.Request) -> web.Response:
        session_id = request.query.get("roomSessionId")
        external_id = request.query.get("externalId")
        if not session_id and not external_id:
            return _error(400, "roomSessionId or externalId is required")
        items = [
            p.insight(s.room_session_id)
            for room in self.rooms.values()
            for s in room.sessions
            for p in s.participants
            if (not session_id or s.room_session_id == session_id)
            and (not external_id or p.external_id == external_id)
        ]
        return _page(request, items, default_limit=10)

    # --- what happens in rooms ---------------------------------------------------------------

    def room(self, room_name: str) -> Room:
        """The room named ``room_name`` (with or without its leading ``/``).

        Raises:
            KeyError: no such room.
        """
        return self.rooms[_room_key(room_name)]

    def _session_of(self, room: Room) -> Session:
        session = room.current()
        if session is None:
            session = Session(str(uuid.uuid4()), self._wall())
            room.sessions.append(session)
        return session

    def _room_data(self, room: Room) -> dict[str, Any]:
        data: dict[str, Any] = {"roomName": room.room_name}
        if room.meeting_id is not None:
            data["meetingId"] = room.meeting_id
        return data

    def start_session(self, room_name: str) -> str:
        """Start the room's session (sends ``room.session.started``); returns its id."""
        room = self.room(room_name)
        session = self._session_of(room)
        if not session.started:
            session.started = True
            data = self._room_data(room) | {"roomSessionId": session.room_session_id}
            self.emit("room.session.started", data)
        return session.room_session_id

    def end_session(self, room_name: str) -> str:
        """End the room's session (sends ``room.session.ended``); returns its id.

        Raises:
            KeyError: the room does not exist.
            LookupError: no session is running in it.
        """
        room = self.room(room_name)
        session = room.current()
        if session is None:
            raise LookupError(f"no session in {room.room_name}")
        now = self._wall()
        for participant in session.present():
            participant.left_at = now
        session.ended_at = now
        data = self._room_data(room) | {"roomSessionId": session.room_session_id}
        self.emit("room.session.ended", data)
        return session.room_session_id

    def client_joined(
        self,
        room_name: str,
        display_name: str = "Guest",
        *,
        role_name: str = "visitor",
        external_id: str | None = None,
        metadata: str | None = None,
    ) -> str:
        """Someone joins (sends ``room.client.joined``); returns their ``participantId``."""
        room = self.room(room_name)
        session = self._session_of(room)
        participant = Participant(
            str(uuid.uuid4()), display_name, role_name, self._wall(), external_id, metadata
        )
        session.participants.append(participant)
        self.emit("room.client.joined", self._client_data(room, session, participant))
        return participant.participant_id

    def client_left(self, room_name: str, participant_id: str | None = None) -> str:
        """Someone leaves (the given participant, else the latest to join); sends
        ``room.client.left`` and returns their ``participantId``.

        Raises:
            KeyError: the room does not exist.
            LookupError: nobody (with that id) is in the room.
        """
        room = self.room(room_name)
        session = room.current()
        present = session.present() if session is not None else []
        chosen = [p for p in present if participant_id in (None, p.participant_id)]
        if session is None or not chosen:
            raise LookupError(f"nobody to leave {room.room_name}")
        participant = chosen[-1]
        participant.left_at = self._wall()
        self.emit("room.client.left", self._client_data(room, session, participant))
        return participant.participant_id

    def client_knocked(
        self, room_name: str, display_name: str = "Guest", *, cancelled: bool = False
    ) -> None:
        """A visitor knocks (or gives up knocking) at a locked room."""
        room = self.room(room_name)
        data = self._room_data(room) | {"displayName": display_name}
        self.emit("room.client.knockCancelled" if cancelled else "room.client.knocked", data)

    def _client_data(
        self, room: Room, session: Session, participant: Participant
    ) -> dict[str, Any]:
        present = session.present()
        by_role: dict[str, int] = {}
        for p in present:
            by_role[p.role_name] = by_role.get(p.role_name, 0) + 1
        data = self._room_data(room) | {
            "roomSessionId": session.room_session_id,
            "participantId": participant.participant_id,
            "displayName": participant.display_name,
            "roleName": participant.role_name,
            "numClients": len(present),
            "numClientsByRoleName": by_role,
        }
        if participant.metadata is not None:
            data["metadata"] = participant.metadata
        if participant.external_id is not None:
            data["externalId"] = participant.external_id
        return data

    def finish_recording(
        self, room_name: str, *, duration_seconds: float = 600.0, size_mb: float = 42.0
    ) -> dict[str, Any]:
        """A cloud recording of the room's latest session is uploaded; sends
        ``recording.finished`` (which has no ``meetingId``) and returns the recording."""
        room = self.room(room_name)
        session = room.sessions[-1] if room.sessions else self._session_of(room)
        end = session.ended_at or self._wall()
        recording: dict[str, Any] = {
            "recordingId": str(uuid.uuid4()),
            "roomSessionId": session.room_session_id,
            "_roomName": room.room_name,  # not in Whereby's Recording schema; kept for filters
            "filename": f"{room.name}_{datetime.fromtimestamp(end, UTC):%Y-%m-%dT%H-%M-%S}.mp4",
            "startDate": iso(end - duration_seconds),
            "endDate": iso(end),
            "sizeInMegaBytes": size_mb,
        }
        self.recordings[recording["recordingId"]] = recording
        self.emit(
            "recording.finished",
            {
                "recordingId": recording["recordingId"],
                "roomName": room.room_name,
                "filename": recording["filename"],
                "status": "completed",
            },
        )
        return _public(recording)

    def _new_transcription(
        self, *, room_name: str, room_session_id: str, recording_id: str | None, kind: str
    ) -> dict[str, Any]:
        now = self._wall()
        recording = self.recordings.get(recording_id or "")
        record: dict[str, Any] = {
            "transcriptionId": str(uuid.uuid4()),
            "roomSessionId": room_session_id,
            "filename": "transcription.md",
            "roomName": room_name,
            "startDate": recording["startDate"] if recording else iso(now),
            "endDate": recording["endDate"] if recording else iso(now),
            "state": "in_progress",
            "createdAt": iso(now),
            "type": kind,
            "_recordingId": recording_id,
        }
        self.transcriptions[record["transcriptionId"]] = record
        return record

    def _pending_transcription(self, room: Room) -> dict[str, Any]:
        for record in reversed(self.transcriptions.values()):
            if _room_key(record["roomName"]) == room.name and record["state"] == "in_progress":
                return record
        session = room.sessions[-1] if room.sessions else self._session_of(room)
        return self._new_transcription(
            room_name=room.room_name,
            room_session_id=session.room_session_id,
            recording_id=None,
            kind="SESSION_TRANSCRIPTION",
        )

    def finish_transcription(self, room_name: str, *, text: str | None = None) -> dict[str, Any]:
        """The room's pending transcription (one requested with ``POST /transcriptions``, or a
        new session transcription) becomes ``ready``; sends ``transcription.finished``."""
        record = self._pending_transcription(self.room(room_name))
        return self._complete(record["transcriptionId"], text)

    def fail_transcription(
        self, room_name: str, *, error: str = "Transcription failed"
    ) -> dict[str, Any]:
        """The room's pending transcription fails; sends ``transcription.failed``."""
        record = self._pending_transcription(self.room(room_name))
        record["state"] = "failed"
        self.emit(
            "transcription.failed", {"transcriptionId": record["transcriptionId"], "error": error}
        )
        return _public(record)

    def _complete(self, transcription_id: str, text: str | None = None) -> dict[str, Any]:
        record = self.transcriptions[transcription_id]
        if record["state"] == "in_progress":
            record["state"] = "ready"
            self.transcripts[transcription_id] = text or self._transcript(record)
            data: dict[str, Any] = {"transcriptionId": transcription_id}
            if record["_recordingId"]:
                data["recordingId"] = record["_recordingId"]
            start = _parse_date(record["startDate"]) or 0.0
            end = _parse_date(record["endDate"]) or start
            data["durationInSeconds"] = round(end - start)
            self.emit("transcription.finished", data)
        return _public(record)

    def _transcript(self, record: Mapping[str, Any]) -> str:
        room = self.rooms.get(_room_key(record["roomName"]))
        names = [
            p.display_name
            for s in (room.sessions if room else [])
            if s.room_session_id == record["roomSessionId"]
            for p in s.participants
        ] or ["Speaker 1", "Speaker 2"]
        lines = [
            "Let's go through the launch plan.",
            "I will draft the announcement by Friday.",
            "Then I will book the venue and tell the team.",
        ]
        return "\n\n".join(f"**{names[i % len(names)]}**: {line}" for i, line in enumerate(lines))

    def _later(self, delay: float, callback: Callable[..., Any], *args: Any) -> None:
        def run() -> None:
            self._timers.discard(handle)
            callback(*args)

        handle = asyncio.get_running_loop().call_later(delay, run)
        self._timers.add(handle)

    # --- webhooks ---------------------------------------------------------------------------

    def configure_webhook(self, url: str | None, secret: str) -> None:
        """Deliver events to ``url`` signed with ``secret`` (``None`` stops delivering)."""
        self.webhook_url = url
        self.webhook_secret = secret

    def duplicate_webhooks(self, times: int = 2) -> None:
        """Deliver every event ``times`` times (Whereby may repeat deliveries)."""
        self.outbox.copies = max(1, times)

    def hold(self) -> None:
        """Keep events back until :meth:`release`."""
        self.outbox.hold()

    def release(self, order: ReleaseOrder = "fifo", *, seed: int | None = None) -> None:
        """Deliver the events held back, in order, reversed, or shuffled (with ``seed``)."""
        self.outbox.release(order, seed=seed)

    def emit(self, event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Record an event and deliver it (unless held); any type, for what is not modelled."""
        event = {
            "id": secrets.token_hex(32),
            "apiVersion": "1.0",
            "createdAt": iso(self._wall()),
            "type": event_type,
            "data": dict(data),
        }
        self.events.append(event)
        if self.webhook_url:
            self.outbox.submit(
                self.webhook_url,
                json.dumps(event, separators=(",", ":")).encode(),
                {},
                meta={"type": event_type},
                sign=self._signed_headers,
            )
        return event

    def _signed_headers(self, body: bytes) -> dict[str, str]:
        # Signed again before each attempt, as Whereby does: the signature covers the time.
        return {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(body, self.webhook_secret, int(self._wall())),
        }

    def events_of(self, event_type: str) -> list[dict[str, Any]]:
        """The events of one type emitted so far."""
        return [e for e in self.events if e["type"] == event_type]

    async def settle(self) -> None:
        """Wait until every queued delivery has been attempted (held ones excepted)."""
        await self.outbox.settle()

    # --- sandbox control --------------------------------------------------------------------

    def configure_budget(
        self,
        *,
        points: int | None = None,
        window: float | None = None,
        mode: WindowMode | None = None,
    ) -> None:
        """Change the organisation's budget; spending starts again from zero."""
        self.budget = OrganisationBudget(
            points if points is not None else self.budget.points,
            window if window is not None else self.budget.window,
            mode if mode is not None else self.budget.mode,
            self._clock,
        )

    def state(self) -> dict[str, Any]:
        """Everything the sandbox page shows."""
        return {
            "budget": self.budget.state(),
            "webhook": {"url": self.webhook_url, "held": self.outbox.held},
            "meetings": [
                _meeting_view(r.meeting, ["hostRoomUrl"])
                for r in self.meetings.values()
                if r.meeting is not None
            ],
            "recordings": [_public(r) for r in self.recordings.values()],
            "transcriptions": [_public(t) for t in self.transcriptions.values()],
            "summaries": [job.record for job in self.summaries.values()],
            "events": self.events[-50:],
        }

    async def _control_state(self, request: web.Request) -> web.Response:
        return web.json_response(self.state())

    async def _control_webhook(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        self.configure_webhook(body.get("url"), str(body.get("secret", "")))
        return web.json_response({"ok": True})

    async def _control_hold(self, request: web.Request) -> web.Response:
        self.hold()
        return web.json_response({"ok": True})

    async def _control_release(self, request: web.Request) -> web.Response:
        body = await _json_body(request, required=False)
        if isinstance(body, web.Response):
            return body
        order = body.get("order", "fifo")
        if order not in ("fifo", "reversed", "shuffled"):
            return _error(400, "order must be fifo, reversed or shuffled")
        self.release(order, seed=body.get("seed"))
        return web.json_response({"ok": True})

    async def _control_duplicates(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        self.duplicate_webhooks(int(body.get("times", 2)))
        return web.json_response({"ok": True})

    async def _control_budget(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        mode = body.get("mode")
        if mode not in (None, "fixed", "sliding"):
            return _error(400, "mode must be fixed or sliding")
        self.configure_budget(points=body.get("points"), window=body.get("window"), mode=mode)
        return web.json_response(self.budget.state())

    async def _control_summaries(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        self.configure_summaries(
            after_gets=body.get("afterGets"),
            after_seconds=body.get("afterSeconds"),
            never=bool(body.get("never", False)),
            fail=bool(body.get("fail", False)),
            text=body.get("text"),
        )
        return web.json_response({"ok": True})

    async def _control_room(self, request: web.Request) -> web.Response:
        room, action = request.match_info["room"], request.match_info["action"]
        body = await _json_body(request, required=False)
        if isinstance(body, web.Response):
            return body
        try:
            result: Any
            if action == "session/start":
                result = {"roomSessionId": self.start_session(room)}
            elif action == "session/end":
                result = {"roomSessionId": self.end_session(room)}
            elif action == "clients":
                participant_id = self.client_joined(
                    room,
                    str(body.get("displayName", "Guest")),
                    role_name=str(body.get("roleName", "visitor")),
                    external_id=body.get("externalId"),
                    metadata=body.get("metadata"),
                )
                result = {"participantId": participant_id}
            elif action == "clients/leave":
                result = {"participantId": self.client_left(room, body.get("participantId"))}
            elif action == "knock":
                self.client_knocked(room, str(body.get("displayName", "Guest")))
                result = {"ok": True}
            elif action == "recording/finish":
                result = self.finish_recording(room)
            elif action == "transcription/finish":
                result = self.finish_transcription(room, text=body.get("text"))
            elif action == "transcription/fail":
                result = self.fail_transcription(room, error=body.get("error", "failed"))
            else:
                return _error(404, f"unknown action {action!r}")
        except KeyError:
            return _error(404, f"no room {room!r}")
        except LookupError as exc:
            return _error(409, str(exc))
        return web.json_response(result)

    async def _room_page(self, request: web.Request) -> web.Response:
        room = self.rooms.get(request.match_info["room"])
        if room is None:
            return web.Response(status=404, text="This room does not exist (or has expired).")
        return web.Response(
            text=f"<!doctype html><title>Whereby room {room.room_name}</title>"
            f"<h1>Whereby stand-in room {room.room_name}</h1>",
            content_type="text/html",
        )


# --- helpers --------------------------------------------------------------------------------


def _error(status: int, message: str | None) -> web.Response:
    return web.json_response({"error": message or "Error"}, status=status)


async def _json_body(
    request: web.Request, *, required: bool = True
) -> dict[str, Any] | web.Response:
    raw = await request.read()
    if not raw:
        return _error(400, "a JSON body is required") if required else {}
    try:
        body = json.loads(raw)
    except ValueError:
        return _error(400, "the body is not valid JSON")
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object")
    return body


def _parse_date(value: object) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _meeting_view(meeting: Mapping[str, Any], fields: list[str]) -> dict[str, Any]:
    view = {k: meeting[k] for k in ("meetingId", "roomName", "roomUrl", "startDate", "endDate")}
    for extra in ("hostRoomUrl", "viewerRoomUrl"):
        if extra in fields:
            view[extra] = meeting[extra]
    return view


def _public(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def _page(request: web.Request, items: list[dict[str, Any]], default_limit: int) -> web.Response:
    try:
        limit = int(request.query.get("limit", default_limit))
        cursor = request.query.get("cursor")
        offset = int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
    except ValueError:
        return _error(400, "invalid limit or cursor")
    if not 1 <= limit <= 100 or offset < 0:
        return _error(400, "limit must be between 1 and 100")
    end = offset + limit
    next_cursor = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return web.json_response({"results": items[offset:end], "cursor": next_cursor})


class WherebyPlugin(StandInPlugin[WherebyStandIn]):
    """Whereby's stand-in in a World: a generated API key and webhook secret, and the app's
    budget set to the organisation's."""

    title = "Whereby"
    state_path = "whereby/state"

    def __init__(self, server: WherebyStandIn, api_key: str) -> None:
        super().__init__(server)
        self.api_key = api_key
        self.webhook_secret = secrets.token_hex(16)

    @classmethod
    def create(cls, setup: Setup, **options: Any) -> WherebyPlugin:
        api_key = "sandbox-whereby-" + secrets.token_hex(8)
        return cls(WherebyStandIn(api_keys=(api_key,), lock=setup.lock, **options), api_key)

    def settings(self) -> dict[str, Any]:
        return {
            "whereby_api_key": self.api_key,
            "whereby_api_url": self.server.api_url,
            "whereby_webhook_secret": self.webhook_secret,
            "whereby_points_per_minute": self.server.budget.points,
        }

    async def connect(self, app: RunningApp) -> None:
        self.server.configure_webhook(
            f"{app.url}/webhooks/whereby", app.settings.secret("whereby_webhook_secret") or ""
        )
