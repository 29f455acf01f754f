"""Attendee's calendar API in the Attendee stand-in: calendars, a week of their events, syncs.

It behaves as the rules found in Attendee's code say (their list:
``tests/payloads/attendee/calendar/README.md``) and answers in the recorded shapes. Each
calendar has a *remote* side, what Google or Microsoft holds (:class:`Meeting`), and Attendee's
copy of it (:class:`_Event`, with the platform's own JSON in ``raw``). A sync does what
Attendee's ``sync_calendar`` task does: upsert the remote events in the window (a day ago to 28
days ahead) keyed by platform id, rewriting an event (and bumping its ``updated_at``) only when
its ``raw`` or link changed; mark local events the platform no longer has ``is_deleted``; move
or delete the still-``scheduled`` bots of changed events; then send ``calendar.events_update``
once, only if something changed. A revoked refresh token makes the next sync fail to
authenticate: the calendar's scheduled bots are deleted, it turns ``disconnected`` and
``calendar.state_change`` is sent. Disconnected calendars are not synced until PATCHed.

A new (or PATCHed) calendar syncs at once, in the background, as Attendee enqueues its task. Its
remote side starts with a plausible week (:func:`plausible_week`): a daily stand-up series with a
Meet link, a weekly 1:1 on Zoom, a customer call with outside attendees, a lunch without a link,
an all-day offsite, a Teams meeting organised by a vendor, one that already happened today and
one about to start. The sandbox's controls (:meth:`CalendarStandIn.move_event`,
:meth:`~CalendarStandIn.cancel_event`, :meth:`~CalendarStandIn.add_event`,
:meth:`~CalendarStandIn.revoke_token`, :meth:`~CalendarStandIn.reconnect`) change the remote side
and then sync, as a push notification from Google or Microsoft would make Attendee do.

Webhooks go out through the stand-in's one :class:`~sandbox.delivery.Deliveries` outbox, signed
as Attendee signs them. Known differences: no debounce (a change syncs at once), no periodic
24-hour re-sync, no offline/transient sync failures, offset cursors.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import string
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from providers.attendee.models import BotState, WebhookTrigger
from providers.attendee.webhooks import SIGNATURE_HEADER, sign

# The stand-in imports this module when it is made (not at import time), so these are loaded.
from sandbox.attendee import _error, _jsonb, _parse_datetime, _rest_time

if TYPE_CHECKING:
    from sandbox.attendee import AttendeeStandIn

CALENDAR_TRIGGERS = (WebhookTrigger.CALENDAR_EVENTS_UPDATE, WebhookTrigger.CALENDAR_STATE_CHANGE)
#: Attendee syncs from a day ago to ``CALENDAR_SYNC_TIME_WINDOW_END_DAYS`` (28) ahead.
WINDOW_BEFORE = timedelta(days=1)
WINDOW_AFTER = timedelta(days=28)
CALENDARS_PAGE = 25
EVENTS_PAGE = 100
ORDERINGS = (
    "-updated_at",
    "updated_at",
    "start_time",
    "-start_time",
    "end_time",
    "-end_time",
    "created_at",
    "-created_at",
)
# Declaration order of Attendee's serializers: DRF reports field errors in that order.
_CREATE_FIELDS = (
    "platform_uuid",
    "client_id",
    "client_secret",
    "refresh_token",
    "platform",
    "metadata",
    "deduplication_key",
)
_PATCH_FIELDS = ("client_secret", "refresh_token", "metadata")
_REQUIRED_CREATE = ("client_id", "client_secret", "refresh_token", "platform")
_PLATFORMS = ("google", "microsoft")
#: What Attendee records when the token endpoint answers ``invalid_grant``, by platform.
AUTH_ERRORS = {
    "google": (
        "Google Authentication error: {'error': 'invalid_grant', "
        "'error_description': 'Token has been expired or revoked.'}"
    ),
    "microsoft": (
        "Microsoft Authentication error: {'error': 'invalid_grant', 'error_description': "
        "'AADSTS70000: The provided grant has expired due to it being revoked, a fresh auth "
        "token is needed. The user might have changed or reset their password.', "
        "'error_codes': [70000]}"
    ),
}
#: The sandbox's people (its Slack workspace's), for owners known only by Slack user id.
PEOPLE = {
    "ada@example.com": "Ada Lovelace",
    "grace@example.com": "Grace Hopper",
    "alan@example.com": "Alan Turing",
    "katherine@example.com": "Katherine Johnson",
    "linus@example.com": "Linus Torvalds",
}
_DEFAULT_OWNER = "ada@example.com"
_ALNUM = string.ascii_letters + string.digits
_BAD_TIME = "Invalid {name} format. Use ISO 8601 format (e.g., {example})"
_EXAMPLES = {
    "updated_at_gte": "2025-01-13T10:30:00Z",
    "start_time_gte": "2025-01-13T10:30:00Z",
    "end_time_lte": "2025-01-13T18:00:00Z",
}

Clock = Callable[[], datetime]


def _new_id(prefix: str, taken: Iterable[str]) -> str:
    used = set(taken)
    while True:
        candidate = prefix + "".join(secrets.choice(_ALNUM) for _ in range(16))
        if candidate not in used:
            return candidate


def _metadata_error(value: Any) -> str | None:
    """Attendee's ``_validate_metadata_attribute``."""
    if value is None:
        return None
    if not isinstance(value, dict):
        return "Metadata must be an object not an array or other type"
    if not value:
        return "Metadata must have at least one key"
    return None


def _encode_offset(reverse: bool, offset: int) -> str:
    raw = f"r=1&o={offset}" if reverse else f"o={offset}"
    return base64.b64encode(raw.encode()).decode()


