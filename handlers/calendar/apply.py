"""Making Attendee and Slack match what Debrief decided for one calendar event.

A scheduled event has one notetaker request (an ``attendee_bots`` row with
``calendar_event_id``), so the Attendee webhooks, the status message and the digest follow it
like any notetaker. Exactly one per event, whoever races: the request's ``open_key`` is the
event's dedup key (unique while under way), and Attendee refuses a second unfinished bot with
that ``deduplication_key`` (then the one it has is adopted when it is ours). Attendee moves or
deletes an event's scheduled bot itself; Debrief only records it.
"""

from __future__ import annotations

import contextlib
import logging

from sqlalchemy import update

from bot.services import Services
from bot.store.db import transaction, write
from bot.store.models import utcnow
from handlers.attendee import repo as bots
from handlers.attendee.jobs import refresh_status, stop_bot
from handlers.attendee.settings import attendee_settings
from handlers.attendee.states import CANCELLED, REFUSED, REQUESTED
from handlers.attendee.tables import AttendeeBot
from handlers.calendar import repo
from handlers.calendar.policy import PAST, Verdict, decide
from handlers.calendar.policy import REFUSED as REFUSED_DECISION
from handlers.calendar.settings import calendar_settings
from handlers.calendar.tables import CalendarEventRecord, CalendarLink
from handlers.routing import internal_domains
from providers.attendee import (
    PENDING_STATES,
    TERMINAL_STATES,
    AttendeeClient,
    Bot,
    BotChatMessage,
    CreateBot,
    DuplicateBot,
)
from providers.attendee.calendars import CalendarEvent
from providers.errors import BadRequest, NotFound

log = logging.getLogger(__name__)

#: A request in one of these states is over: a new one may be made for the event.
OVER = frozenset({*TERMINAL_STATES, CANCELLED, REFUSED, "duplicate"})
#: A request in one of these states may still be called off (it has not joined).
WAITING = frozenset({*PENDING_STATES, REQUESTED})


async def owner_email(services: Services, user_id: str) -> str | None:
    """The owner's Slack email (``users:read.email``), lower case; None when Slack has none."""
    person = await services.slack.people.get(user_id)
    email = person.profile.get("email") or person.user.get("email")
    return str(email).strip().lower() if email else None


async def apply_event(services: Services, event_id: str) -> Verdict | None:
    """Re-decide one event from Attendee's current version and act on it; None when Debrief
    does not follow it (any more)."""
    record = await repo.get_event(services.sessions, event_id)
    if record is None:
        return None
    link = await repo.get_link(services.sessions, record.calendar_id)
    if link is None:
        return None
    attendee = services.require(AttendeeClient)
    event = await attendee.calendars.get_event(event_id)
    now = services.clock()
    if event is not None:
        async with transaction(services.sessions) as session:
            await repo.store_event(session, event, link.user_id, now)
        record = await repo.get_event(services.sessions, event_id) or record
    policy = await repo.get_policy(services.sessions, link.user_id)
    email = await owner_email(services, link.user_id) if policy.scope != "all" else None
    wanted = policy.scope in ("internal", "external")
    internal = await internal_domains(services) if wanted else frozenset[str]()
    verdict = decide(
        event, policy, now=now, owner_email=email, internal=internal, choice=record.owner_choice
    )
    request = await bots.get(services.sessions, record.bot_request_id or "")
    live = request is not None and request.state not in OVER
    if verdict.schedules and event is not None:
        if live and request is not None and request.bot_id is not None:
            await follow_move(services, request, event)
            await repo.decide(services.sessions, event_id, verdict.decision, verdict.reason)
            return verdict
        return await schedule(services, record, link, event, verdict)
    if verdict.decision == PAST and live:
        return verdict  # its notetaker is in (or past) the meeting: nothing to call off
    if live and request is not None:
        # A cancelled or deleted event's bot is deleted by Attendee itself.
        await call_off(services, request, verdict, deleted=verdict.decision == "cancelled")
    await repo.decide(services.sessions, event_id, verdict.decision, verdict.reason)
    return verdict


