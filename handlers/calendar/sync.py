"""Taking in what Attendee synced: whose calendar a delivery is about, the events changed since
the last look, and the calendar's state.

``calendar.events_update`` carries no events, so each one (and the periodic catch-up) asks for
``GET /calendar_events?calendar_id=…&updated_after=<events_cursor>``. Each changed event is
stored and its ``calendar.apply`` job enqueued in one transaction, keyed by the event's version,
so a retry, a replayed delivery or a second process enqueues nothing new; the cursor moves only
after that transaction committed.
"""

from __future__ import annotations

import logging

from bot.posting import PostKey
from bot.services import Services
from bot.store.db import transaction
from handlers.calendar import repo
from handlers.calendar.blocks import build_disconnected_dm
from handlers.calendar.kinds import JOB_APPLY, JOB_SYNC, ApplyEventJob, SyncCalendarJob
from handlers.calendar.tables import CalendarLink
from providers.attendee import AttendeeClient
from providers.attendee.calendars import Calendar, CalendarState
from providers.attendee.paging import iso
from providers.errors import NotFound

log = logging.getLogger(__name__)

PROVIDER = "calendar"


def apply_key(event_id: str, version: str) -> str:
    """The ``calendar.apply`` job of one version of one event: enqueued once, ever."""
    return f"{JOB_APPLY}:{event_id}:{version}"


async def adopt_calendar(
    services: Services, calendar_id: str
) -> tuple[CalendarLink | None, CalendarLink | None]:
    """The calendar as Attendee has it now, linked to its owner: (before, after) this look.

    A calendar is a Slack user's when its metadata names them, whoever made it; one Attendee
    no longer has is forgotten here too.
    """
    before = await repo.get_link(services.sessions, calendar_id)
    try:
        calendar = await services.require(AttendeeClient).calendars.get(calendar_id)
    except NotFound:
        if before is not None:
            await repo.forget_calendar(services.sessions, calendar_id)
        return before, None
    owner = calendar.owner()
    if owner is None and before is not None:
        owner = (before.team_id, before.user_id)
    if owner is None:
        log.info("calendar %s names no Slack owner in its metadata; ignoring it", calendar_id)
        return before, None
    after = await repo.link_calendar(
        services.sessions, calendar, team_id=owner[0], user_id=owner[1], now=services.clock()
    )
    return before, after


async def adopt_owned(services: Services, team_id: str, user_id: str) -> list[CalendarLink]:
    """Link every Attendee calendar whose metadata names this Slack user (``/debrief
    calendar``: an operator may have set it up in Attendee directly)."""
    found: list[Calendar] = []
    async for calendar in services.require(AttendeeClient).calendars.iter_calendars():
        if calendar.owner() == (team_id, user_id):
            found.append(calendar)
    known = {link.calendar_id for link in await repo.links_of(services.sessions, user_id)}
    for calendar in found:
        await repo.link_calendar(
            services.sessions, calendar, team_id=team_id, user_id=user_id, now=services.clock()
        )
        if calendar.id not in known:
            await services.queue.submit(JOB_SYNC, SyncCalendarJob(calendar_id=calendar.id))
    return await repo.links_of(services.sessions, user_id)


async def sync_events(services: Services, link: CalendarLink) -> int:
    """Store every event changed since ``events_cursor`` and enqueue applying each new
    version; the number of versions taken in."""
    calendars = services.require(AttendeeClient).calendars
    events = [
        event
        async for event in calendars.iter_events(
            calendar_id=link.calendar_id, updated_after=link.events_cursor
        )
    ]
    newest = link.events_cursor
    taken = 0
    now = services.clock()
    async with transaction(services.sessions) as session:
        for event in events:
            if event.updated_at is not None and (newest is None or event.updated_at > newest):
                newest = event.updated_at
            if not await repo.store_event(session, event, link.user_id, now):
                continue
            taken += 1
            version = iso(event.updated_at) if event.updated_at else "unversioned"
            await services.queue.enqueue(
                session,
                JOB_APPLY,
                ApplyEventJob(event_id=event.id),
                dedupe_key=apply_key(event.id, version),
            )
    if newest is not None:
        await repo.advance_cursor(services.sessions, link.calendar_id, newest)
    return taken


async def tell_disconnected(services: Services, link: CalendarLink, change: str) -> None:
    """DM the owner once per disconnection (``change`` names it: retries update that DM)."""
    channel = await services.slack.open_dm(link.user_id)
    text, blocks = build_disconnected_dm(link.platform, link.state_detail)
    key = PostKey(PROVIDER, f"{link.calendar_id}:disconnected:{change}", channel, "dm")
    await services.posts.upsert(key, text, blocks)


def is_disconnected(link: CalendarLink | None) -> bool:
    return link is not None and link.state == CalendarState.DISCONNECTED