def _decode_offset(cursor: str) -> tuple[bool, int]:
    """``(reverse, offset)``; ``ValueError`` when it is not one of ours."""
    try:
        raw = base64.b64decode(cursor, validate=True).decode()
        fields = dict(part.split("=", 1) for part in raw.split("&"))
        offset = int(fields["o"])
    except (ValueError, KeyError, UnicodeDecodeError):
        raise ValueError("invalid cursor") from None
    if offset < 0:
        raise ValueError("invalid cursor")
    return fields.get("r") == "1", offset


# --- the platform's side: what Google or Microsoft holds ------------------------------------


@dataclass
class Person:
    email: str
    name: str | None
    #: Google's ``responseStatus``: accepted, declined, tentative, needsAction.
    response: str = "needsAction"


@dataclass
class Meeting:
    """One event as the calendar platform holds it (a recurring series is one per occurrence)."""

    uid: str
    title: str
    start: datetime
    end: datetime
    organizer: Person
    attendees: list[Person]
    link: str | None = None
    series: str | None = None
    all_day: bool = False
    cancelled: bool = False
    location: str = ""
    description: str = ""
    created: datetime | None = None
    updated: datetime | None = None
    sequence: int = 0

    def touch(self, now: datetime) -> None:
        """What the platform does on every change: a new ``updated`` and ``sequence``."""
        self.updated = now
        self.sequence += 1


def _meet(code: str) -> str:
    return f"https://meet.google.com/{code}"


def plausible_week(now: datetime, owner_email: str, owner_name: str | None) -> list[Meeting]:
    """A week of someone's meetings from ``now``: the events a freshly connected calendar has."""
    domain = owner_email.split("@", 1)[-1]
    me = Person(owner_email, owner_name, "accepted")
    grace = Person(f"grace@{domain}", "Grace Hopper", "accepted")
    alan = Person(f"alan@{domain}", "Alan Turing", "accepted")
    katherine = Person(f"katherine@{domain}", "Katherine Johnson", "tentative")
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    created = now - timedelta(days=3)
    meetings: list[Meeting] = []

    def add(uid: str, title: str, start: datetime, minutes: int, **kw: Any) -> None:
        meetings.append(
            Meeting(
                uid=uid,
                title=title,
                start=start,
                end=start + timedelta(minutes=minutes),
                created=created,
                updated=created,
                **kw,
            )
        )

    # A daily stand-up (organised by a colleague), every weekday of the week.
    for offset in range(7):
        start = day + timedelta(days=offset, hours=9, minutes=30)
        if start.weekday() < 5:
            add(
                f"standupseries01_{start:%Y%m%dT%H%M%SZ}",
                "Daily stand-up",
                start,
                15,
                organizer=replace(grace, response="accepted"),
                attendees=[grace, me, alan, katherine],
                link=_meet("std-updl-ily"),
                series="standupseries01",
                description="Yesterday, today, blockers.",
            )
    # Something that already happened today, and something about to start.
    earlier = now - timedelta(hours=3, minutes=now.minute % 30)
    earlier = earlier.replace(second=0, microsecond=0)
    add(
        "roadmapplanning01",
        "Roadmap planning",
        earlier,
        30,
        organizer=me,
        attendees=[me, grace, alan],
        link=_meet("rdm-plan-nin"),
    )
    soon = (now + timedelta(minutes=15)).replace(second=0, microsecond=0)
    soon -= timedelta(minutes=soon.minute % 5)
    add(
        "designreview0001",
        "Design review: calendar autopilot",
        soon,
        30,
        organizer=me,
        attendees=[me, alan, katherine],
        link=_meet("dsg-nrev-iew"),
        description="Walk through the calendar autopilot design.",
    )
    # A weekly 1:1 on Zoom, organised by the owner.
    add(
        f"oneonone0grace01_{day + timedelta(days=1, hours=14):%Y%m%dT%H%M%SZ}",
        f"{(owner_name or 'Me').split()[0]} / Grace 1:1",
        day + timedelta(days=1, hours=14),
        30,
        organizer=me,
        attendees=[me, grace],
        link="https://us06web.zoom.us/j/81234567890?pwd=b25lb25vbmU",
        location="https://us06web.zoom.us/j/81234567890?pwd=b25lb25vbmU",
        series="oneonone0grace01",
    )
    # Lunch in a room: no link to join.
    add(
        "teamlunch0000001",
        "Team lunch",
        day + timedelta(days=1, hours=12),
        60,
        organizer=replace(alan, response="accepted"),
        attendees=[alan, me, grace, katherine],
        location="Cafeteria, 2nd floor",
    )
    # A customer call with people from outside the company.
    add(
        "northwindpilot01",
        "Northwind pilot kickoff",
        day + timedelta(days=2, hours=16),
        45,
        organizer=me,
        attendees=[
            me,
            katherine,
            Person("dana.scully@northwind.example", "Dana Scully", "accepted"),
            Person("lee.adama@northwind.example", None, "needsAction"),
        ],
        link="https://us06web.zoom.us/j/89876543210?pwd=bm9ydGh3aW5k",
        location="https://us06web.zoom.us/j/89876543210?pwd=bm9ydGh3aW5k",
        description="Pilot scope, timeline, security questions.",
    )
    # A Teams meeting a vendor organised; the owner has not quite said yes.
    add(
        "contosovendor001",
        "Contoso vendor sync",
        day + timedelta(days=2, hours=10),
        30,
        organizer=Person("sam.carter@contoso.example", "Sam Carter", "accepted"),
        attendees=[
            Person("sam.carter@contoso.example", "Sam Carter", "accepted"),
            replace(me, response="tentative"),
            grace,
        ],
        link="https://teams.microsoft.com/l/meetup-join/19%3ameeting_Q29udG9zb0%40thread.v2/0",
        description="Microsoft Teams meeting. Join: "
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_Q29udG9zb0%40thread.v2/0",
    )
    # An all-day offsite.
    add(
        "companyoffsite01",
        "Company offsite",
        day + timedelta(days=3),
        24 * 60,
        organizer=replace(grace, response="accepted"),
        attendees=[grace, me, alan, katherine],
        all_day=True,
        location="Lakeside lodge",
    )
    return meetings