async def schedule(
    services: Services,
    record: CalendarEventRecord,
    link: CalendarLink,
    event: CalendarEvent,
    verdict: Verdict,
) -> Verdict:
    """Ask Attendee for the event's notetaker, reporting in the owner's DM."""
    channel = await services.slack.open_dm(link.user_id)
    row = bots.new_request(
        team_id=link.team_id,
        channel_id=channel,
        user_id=link.user_id,
        meeting_url=event.meeting_url or "",
        dedup_key=record.dedup_key,
        join_at=event.start_time,
    )
    row.calendar_event_id = event.id
    async with transaction(services.sessions) as session:
        row = await bots.add_request(session, row) or row
    await repo.decide(
        services.sessions, event.id, verdict.decision, verdict.reason, bot_request_id=row.id
    )
    if row.bot_id is not None:
        await refresh_status(services, row.id)
        return verdict
    await refresh_status(services, row.id)
    try:
        bot = await create(services, row, link, event)
    except BadRequest as exc:
        await bots.apply_state(services.sessions, row.id, REFUSED, None, exc.message)
        await refresh_status(services, row.id)
        reason = f"Attendee refused its notetaker: {exc.message}"
        await repo.decide(services.sessions, event.id, REFUSED_DECISION, reason)
        return Verdict(REFUSED_DECISION, reason)
    await bots.attach_bot(services.sessions, row.id, bot.id)
    last = bot.last_event
    at = last.created_at if last else services.clock()
    join_at = bot.join_at or event.start_time
    await bots.apply_state(services.sessions, row.id, str(bot.state), at, join_at=join_at)
    await refresh_status(services, row.id)
    return verdict


async def create(
    services: Services, row: AttendeeBot, link: CalendarLink, event: CalendarEvent
) -> Bot:
    """The bot at Attendee: made now, or the one an earlier attempt (of any process) made.

    Raises:
        BadRequest: Attendee refused (a past event, no link, the key held by someone else's).
    """
    attendee = services.require(AttendeeClient)
    settings = services.settings
    bot_name = attendee_settings(settings).attendee_bot_name
    chat = None
    announcement = calendar_settings(settings).calendar_announcement
    if announcement:
        owner = (await services.slack.people.get(link.user_id)).label()
        text = announcement.replace("{bot_name}", bot_name).replace("{owner}", owner)
        chat = BotChatMessage(message=text, to="everyone")
    request = CreateBot(
        calendar_event_id=event.id,
        bot_name=bot_name,
        deduplication_key=row.dedup_key,
        metadata={
            "slack_team_id": link.team_id,
            "slack_user_id": link.user_id,
            "debrief_request_id": row.id,
            "calendar_event_id": event.id,
        },
        bot_chat_message=chat,
    )
    try:
        return await attendee.create_bot(request)
    except DuplicateBot:
        existing = await attendee.find_active_bot(row.dedup_key)
        meta = (existing.metadata or {}) if existing is not None else {}
        ours = meta.get("calendar_event_id") == event.id and meta.get("slack_user_id") == (
            link.user_id
        )
        if existing is None or not ours:
            raise
        log.info("calendar event %s: adopting its notetaker %s", event.id, existing.id)
        return existing


async def follow_move(services: Services, request: AttendeeBot, event: CalendarEvent) -> None:
    """Attendee moved the bot with its event: record the new time and link, show them."""
    if request.join_at == event.start_time and request.meeting_url == event.meeting_url:
        return
    await write(
        services.sessions,
        update(AttendeeBot)
        .where(AttendeeBot.id == request.id)
        .values(join_at=event.start_time, meeting_url=event.meeting_url, updated_at=utcnow()),
    )
    await refresh_status(services, request.id)


async def call_off(
    services: Services, request: AttendeeBot, verdict: Verdict, *, deleted: bool
) -> None:
    """No notetaker for this event after all: delete the scheduled bot unless Attendee did."""
    if request.state not in WAITING:
        return  # already joining or in the meeting: the owner's Leave button is for that
    if not deleted and request.bot_id is not None:
        with contextlib.suppress(NotFound):  # a retry whose first attempt got through
            await stop_bot(services.require(AttendeeClient), request.bot_id, pending=True)
    # No time: Debrief's own final word, after whatever Attendee said last.
    await bots.apply_state(services.sessions, request.id, CANCELLED, None, verdict.reason)
    await refresh_status(services, request.id)


async def cancel_calendar_bots(
    services: Services, link: CalendarLink, reason: str, *, delete: bool
) -> int:
    """Call off the notetakers of the calendar's future events (Attendee deleted them when
    the calendar disconnected; ``delete`` for Debrief to do it, before forgetting it)."""
    called = 0
    for record in await repo.events_of_calendar(
        services.sessions, link.calendar_id, services.clock()
    ):
        request = await bots.get(services.sessions, record.bot_request_id or "")
        if request is None or request.state in OVER:
            continue
        await call_off(services, request, Verdict("cancelled", reason), deleted=not delete)
        await repo.decide(services.sessions, record.event_id, "cancelled", reason)
        called += 1
    return called
