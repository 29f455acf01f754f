"""Attendee's calendar API: calendars it syncs from Google or Microsoft, and their events.

What Attendee does (from its code, recorded answers under ``tests/payloads/attendee/calendar/``):
it syncs each ``connected`` calendar about once a minute after a push from Google or Microsoft,
keeps events from a day ago to 28 days ahead, and sends ``calendar.events_update`` once per sync
that changed something; that webhook carries no events, so the receiver asks for
``GET /calendar_events?calendar_id=…&updated_after=…``. Cancelled events stay, with
``is_deleted: true``. A bot made with ``calendar_event_id`` takes the event's link and start, and
Attendee moves or deletes it (while still ``scheduled``) when the event changes. A calendar whose
token stops working turns ``disconnected`` (``calendar.state_change``) and its scheduled bots are
deleted; it is not synced again until its credentials are PATCHed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from providers.attendee.paging import cursor_params, iso
from providers.errors import BadRequest, ProviderResponseError
from providers.http import ProviderTransport

PROVIDER = "attendee"


class CalendarState(StrEnum):
    """The only two states Attendee has for a calendar."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class CalendarPlatform(StrEnum):
    GOOGLE = "google"
    MICROSOFT = "microsoft"


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Calendar(_Response):
    """A calendar Attendee syncs. ``metadata`` is the caller's: Debrief's carries
    ``slack_team_id`` and ``slack_user_id``, which make it that Slack user's calendar."""

    id: str
    platform: str
    state: str
    metadata: dict[str, Any] | None = None
    deduplication_key: str | None = None
    #: ``{"error", "timestamp"}`` after a sync failed to authenticate; None when connected.
    connection_failure_data: dict[str, Any] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_successful_sync_at: datetime | None = None
    last_attempted_sync_at: datetime | None = None

    @property
    def connected(self) -> bool:
        return self.state == CalendarState.CONNECTED

    @property
    def failure(self) -> str | None:
        """Why the calendar was disconnected, as Attendee recorded it."""
        data = self.connection_failure_data or {}
        error = data.get("error")
        return str(error) if error else None

    def owner(self) -> tuple[str, str] | None:
        """(Slack team id, Slack user id) from the metadata; None for someone else's calendar."""
        meta = self.metadata or {}
        team, user = meta.get("slack_team_id"), meta.get("slack_user_id")
        if isinstance(team, str) and team and isinstance(user, str) and user:
            return team, user
        return None


class Attendee(_Response):
    """Someone invited to an event, as Attendee lists them."""

    email: str | None = None
    name: str | None = None


class EventBot(_Response):
    id: str
    state: str | None = None


class CalendarEvent(_Response):
    """One event of a synced calendar (``raw`` is Google's or Microsoft's own event)."""

    id: str
    calendar_id: str
    platform_uuid: str | None = None
    meeting_url: str | None = None
    start_time: datetime
    end_time: datetime | None = None
    is_deleted: bool = False
    attendees: list[Attendee] = Field(default_factory=list)
    ical_uid: str | None = None
    name: str | None = None
    bots: list[EventBot] = Field(default_factory=list)
    raw: dict[str, Any] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def series(self) -> str | None:
        """What all occurrences of a recurring event share (Google's ``recurringEventId``,
        Microsoft's ``seriesMasterId``), else the event's own iCal UID."""
        raw = self.raw or {}
        for key in ("recurringEventId", "seriesMasterId"):
            value = raw.get(key)
            if isinstance(value, str) and value:
                return value
        return self.ical_uid or self.platform_uuid

    @property
    def organizer_email(self) -> str | None:
        """The organiser's address, from the platform's own event."""
        raw = self.raw or {}
        organizer = raw.get("organizer")
        if isinstance(organizer, dict):
            email = organizer.get("email")
            if not email and isinstance(organizer.get("emailAddress"), dict):
                email = organizer["emailAddress"].get("address")
            if isinstance(email, str) and email:
                return email.lower()
        return None

    def response_of(self, email: str) -> str | None:
        """How ``email`` answered the invitation: ``accepted``, ``declined``, ``tentative``,
        ``organizer`` or ``needsAction``/``none``; None when the event does not say."""
        raw = self.raw or {}
        wanted = email.strip().lower()
        if self.organizer_email == wanted:
            return "organizer"
        for person in raw.get("attendees") or []:
            if not isinstance(person, dict):
                continue
            address = person.get("email")
            answer = person.get("responseStatus")
            if isinstance(person.get("emailAddress"), dict):
                address = person["emailAddress"].get("address")
                status = person.get("status")
                answer = status.get("response") if isinstance(status, dict) else None
            if isinstance(address, str) and address.lower() == wanted:
                return str(answer) if answer else None
        return None

    def emails(self) -> list[str]:
        """Every invited address, in lower case, each once."""
        seen: dict[str, None] = {}
        for person in self.attendees:
            if person.email:
                seen.setdefault(person.email.strip().lower(), None)
        if self.organizer_email:
            seen.setdefault(self.organizer_email, None)
        return list(seen)


class CalendarPage(_Response):
    next: str | None = None
    previous: str | None = None
    results: list[Calendar] = Field(default_factory=list)


class EventPage(_Response):
    next: str | None = None
    previous: str | None = None
    results: list[CalendarEvent] = Field(default_factory=list)