def _google_raw(m: Meeting, owner: str) -> dict[str, Any]:
    """The meeting as Google Calendar v3 lists it (``singleEvents=true``) to ``owner``."""

    def when(moment: datetime) -> dict[str, str]:
        if m.all_day:
            return {"date": moment.date().isoformat()}
        return {"dateTime": moment.isoformat().replace("+00:00", "Z"), "timeZone": "UTC"}

    def google_time(moment: datetime | None) -> str:
        return (moment or m.start).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    people = []
    for person in m.attendees:
        entry: dict[str, Any] = {"email": person.email, "responseStatus": person.response}
        if person.name:
            entry["displayName"] = person.name
        if person.email == m.organizer.email:
            entry["organizer"] = True
        if person.email == owner:
            entry["self"] = True
        people.append(entry)
    raw: dict[str, Any] = {
        "id": m.uid,
        "kind": "calendar#event",
        "etag": f'"{int((m.updated or m.start).timestamp() * 1000)}{m.sequence:03d}"',
        "status": "cancelled" if m.cancelled else "confirmed",
        "htmlLink": f"https://www.google.com/calendar/event?eid={m.uid}",
        "created": google_time(m.created),
        "updated": google_time(m.updated),
        "summary": m.title,
        "creator": {"email": m.organizer.email},
        "organizer": {"email": m.organizer.email},
        "start": when(m.start),
        "end": when(m.end),
        "iCalUID": f"{(m.series or m.uid)}@google.com",
        "sequence": m.sequence,
        "attendees": people,
        "reminders": {"useDefault": True},
        "eventType": "default",
    }
    if m.organizer.name:
        raw["organizer"]["displayName"] = m.organizer.name
    if m.organizer.email == owner:
        raw["creator"]["self"] = raw["organizer"]["self"] = True
    if m.series:
        raw["recurringEventId"] = m.series
        raw["originalStartTime"] = when(m.start)
    if m.description:
        raw["description"] = m.description
    if m.location:
        raw["location"] = m.location
    if m.link and m.link.startswith("https://meet.google.com/"):
        code = m.link.rsplit("/", 1)[-1]
        raw["hangoutLink"] = m.link
        raw["conferenceData"] = {
            "entryPoints": [
                {"uri": m.link, "label": m.link[8:], "entryPointType": "video"},
            ],
            "conferenceId": code,
            "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
        }
    elif m.link and m.link not in (m.location, m.description) and m.link not in m.description:
        raw["description"] = f"{m.description}\n\nJoin: {m.link}".strip()
    return _jsonb(raw)


def _microsoft_raw(m: Meeting) -> dict[str, Any]:
    """The meeting as Microsoft Graph's ``/me/calendarView`` lists it."""

    def when(moment: datetime) -> dict[str, str]:
        return {"dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}

    responses = {"needsAction": "none", "accepted": "accepted", "declined": "declined"}
    responses["tentative"] = "tentativelyAccepted"
    people = [
        {
            "type": "required",
            "status": {
                "time": "0001-01-01T00:00:00Z",
                "response": "organizer"
                if p.email == m.organizer.email
                else responses.get(p.response, "none"),
            },
            "emailAddress": {"name": p.name or p.email, "address": p.email},
        }
        for p in m.attendees
    ]
    teams = bool(m.link and m.link.startswith("https://teams.microsoft.com/"))
    body = m.description
    if m.link and not teams and m.link not in body:
        body = f'{body}<br><a href="{m.link}">Join the meeting</a>'.strip()
    raw: dict[str, Any] = {
        "id": m.uid,
        "@odata.etag": f'W/"{m.uid}-{m.sequence}"',
        "iCalUId": (m.series or m.uid).encode().hex().upper(),
        "subject": f"Canceled: {m.title}" if m.cancelled else m.title,
        "body": {"contentType": "html", "content": f"<html><body>{body}</body></html>"},
        "start": when(m.start),
        "end": when(m.end),
        "isAllDay": m.all_day,
        "isCancelled": m.cancelled,
        "location": {
            "displayName": "Microsoft Teams Meeting" if teams else m.location,
            "locationType": "default",
            "uniqueIdType": "unknown",
        },
        "attendees": people,
        "organizer": {"emailAddress": {"name": m.organizer.name, "address": m.organizer.email}},
        "seriesMasterId": m.series,
        "isOnlineMeeting": teams,
        "onlineMeeting": {"joinUrl": m.link} if teams else None,
        "onlineMeetingUrl": None,
        "onlineMeetingProvider": "teamsForBusiness" if teams else "unknown",
        "webLink": f"https://outlook.office365.com/owa/?itemid={m.uid}&exvsurl=1&path=/calendar/item",
        "lastModifiedDateTime": (m.updated or m.start).isoformat().replace("+00:00", "Z"),
    }
    return _jsonb(raw)


# --- Attendee's side -----------------------------------------------------------------------


@dataclass
class _Event:
    id: str
    seq: int
    calendar_id: str
    platform_uuid: str
    meeting_url: str | None
    start_time: datetime
    end_time: datetime
    is_deleted: bool
    attendees: list[dict[str, Any]]
    ical_uid: str | None
    name: str | None
    raw: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass
class _Calendar:
    id: str
    seq: int
    platform: str
    client_id: str
    client_secret: str
    refresh_token: str
    platform_uuid: str | None
    metadata: dict[str, Any] | None
    deduplication_key: str | None
    created_at: datetime
    updated_at: datetime
    state: str = "connected"
    connection_failure_data: dict[str, Any] | None = None
    last_successful_sync_at: datetime | None = None
    last_attempted_sync_at: datetime | None = None
    #: The platform's side: its events by platform id.
    remote: dict[str, Meeting] = field(default_factory=dict)
    #: Attendee's events of this calendar by platform id.
    events: dict[str, _Event] = field(default_factory=dict)

    def to_api(self, *, as_sent: bool = False) -> dict[str, Any]:
        # Right after a write Attendee echoes the metadata as given; read back, in jsonb order.
        metadata = self.metadata if as_sent else _jsonb(self.metadata)
        return {
            "id": self.id,
            "platform": self.platform,
            "client_id": self.client_id,
            "platform_uuid": self.platform_uuid,
            "state": self.state,
            "metadata": metadata,
            "deduplication_key": self.deduplication_key,
            "connection_failure_data": self.connection_failure_data,
            "created_at": _rest_time(self.created_at),
            "updated_at": _rest_time(self.updated_at),
            "last_successful_sync_at": _time_or_none(self.last_successful_sync_at),
            "last_attempted_sync_at": _time_or_none(self.last_attempted_sync_at),
        }


def _time_or_none(moment: datetime | None) -> str | None:
    return _rest_time(moment) if moment is not None else None


@dataclass
class SyncResult:
    """What one sync did (Attendee's ``sync_events`` summary)."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    #: Why it failed to authenticate (the calendar is now disconnected), if it did.
    error: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created_count": self.created,
            "updated_count": self.updated,
            "deleted_count": self.deleted,
            "error": self.error,
        }


class CalendarStandIn:
    """The calendar half of the Attendee stand-in; reached as ``attendee.calendars``.

    Args:
        host: the Attendee stand-in (its bots, clock, project webhooks and outbox).
        sync_delay: seconds between a POST/PATCH and the sync it starts (Attendee: a Celery task).
        week: the remote events a new calendar starts with, given ``(now, email, name)``.
    """

    def __init__(
        self,
        host: AttendeeStandIn,
        *,
        sync_delay: float = 0.0,
        week: Callable[[datetime, str, str | None], list[Meeting]] = plausible_week,
    ) -> None:
        self.host = host
        self.sync_delay = sync_delay
        self.week = week
        self.calendars: dict[str, _Calendar] = {}
        #: Refresh tokens Google or Microsoft no longer honour.
        self.revoked_tokens: set[str] = set()
        self._seq = 0

    def _now(self) -> datetime:
        return self.host._clock()

    # --- looking things up ------------------------------------------------------------------

    def calendar(self, calendar_id: str) -> dict[str, Any]:
        """A calendar as ``GET /calendars/{id}`` shows it."""
        return self._calendar(calendar_id).to_api()

    def events(self, calendar_id: str | None = None) -> list[dict[str, Any]]:
        """Events as ``GET /calendar_events`` shows them, by start time."""
        found = [
            e
            for c in self.calendars.values()
            if calendar_id is None or c.id == calendar_id
            for e in c.events.values()
        ]
        return [self._event_api(e) for e in sorted(found, key=lambda e: (e.start_time, e.seq))]

    def event(self, event_id: str) -> dict[str, Any]:
        return self._event_api(self._event(event_id)[1])

    def _calendar(self, calendar_id: str) -> _Calendar:
        try:
            return self.calendars[calendar_id]
        except KeyError:
            raise LookupError(f"no Attendee calendar {calendar_id}") from None

    def _event(self, event_id: str) -> tuple[_Calendar, _Event]:
        for calendar in self.calendars.values():
            for event in calendar.events.values():
                if event.id == event_id:
                    return calendar, event
        raise LookupError(f"no Attendee calendar event {event_id}")

    def _event_bots(self, event_id: str) -> list[Any]:
        return sorted(
            (b for b in self.host.bots.values() if b.calendar_event_id == event_id),
            key=lambda b: b.seq,
        )

    def _event_api(self, event: _Event) -> dict[str, Any]:
        return {
            "id": event.id,
            "calendar_id": event.calendar_id,
            "platform_uuid": event.platform_uuid,
            "meeting_url": event.meeting_url,
            "start_time": _rest_time(event.start_time),
            "end_time": _rest_time(event.end_time),
            "is_deleted": event.is_deleted,
            "attendees": [dict(a) for a in event.attendees],
            "ical_uid": event.ical_uid,
            "name": event.name,
            "raw": event.raw,
            "bots": [
                {**b.to_api(), "metadata": _jsonb(b.metadata)} for b in self._event_bots(event.id)
            ],
            "created_at": _rest_time(event.created_at),
            "updated_at": _rest_time(event.updated_at),
        }

    # --- bots made from events (the bot API asks) -------------------------------------------

    def bot_from_event(self, payload: dict[str, Any]) -> str | web.Response:
        """Attendee's ``initialize_bot_creation_data_from_calendar_event``: fill in the event's
        link and start as ``meeting_url`` and ``join_at``; returns the event id, or the 400."""
        event_id = payload["calendar_event_id"]
        try:
            _, event = self._event(str(event_id))
        except LookupError:
            return _error(f"Calendar event with id {event_id} does not exist in this project.")
        if payload.get("meeting_url"):
            return _error(
                "meeting_url should not be provided when calendar_event_id is specified. "
                "The meeting URL will be taken from the calendar event."
            )
        payload["meeting_url"] = event.meeting_url
        if payload.get("join_at"):
            return _error(
                "join_at should not be provided when calendar_event_id is specified. "
                "The join time will be taken from the calendar event."
            )
        payload["join_at"] = _rest_time(event.start_time)
        return event.id

    def _follow_event(self, event: _Event) -> None:
        """Attendee's ``sync_bots_for_calendar_event``: the event's still-scheduled bots are
        deleted when it is cancelled, otherwise moved to its link and start."""
        for bot in self._event_bots(event.id):
            if bot.state != BotState.SCHEDULED:
                continue  # a bot already on its way is left alone
            if event.is_deleted:
                del self.host.bots[bot.id]
            else:
                bot.meeting_url = event.meeting_url or bot.meeting_url
                bot.join_at = event.start_time

    def _delete_scheduled_bots(self, calendar: _Calendar) -> None:
        ids = {e.id for e in calendar.events.values()}
        for bot in list(self.host.bots.values()):
            if bot.calendar_event_id in ids and bot.state == BotState.SCHEDULED:
                del self.host.bots[bot.id]

    # --- syncing ----------------------------------------------------------------------------

    def sync(self, calendar_id: str) -> SyncResult:
        """Run Attendee's sync of one calendar now (whatever its state, as after a PATCH)."""
        calendar = self._calendar(calendar_id)
        now = self._now()
        if calendar.refresh_token in self.revoked_tokens:
            return self._fail_authentication(calendar, now)
        result = SyncResult()
        start, end = now - WINDOW_BEFORE, now + WINDOW_AFTER
        changed: list[_Event] = []
        seen: set[str] = set()
        for meeting in calendar.remote.values():
            if meeting.end <= start or meeting.start >= end:
                continue
            seen.add(meeting.uid)
            if self._upsert(calendar, meeting, now, result):
                changed.append(calendar.events[meeting.uid])
        for uid, event in calendar.events.items():
            in_window = event.end_time > start and event.start_time < end
            if event.is_deleted or not in_window or uid in seen:
                continue
            found = calendar.remote.get(uid)
            if found is not None:
                # Fetched by itself, it is found (moved out of the window): upserted.
                if self._upsert(calendar, found, now, result):
                    changed.append(event)
                continue
            # Fetched by itself, the platform answers 404: gone.
            event.is_deleted = True
            event.updated_at = now
            result.deleted += 1
            changed.append(event)
        for event in changed:
            self._follow_event(event)
        calendar.state = "connected"
        calendar.connection_failure_data = None
        calendar.last_successful_sync_at = calendar.last_attempted_sync_at = now
        calendar.updated_at = now
        if result.changed:
            self._emit(calendar, WebhookTrigger.CALENDAR_EVENTS_UPDATE)
        return result

    def _upsert(
        self, calendar: _Calendar, meeting: Meeting, now: datetime, result: SyncResult
    ) -> bool:
        """Attendee's upsert keyed by platform id; whether an existing event changed (only a
        different ``raw`` or link rewrites it, and bumps its ``updated_at``)."""
        fields = self._fields(calendar, meeting)
        event = calendar.events.get(meeting.uid)
        if event is None:
            self._seq += 1
            calendar.events[meeting.uid] = _Event(
                id=_new_id("evt_", self._event_ids()),
                seq=self._seq,
                calendar_id=calendar.id,
                platform_uuid=meeting.uid,
                created_at=now,
                updated_at=now,
                **fields,
            )
            result.created += 1
            return False
        if event.raw == fields["raw"] and event.meeting_url == fields["meeting_url"]:
            return False
        for name, value in fields.items():
            setattr(event, name, value)
        event.updated_at = now
        result.updated += 1
        return True

    def _fail_authentication(self, calendar: _Calendar, now: datetime) -> SyncResult:
        error = AUTH_ERRORS.get(calendar.platform, AUTH_ERRORS["google"])
        self._delete_scheduled_bots(calendar)
        calendar.state = "disconnected"
        calendar.connection_failure_data = {"error": error, "timestamp": now.isoformat()}
        calendar.updated_at = now
        self._emit(calendar, WebhookTrigger.CALENDAR_STATE_CHANGE)
        return SyncResult(error=error)

    def _fields(self, calendar: _Calendar, m: Meeting) -> dict[str, Any]:
        """Attendee's mapping of a platform event to its own row."""
        google = calendar.platform == "google"
        raw = _google_raw(m, self._owner(calendar).email) if google else _microsoft_raw(m)
        return {
            "meeting_url": m.link,
            "start_time": m.start,
            "end_time": m.end,
            "is_deleted": m.cancelled,
            "attendees": [_jsonb({"email": p.email, "name": p.name}) for p in m.attendees]
            if google
            else [_jsonb({"email": p.email, "name": p.name or p.email}) for p in m.attendees],
            "ical_uid": raw.get("iCalUID") or raw.get("iCalUId"),
            "name": raw.get("summary") if google else raw.get("subject"),
            "raw": raw,
        }

    def _event_ids(self) -> set[str]:
        return {e.id for c in self.calendars.values() for e in c.events.values()}

    def _sync_soon(self, calendar_id: str) -> None:
        """What POST and PATCH do: enqueue the sync (it runs after the answer is sent)."""

        async def later() -> None:
            await asyncio.sleep(self.sync_delay)
            if calendar_id in self.calendars:
                self.sync(calendar_id)

        self.host._spawn(later(), f"attendee-calendar-sync-{calendar_id}")

    def _emit(self, calendar: _Calendar, trigger: str) -> None:
        data = {
            "state": calendar.state,
            "connection_failure_data": calendar.connection_failure_data,
            "last_successful_sync_at": _time_or_none(calendar.last_successful_sync_at),
            "last_attempted_sync_at": _time_or_none(calendar.last_attempted_sync_at),
        }
        for subscription in self.host.project_webhooks:
            if trigger not in subscription.triggers:
                continue
            envelope = {
                "idempotency_key": str(uuid.uuid4()),
                "calendar_id": calendar.id,
                "calendar_deduplication_key": calendar.deduplication_key,
                "calendar_metadata": _jsonb(calendar.metadata),
                "trigger": str(trigger),
                "data": _jsonb(data),
            }
            self.host.outbox.submit(
                subscription.url,
                json.dumps(envelope).encode(),
                {
                    "Content-Type": "application/json",
                    "User-Agent": "Attendee-Webhook/1.0",
                    SIGNATURE_HEADER: sign(envelope, self.host.webhook_secret),
                },
                meta={"trigger": str(trigger), "bot_id": None, "calendar_id": calendar.id},
            )

    # --- the sandbox's controls -------------------------------------------------------------

    def _sync_if_connected(self, calendar: _Calendar) -> SyncResult | None:
        """A change on the platform pushes a notification; Attendee syncs connected calendars."""
        return self.sync(calendar.id) if calendar.state == "connected" else None

    def _meeting(self, event_id: str) -> tuple[_Calendar, Meeting]:
        calendar, event = self._event(event_id)
        meeting = calendar.remote.get(event.platform_uuid)
        if meeting is None:
            raise ValueError(f"event {event_id} is gone from the calendar")
        return calendar, meeting

    def move_event(self, event_id: str, minutes: int = 30) -> SyncResult | None:
        """The organiser moves the event by ``minutes``; the calendar syncs."""
        calendar, meeting = self._meeting(event_id)
        meeting.start += timedelta(minutes=minutes)
        meeting.end += timedelta(minutes=minutes)
        meeting.touch(self._now())
        return self._sync_if_connected(calendar)

    def cancel_event(self, event_id: str) -> SyncResult | None:
        """The organiser cancels the event (it stays, ``is_deleted``); the calendar syncs."""
        calendar, meeting = self._meeting(event_id)
        meeting.cancelled = True
        meeting.touch(self._now())
        return self._sync_if_connected(calendar)

    def delete_event(self, event_id: str) -> SyncResult | None:
        """The event vanishes from the platform (asked for, it answers 404)."""
        calendar, meeting = self._meeting(event_id)
        del calendar.remote[meeting.uid]
        return self._sync_if_connected(calendar)

    def add_event(
        self,
        calendar_id: str,
        *,
        title: str = "Quick sync",
        start: datetime | None = None,
        minutes: int = 30,
        link: str | None = "",
        attendees: Iterable[str] = (),
    ) -> tuple[str, SyncResult | None]:
        """Someone invites the owner to a new meeting (by default in 20 minutes, on a new Meet
        link; ``link=None`` for none); returns the platform id and the sync's result."""
        calendar = self._calendar(calendar_id)
        if link == "":
            code = [
                "".join(secrets.choice(string.ascii_lowercase) for _ in range(n)) for n in (3, 4, 3)
            ]
            link = _meet("-".join(code))
        now = self._now()
        if start is None:
            start = (now + timedelta(minutes=20)).replace(second=0, microsecond=0)
        owner = self._owner(calendar)
        people = [owner, *(Person(email, PEOPLE.get(email), "needsAction") for email in attendees)]
        uid = "added" + secrets.token_hex(6)
        calendar.remote[uid] = Meeting(
            uid=uid,
            title=title,
            start=start,
            end=start + timedelta(minutes=minutes),
            organizer=owner,
            attendees=people,
            link=link,
            created=now,
            updated=now,
        )
        return uid, self._sync_if_connected(calendar)

    def revoke_token(self, calendar_id: str, *, sync: bool = True) -> SyncResult | None:
        """The owner revokes Debrief's access at Google or Microsoft; the next sync fails to
        authenticate (disconnected, ``calendar.state_change``)."""
        calendar = self._calendar(calendar_id)
        self.revoked_tokens.add(calendar.refresh_token)
        return self.sync(calendar_id) if sync else None

    def reconnect(self, calendar_id: str) -> SyncResult:
        """The owner consents again and the calendar is PATCHed with the new refresh token
        (what ``/debrief calendar connect`` does through the OAuth stand-in); it syncs."""
        calendar = self._calendar(calendar_id)
        calendar.refresh_token = "sandbox-refresh-" + secrets.token_hex(8)
        calendar.updated_at = self._now()
        return self.sync(calendar_id)

    def _owner(self, calendar: _Calendar) -> Person:
        """Whose calendar it is: the metadata's ``email``, else the sandbox person behind its
        ``slack_user_id`` (``U0ADA`` → ``ada@example.com``), else Ada."""
        meta = calendar.metadata or {}
        email = meta.get("email")
        if not isinstance(email, str) or "@" not in email:
            user = meta.get("slack_user_id")
            email = _DEFAULT_OWNER
            if isinstance(user, str) and user.startswith("U0") and len(user) > 2:
                candidate = f"{user[2:].lower()}@example.com"
                email = candidate if candidate in PEOPLE else _DEFAULT_OWNER
        return Person(email.lower(), PEOPLE.get(email.lower()), "accepted")

    # --- HTTP -------------------------------------------------------------------------------

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        """Mounted by the stand-in before its catch-all (there is no ``/calendar_events/{id}``)."""
        router.add_post("/api/v1/calendars", self._create)
        router.add_get("/api/v1/calendars", self._list)
        router.add_get("/api/v1/calendars/{calendar_id}", self._retrieve)
        router.add_patch("/api/v1/calendars/{calendar_id}", self._patch)
        router.add_delete("/api/v1/calendars/{calendar_id}", self._delete)
        router.add_get("/api/v1/calendar_events", self._list_events)
        router.add_post("/_sandbox/attendee/calendars/{calendar_id}/{action}", self._control)
        router.add_post("/_sandbox/attendee/calendar_events/{event_id}/{action}", self._control)

    async def _body(self, request: web.Request) -> dict[str, Any] | web.Response:
        return await self.host.json_body(request)

    @staticmethod
    def _char_errors(
        payload: dict[str, Any], names: Iterable[str], required: Iterable[str]
    ) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        empty = {
            "client_id": "Client ID cannot be empty",
            "client_secret": "Client secret cannot be empty",
            "refresh_token": "Refresh token cannot be empty",
            "deduplication_key": "Deduplication key cannot be empty",
        }
        must = set(required)
        for name in names:
            if name == "metadata":
                problem = _metadata_error(payload.get("metadata"))
                if problem:
                    errors[name] = [problem]
                continue
            if name not in payload:
                if name in must:
                    errors[name] = ["This field is required."]
                continue
            value = payload[name]
            if value is None:
                if name in must or name in ("client_secret", "refresh_token"):
                    errors[name] = ["This field may not be null."]
                continue
            if name == "platform":
                if value not in _PLATFORMS:
                    errors[name] = [f'"{value}" is not a valid choice.']
                continue
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                errors[name] = ["Not a valid string."]
            elif not str(value).strip():
                errors[name] = (
                    [empty[name]]
                    if name == "deduplication_key"
                    else ["This field may not be blank."]
                )
        return errors

    @staticmethod
    def _unexpected(payload: dict[str, Any], allowed: Iterable[str]) -> web.Response | None:
        names = sorted(allowed)
        unexpected = sorted(set(payload) - set(names))
        if not unexpected:
            return None
        message = (
            f"Unexpected field(s): {', '.join(unexpected)}. Allowed fields are: {', '.join(names)}"
        )
        return web.json_response({"non_field_errors": [message]}, status=400)

    async def _create(self, request: web.Request) -> web.Response:
        payload = await self._body(request)
        if isinstance(payload, web.Response):
            return payload
        errors = self._char_errors(payload, _CREATE_FIELDS, _REQUIRED_CREATE)
        if errors:
            return web.json_response(errors, status=400)
        refusal = self._unexpected(payload, _CREATE_FIELDS)
        if refusal is not None:
            return refusal
        key = payload.get("deduplication_key")
        if key is not None and any(c.deduplication_key == key for c in self.calendars.values()):
            return web.json_response(
                {
                    "deduplication_key": [
                        "A calendar with this deduplication key already exists in this project."
                    ]
                },
                status=400,
            )
        now = self._now()
        self._seq += 1
        calendar = _Calendar(
            id=_new_id("cal_", self.calendars),
            seq=self._seq,
            platform=payload["platform"],
            client_id=str(payload["client_id"]).strip(),
            client_secret=str(payload["client_secret"]).strip(),
            refresh_token=str(payload["refresh_token"]).strip(),
            platform_uuid=payload.get("platform_uuid"),
            metadata=payload.get("metadata"),
            deduplication_key=key,
            created_at=now,
            updated_at=now,
        )
        owner = self._owner(calendar)
        for meeting in self.week(now, owner.email, owner.name):
            calendar.remote[meeting.uid] = meeting
        self.calendars[calendar.id] = calendar
        self._sync_soon(calendar.id)
        return web.json_response(calendar.to_api(as_sent=True), status=201)

    async def _found(self, request: web.Request) -> _Calendar | web.Response:
        refusal = self.host._unauthorised(request)
        if refusal is not None:
            return refusal
        calendar = self.calendars.get(request.match_info["calendar_id"])
        return calendar if calendar is not None else _error("Calendar not found", 404)

    async def _retrieve(self, request: web.Request) -> web.Response:
        calendar = await self._found(request)
        if isinstance(calendar, web.Response):
            return calendar
        return web.json_response(calendar.to_api())

    async def _patch(self, request: web.Request) -> web.Response:
        calendar = await self._found(request)
        if isinstance(calendar, web.Response):
            return calendar
        payload = await self._body(request)
        if isinstance(payload, web.Response):
            return payload
        errors = self._char_errors(payload, _PATCH_FIELDS, ())
        if errors:
            return web.json_response(errors, status=400)
        refusal = self._unexpected(payload, _PATCH_FIELDS)
        if refusal is not None:
            return refusal
        if "metadata" in payload:
            calendar.metadata = payload["metadata"]
        for name in ("client_secret", "refresh_token"):
            if payload.get(name) is not None:
                setattr(calendar, name, str(payload[name]).strip())
        calendar.updated_at = self._now()
        self._sync_soon(calendar.id)  # the state stays as it is until that sync
        return web.json_response(calendar.to_api(as_sent="metadata" in payload))

    async def _delete(self, request: web.Request) -> web.Response:
        calendar = await self._found(request)
        if isinstance(calendar, web.Response):
            return calendar
        self._delete_scheduled_bots(calendar)
        del self.calendars[calendar.id]
        return web.Response(status=200)

    async def _list(self, request: web.Request) -> web.Response:
        refusal = self.host._unauthorised(request)
        if refusal is not None:
            return refusal
        found = sorted(self.calendars.values(), key=lambda c: (c.created_at, c.seq), reverse=True)
        key = request.query.get("deduplication_key")
        if key is not None:
            found = [c for c in found if c.deduplication_key == key]
        return self._page(request, [c.to_api() for c in found], CALENDARS_PAGE)

    async def _list_events(self, request: web.Request) -> web.Response:
        refusal = self.host._unauthorised(request)
        if refusal is not None:
            return refusal
        query = request.query
        found = [(c, e) for c in self.calendars.values() for e in c.events.values()]
        if query.get("calendar_id") is not None:
            found = [(c, e) for c, e in found if c.id == query["calendar_id"]]
        if query.get("calendar_deduplication_key") is not None:
            key = query["calendar_deduplication_key"]
            found = [(c, e) for c, e in found if c.deduplication_key == key]
        bounds: dict[str, datetime] = {}
        given = {
            "updated_at_gte": query.get("updated_at_gte") or query.get("updated_after"),
            "start_time_gte": query.get("start_time_gte"),
            "end_time_lte": query.get("end_time_lte"),
        }
        for name, text in given.items():
            if text is None:
                continue
            moment = _parse_datetime(text)
            if moment is None:
                return _error(_BAD_TIME.format(name=name, example=_EXAMPLES[name]))
            bounds[name] = moment
        events = [e for _, e in found]
        if "updated_at_gte" in bounds:
            events = [e for e in events if e.updated_at >= bounds["updated_at_gte"]]
        if query.get("event_id") is not None:
            events = [e for e in events if e.id == query["event_id"]]
        if "start_time_gte" in bounds:
            events = [e for e in events if e.start_time >= bounds["start_time_gte"]]
        if "end_time_lte" in bounds:
            events = [e for e in events if e.end_time <= bounds["end_time_lte"]]
        ordering = query.get("ordering", "-updated_at")
        if ordering not in ORDERINGS:
            return _error(f"Invalid ordering. Allowed values: {', '.join(ORDERINGS)}")
        name = ordering.lstrip("-")
        events.sort(key=lambda e: (getattr(e, name), e.seq), reverse=ordering.startswith("-"))
        return self._page(request, [self._event_api(e) for e in events], EVENTS_PAGE)

    def _page(self, request: web.Request, items: list[dict[str, Any]], size: int) -> web.Response:
        """A cursor page as DRF's ``CursorPagination`` answers it (``next``/``previous`` links)."""
        start = 0
        if request.query.get("cursor"):
            try:
                reverse, offset = _decode_offset(request.query["cursor"])
            except ValueError:
                return web.json_response({"detail": "Invalid cursor"}, status=404)
            start = max(0, offset - size) if reverse else offset
        page = items[start : start + size]
        later = start + size < len(items)
        return web.json_response(
            {
                "next": self.host._page_url(request, _encode_offset(False, start + size))
                if later
                else None,
                "previous": self.host._page_url(request, _encode_offset(True, start))
                if start > 0
                else None,
                "results": page,
            }
        )

    # --- control endpoints (for the sandbox page's Attendee panel) ----------------------------

    def control_state(self) -> list[dict[str, Any]]:
        """Calendars with their events, for the panel: newest calendar first; ``external``
        lists the addresses outside the owner's domain."""
        found = sorted(self.calendars.values(), key=lambda c: c.seq, reverse=True)
        return [
            {
                **c.to_api(),
                "token_revoked": c.refresh_token in self.revoked_tokens,
                "events": [
                    {
                        "id": e["id"],
                        "name": e["name"],
                        "start_time": e["start_time"],
                        "end_time": e["end_time"],
                        "meeting_url": e["meeting_url"],
                        "is_deleted": e["is_deleted"],
                        "external": sorted(
                            a["email"]
                            for a in e["attendees"]
                            if a.get("email")
                            and not str(a["email"]).endswith(self._owner_domain(c))
                        ),
                        "bots": [{"id": b["id"], "state": b["state"]} for b in e["bots"]],
                    }
                    for e in self.events(c.id)
                ],
            }
            for c in found
        ]

    def _owner_domain(self, calendar: _Calendar) -> str:
        return "@" + self._owner(calendar).email.split("@", 1)[-1]

    async def _control(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        body = await request.read()
        try:
            options = json.loads(body or b"{}")
        except ValueError:
            options = {}
        options = options if isinstance(options, dict) else {}
        calendar_id = request.match_info.get("calendar_id")
        event_id = request.match_info.get("event_id")
        actions: dict[str, Callable[[], Any]] = {}
        if calendar_id is not None:
            actions = {
                "sync": lambda: self.sync(calendar_id),
                "revoke": lambda: self.revoke_token(calendar_id),
                "reconnect": lambda: self.reconnect(calendar_id),
                "add_event": lambda: self.add_event(
                    calendar_id,
                    title=str(options.get("title") or "Quick sync"),
                    minutes=int(options.get("minutes") or 30),
                )[1],
            }
        elif event_id is not None:
            actions = {
                "move": lambda: self.move_event(event_id, int(options.get("minutes") or 30)),
                "cancel": lambda: self.cancel_event(event_id),
                "delete": lambda: self.delete_event(event_id),
            }
        if action not in actions:
            return _error(f"unknown action {action}", 404)
        try:
            result = actions[action]()
        except LookupError as exc:
            return _error(str(exc), 404)
        except (TypeError, ValueError) as exc:
            return _error(str(exc))
        return web.json_response(
            {"sync": result.as_dict() if isinstance(result, SyncResult) else None}
        )