class CreateCalendar(BaseModel):
    """``POST /calendars``: Attendee refuses unknown fields, so this has only its own."""

    model_config = ConfigDict(extra="forbid")

    platform: Literal["google", "microsoft"]
    client_id: str
    client_secret: str
    refresh_token: str
    deduplication_key: str | None = None
    metadata: dict[str, Any] | None = None
    #: Microsoft only: the tenant, when not ``common``.
    platform_uuid: str | None = None


class CalendarWebhook(_Response):
    """The envelope of ``calendar.events_update`` and ``calendar.state_change``: which calendar,
    and its state; never the events themselves."""

    idempotency_key: str
    calendar_id: str
    calendar_deduplication_key: str | None = None
    calendar_metadata: dict[str, Any] | None = None
    trigger: str
    data: dict[str, Any]

    @property
    def state(self) -> str | None:
        value = self.data.get("state")
        return str(value) if value else None

    @property
    def failure(self) -> str | None:
        failure = self.data.get("connection_failure_data")
        if isinstance(failure, dict) and failure.get("error"):
            return str(failure["error"])
        return None


class CalendarApi:
    """The calendar half of Attendee's API, on the same transport (and budget) as its bots."""

    def __init__(self, transport: ProviderTransport) -> None:
        self._transport = transport

    async def create(self, calendar: CreateCalendar) -> Calendar:
        """Register a calendar; Attendee syncs it at once.

        Raises:
            BadRequest: a ``deduplication_key`` in use, a missing field, an unknown platform.
        """
        data = await self._transport.json(
            "POST",
            "calendars",
            json=calendar.model_dump(exclude_none=True),
            idempotent=calendar.deduplication_key is not None,
        )
        return self._transport.parse(Calendar, data)

    async def get(self, calendar_id: str) -> Calendar:
        """Raises: NotFound when Attendee has no such calendar."""
        data = await self._transport.json("GET", f"calendars/{_segment(calendar_id)}")
        return self._transport.parse(Calendar, data)

    async def update(
        self,
        calendar_id: str,
        *,
        refresh_token: str | None = None,
        client_secret: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Calendar:
        """New credentials (this reconnects a disconnected calendar) or metadata."""
        body: dict[str, Any] = {}
        if refresh_token is not None:
            body["refresh_token"] = refresh_token
        if client_secret is not None:
            body["client_secret"] = client_secret
        if metadata is not None:
            body["metadata"] = metadata
        data = await self._transport.json(
            "PATCH", f"calendars/{_segment(calendar_id)}", json=body, idempotent=True
        )
        return self._transport.parse(Calendar, data)

    async def delete(self, calendar_id: str) -> None:
        """Remove a calendar, its events and its scheduled bots. Raises: NotFound."""
        await self._transport.request(
            "DELETE", f"calendars/{_segment(calendar_id)}", idempotent=True
        )

    async def iter_calendars(
        self, *, deduplication_key: str | None = None
    ) -> AsyncIterator[Calendar]:
        """Every calendar of the project (25 a page, newest first)."""
        params = [("deduplication_key", deduplication_key)] if deduplication_key else []
        async for item in self._pages("calendars", params, CalendarPage):
            yield item

    async def iter_events(
        self,
        *,
        calendar_id: str | None = None,
        updated_after: datetime | None = None,
        event_id: str | None = None,
        start_time_gte: datetime | None = None,
        end_time_lte: datetime | None = None,
        ordering: str = "start_time",
    ) -> AsyncIterator[CalendarEvent]:
        """The events that match, following cursor pages of 100.

        ``updated_after`` is what to ask after ``calendar.events_update``: events created,
        moved, changed or cancelled since then (cancelled ones with ``is_deleted``).
        """
        params: list[tuple[str, str]] = [("ordering", ordering)]
        if calendar_id:
            params.append(("calendar_id", calendar_id))
        if updated_after is not None:
            params.append(("updated_after", iso(updated_after)))
        if event_id:
            params.append(("event_id", event_id))
        if start_time_gte is not None:
            params.append(("start_time_gte", iso(start_time_gte)))
        if end_time_lte is not None:
            params.append(("end_time_lte", iso(end_time_lte)))
        async for item in self._pages("calendar_events", params, EventPage):
            yield item

    async def get_event(self, event_id: str) -> CalendarEvent | None:
        """One event by id (Attendee has no ``/calendar_events/{id}`` route: a filter it is)."""
        async for event in self.iter_events(event_id=event_id):
            return event
        return None

    async def _pages(
        self, path: str, params: list[tuple[str, str]], page_type: type[Any]
    ) -> AsyncIterator[Any]:
        seen: set[str] = set()
        data = await self._transport.json("GET", path, params=params)
        while True:
            page = self._transport.parse(page_type, data)
            for item in page.results:
                yield item
            if not page.next:
                return
            if page.next in seen:
                raise ProviderResponseError(PROVIDER, f"{path} paging went in a circle")
            seen.add(page.next)
            data = await self._transport.json("GET", path, params=cursor_params(page.next))


def _segment(identifier: str) -> str:
    if not identifier or "/" in identifier or identifier in (".", ".."):
        raise BadRequest(PROVIDER, f"not an Attendee id: {identifier!r}", status_code=400)
    return identifier
